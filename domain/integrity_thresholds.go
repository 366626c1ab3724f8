package domain

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// IntegrityThresholds are the limits past which the detectors flag records.
// The defaults were measured on generated data with planted patterns
// (BENCHMARKS.md, "Integrity: recall and false flags"); each can be changed
// with the environment variable CDT_INTEGRITY_<NAME> (IntegrityThresholdNames).
type IntegrityThresholds struct {
	// BURST_HOUSEHOLDS households helped by one member within BURST_WINDOW
	// (by occurred_at): faster than anyone can help a citizen. A member at
	// the desk of the public-service centre helps one every few minutes; two
	// services for one household count once; a record without a household
	// (consent refused) counts as one.
	BurstHouseholds int
	BurstWindow     time.Duration
	// HOUSEHOLD_MEMBERS distinct members of one commune logging one
	// household for one service on one day (a household calling two members
	// is common; three is not).
	HouseholdMembers int
	// HOUSEHOLD_COMMUNES distinct communes logging one household for one
	// service on one day.
	HouseholdCommunes int
	// CLOCK_SKEW: the phone's clock this far from the server's when it sent
	// a record (after the clock correction; cheap phones drift by minutes,
	// a clock set back to log "yesterday" is hours off).
	ClockSkew time.Duration
	// NIGHT_RECORDS records by one member between NIGHT_START and NIGHT_END
	// (hours in Huế; members do work in the evening, until about 21:30).
	NightStart, NightEnd int
	NightRecords         int
	// NOTE_RECORDS records of one member on one day with the same note of at
	// least NOTE_MIN_LEN characters (after folding case, accents' forms and
	// spacing). Short notes ("ok", "đã xong") repeat honestly.
	NoteRecords int
	NoteMinLen  int
	// A member is above the median on a day with at least
	// max(MEDIAN_MIN_RECORDS, MEDIAN_FACTOR × the median of the other team
	// members' records per active day over the MEDIAN_LOOKBACK days before,
	// MEDIAN_SELF_FACTOR × the member's own records per active day over the
	// same days before the last MEDIAN_WINDOW days); flagged when that holds
	// today and on MEDIAN_DAYS of the last MEDIAN_WINDOW days (today
	// included). The member's own rate keeps a zealous member, who always
	// logs much, from being flagged every day; it is left out for a member
	// with fewer than three active days before the window.
	MedianFactor     float64
	MedianSelfFactor float64
	MedianMinRecords int
	MedianDays       int
	MedianWindow     int
	MedianLookback   int
	// TRAINING_RECORDS records of a member within the hours of a training
	// they attended that day (one call answered at the break is honest).
	TrainingRecords int
}

// DefaultIntegrityThresholds are the measured defaults.
func DefaultIntegrityThresholds() IntegrityThresholds {
	return IntegrityThresholds{
		BurstHouseholds: 6, BurstWindow: 10 * time.Minute,
		HouseholdMembers:  3,
		HouseholdCommunes: 2,
		ClockSkew:         time.Hour,
		NightStart:        22, NightEnd: 5, NightRecords: 5,
		NoteRecords: 5, NoteMinLen: 12,
		MedianFactor: 5, MedianSelfFactor: 2.5, MedianMinRecords: 15, MedianDays: 2, MedianWindow: 7, MedianLookback: 28,
		TrainingRecords: 2,
	}
}

// IntegrityThresholdNames are the names of the thresholds, each read from
// CDT_INTEGRITY_<NAME>: counts are whole numbers, windows durations (10m,
// 1h), hours 0–23, the factor a decimal number.
var IntegrityThresholdNames = []string{"BURST_HOUSEHOLDS", "BURST_WINDOW", "HOUSEHOLD_MEMBERS", "HOUSEHOLD_COMMUNES",
	"CLOCK_SKEW", "NIGHT_START", "NIGHT_END", "NIGHT_RECORDS", "NOTE_RECORDS", "NOTE_MIN_LEN", "MEDIAN_FACTOR", "MEDIAN_SELF_FACTOR",
	"MEDIAN_MIN_RECORDS", "MEDIAN_DAYS", "MEDIAN_WINDOW", "MEDIAN_LOOKBACK", "TRAINING_RECORDS"}

