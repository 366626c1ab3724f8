package app

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/jobs"
)

// DefaultRetentionYears is how long household hashes are kept unless
// CDT_RETENTION_YEARS says otherwise.
const DefaultRetentionYears = 5

// retentionFromEnv reads CDT_RETENTION_YEARS: whole years, 1 to 30.
func retentionFromEnv(getenv func(string) string, c *Config) error {
	v := getenv("CDT_RETENTION_YEARS")
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 30 {
		return fmt.Errorf("CDT_RETENTION_YEARS: want a number of years from 1 to 30, got %q", v)
	}
	c.RetentionYears = n
	return nil
}

// householdCare is what fulfils citizens' data requests and drops old
// hashes: the record care of the consolidated state (App.RecordCare).
func (a *App) householdCare() domain.RecordCare { return a.RecordCare() }

// hashDropper removes the household hashes of records older than a cutoff
// (domain.RecordCare.DropHouseholdsBefore).
type hashDropper interface {
	DropHouseholdsBefore(ctx context.Context, cutoff time.Time) (int, error)
}

// RetentionCutoff is the instant before which household hashes go: the
// start of the same calendar day, years ago, in Huế.
func RetentionCutoff(now time.Time, years int) time.Time {
	return domain.DateOf(now).Time().AddDate(-years, 0, 0)
}

// addRetention makes the clean-up drop the household hashes of records older
// than the retention period (CDT_RETENTION_YEARS): the records stay, as
// anonymous counts; the households stay counted as reached. The sweep reads
// every commune's list and scans the records, so it runs once a day (the
// cutoff moves by a day), not at every clean-up.
func (a *App) addRetention(c *jobs.Cleanup) {
	c.Add("household_hashes", retentionSweep(a.householdCare(), a.Cfg.RetentionYears))
}

func retentionSweep(d hashDropper, years int) jobs.Sweep {
	if years <= 0 {
		years = DefaultRetentionYears
	}
	var mu sync.Mutex
	var done domain.Date // the last day swept
	return func(ctx context.Context, now time.Time) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		if domain.DateOf(now) == done {
			return 0, nil
		}
		n, err := d.DropHouseholdsBefore(ctx, RetentionCutoff(now, years))
		if err == nil {
			done = domain.DateOf(now)
		}
		return n, err
	}
}