// Set parses value into threshold name (one of IntegrityThresholdNames).
func (t *IntegrityThresholds) Set(name, value string) error {
	ints := map[string]*int{"BURST_HOUSEHOLDS": &t.BurstHouseholds, "HOUSEHOLD_MEMBERS": &t.HouseholdMembers,
		"HOUSEHOLD_COMMUNES": &t.HouseholdCommunes, "NIGHT_START": &t.NightStart, "NIGHT_END": &t.NightEnd,
		"NIGHT_RECORDS": &t.NightRecords, "NOTE_RECORDS": &t.NoteRecords, "NOTE_MIN_LEN": &t.NoteMinLen,
		"MEDIAN_MIN_RECORDS": &t.MedianMinRecords, "MEDIAN_DAYS": &t.MedianDays, "MEDIAN_WINDOW": &t.MedianWindow,
		"MEDIAN_LOOKBACK": &t.MedianLookback, "TRAINING_RECORDS": &t.TrainingRecords}
	durations := map[string]*time.Duration{"BURST_WINDOW": &t.BurstWindow, "CLOCK_SKEW": &t.ClockSkew}
	value = strings.TrimSpace(value)
	switch {
	case ints[name] != nil:
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("CDT_INTEGRITY_%s: want a whole number, got %q", name, value)
		}
		*ints[name] = n
	case durations[name] != nil:
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("CDT_INTEGRITY_%s: want a duration like 10m or 1h, got %q", name, value)
		}
		*durations[name] = d
	case name == "MEDIAN_FACTOR" || name == "MEDIAN_SELF_FACTOR":
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("CDT_INTEGRITY_%s: want a number like 5 or 4.5, got %q", name, value)
		}
		if name == "MEDIAN_FACTOR" {
			t.MedianFactor = f
		} else {
			t.MedianSelfFactor = f
		}
	default:
		return fmt.Errorf("CDT_INTEGRITY_%s: no such threshold", name)
	}
	return nil
}

// Validate checks every threshold is usable.
func (t IntegrityThresholds) Validate() error {
	var errs []error
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"BURST_HOUSEHOLDS", t.BurstHouseholds >= 2}, {"BURST_WINDOW", t.BurstWindow > 0},
		{"HOUSEHOLD_MEMBERS", t.HouseholdMembers >= 2}, {"HOUSEHOLD_COMMUNES", t.HouseholdCommunes >= 2},
		{"CLOCK_SKEW", t.ClockSkew > 0},
		{"NIGHT_START", t.NightStart >= 0 && t.NightStart <= 23}, {"NIGHT_END", t.NightEnd >= 0 && t.NightEnd <= 23 && t.NightEnd != t.NightStart},
		{"NIGHT_RECORDS", t.NightRecords >= 1}, {"NOTE_RECORDS", t.NoteRecords >= 2}, {"NOTE_MIN_LEN", t.NoteMinLen >= 1},
		{"MEDIAN_FACTOR", t.MedianFactor >= 1}, {"MEDIAN_SELF_FACTOR", t.MedianSelfFactor >= 0}, {"MEDIAN_MIN_RECORDS", t.MedianMinRecords >= 1},
		{"MEDIAN_WINDOW", t.MedianWindow >= 1}, {"MEDIAN_DAYS", t.MedianDays >= 1 && t.MedianDays <= t.MedianWindow},
		{"MEDIAN_LOOKBACK", t.MedianLookback >= 1}, {"TRAINING_RECORDS", t.TrainingRecords >= 1},
	} {
		if !c.ok {
			errs = append(errs, fmt.Errorf("CDT_INTEGRITY_%s is out of range", c.name))
		}
	}
	return errors.Join(errs...)
}
