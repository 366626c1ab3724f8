package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
	"github.com/hue-cdt/cdt/jobs"
	"github.com/hue-cdt/cdt/refdata"
)

func (w *world) coverage(trained map[string]bool) *jobs.Coverage {
	return &jobs.Coverage{Units: refdata.Catalog(), Registry: w.db.Registry, Store: w.db.Coverage,
		Consolidator: w.consolidator(), Leases: w.db.Leases, Owner: "pTest", Now: w.clock,
		Log: slog.New(slog.DiscardHandler), AtHour: 1,
		Trained: func(context.Context) (map[string]bool, error) { return trained, nil }}
}

// recountCoverage computes API.md's figures straight from the records and the
// registry, the slow obvious way.
func recountCoverage(t *testing.T, w *world, commune string, d domain.Date, trained map[string]bool) domain.CoverageRow {
	t.Helper()
	cat := refdata.Catalog()
	reg, err := w.db.Registry.Registry(context.Background(), commune)
	if err != nil {
		t.Fatal(err)
	}
	from, to := d.AddDays(-29), d
	row := domain.CoverageRow{CommuneCode: commune, Date: d, ByService: map[string]int{}}
	activeMembers, activeTeams := map[string]bool{}, map[string]bool{}
	households := map[string]bool{}
	err = w.db.Assistance.ScanRecords(context.Background(), func(r domain.Record) error {
		vs := cat.Versions(r.CommuneCode)
		now, ok := cat.Current(r.CommuneCode, vs[len(vs)-1].ValidFrom, "2026-11-21")
		if !ok || now != commune || r.Day > d {
			return nil
		}
		row.AssistanceTotal++
		households[r.Household] = true
		if r.Day >= from && r.Day <= to {
			row.Assistance30d++
			row.ByService[r.Service]++
			activeMembers[r.MemberID], activeTeams[r.TeamID] = true, true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	row.HouseholdsReached = len(households)
	withTeam := map[string]bool{}
	for _, tm := range reg.Teams {
		if tm.Active {
			row.TeamsTotal++
			if activeTeams[tm.ID] {
				row.TeamsActive30d++
			}
			withTeam[tm.VillageCode] = true
		}
	}
	for _, m := range reg.Members {
		if m.Active {
			row.MembersTotal++
			if activeMembers[m.ID] {
				row.MembersActive30d++
			}
			if trained[m.ID] {
				row.MembersTrained++
			}
		}
	}
	for _, v := range reg.Villages {
		if v.Active {
			row.VillagesTotal++
			row.HouseholdsTotal += v.Households
			if withTeam[v.Code] {
				row.VillagesWithTeam++
			}
		}
	}
	if row.HouseholdsTotal > 0 {
		row.HouseholdCoverage = float64(row.HouseholdsReached) / float64(row.HouseholdsTotal)
	}
	return row
}

func compareRows(t *testing.T, label string, got, want domain.CoverageRow) {
	t.Helper()
	g, w := got, want
	g.Villages, g.ByOutcome, g.LateTotal = nil, nil, 0
	for s, n := range g.ByService {
		if n == 0 {
			delete(g.ByService, s)
		}
	}
	if math.Abs(g.HouseholdCoverage-w.HouseholdCoverage) < 1e-9 {
		g.HouseholdCoverage = w.HouseholdCoverage
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got  %+v\n want %+v", label, g, w)
	}
}

// TestCoverageEqualsARecount is the property test: random registries and
// records (some logged under a commune code that has since merged), the job,
// and every figure compared with a straightforward recount, for several days
// and seeds, incremental and full.
func TestCoverageEqualsARecount(t *testing.T) {
	for _, seed := range []uint64{11, 12, 13} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, testdb.Open(t), 2+int(seed%2))
			r := rand.New(rand.NewPCG(seed, seed))
			// Members leave, teams lose members: the registry is not pristine.
			for _, reg := range w.regs {
				_, err := w.db.Registry.UpdateRegistry(ctx, reg.Code, func(g *domain.CommuneRegistry) error {
					for i := range g.Members {
						if r.IntN(10) == 0 {
							g.Members[i].Active = false
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			svc := w.service("pP")
			w.logRandom(t, svc, r, 300+r.IntN(200))
			if err := svc.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			// Records imported from before the merger: Phường Tây Lộc (19750)
			// is part of Phú Xuân (19753) today.
			var old []domain.Record
			reg := w.regs[0]
			for i := range 25 {
				m := reg.Members[r.IntN(len(reg.Members))]
				at := now.Add(-time.Duration(r.IntN(40*24)) * time.Hour)
				old = append(old, domain.Record{ID: fmt.Sprintf("%s:old-%d", m.ID, i), MemberID: m.ID, TeamID: m.TeamID,
					CommuneCode: "19750", VillageCode: "19750-legacy", Service: "vneid_install",
					Household: svc.Hash(fmt.Sprintf("09059%05d", r.IntN(15))), OccurredAt: at, Day: domain.DateOf(at), RecordedAt: now,
					Outcome: "done", Delta: domain.DeltaID("import", 1)})
			}
			if _, err := w.db.Assistance.InsertRecords(ctx, old); err != nil {
				t.Fatal(err)
			}
			if err := w.db.Rollups.InsertDelta(ctx, domain.Delta{ID: domain.DeltaID("import", 1), Process: "import", Seq: 1, Records: old}); err != nil {
				t.Fatal(err)
			}
			trained := map[string]bool{}
			for _, g := range w.regs {
				for _, m := range g.Members {
					if r.IntN(3) == 0 {
						trained[m.ID] = true
					}
				}
			}
			job := w.coverage(trained)
			for _, full := range []bool{false, true} {
				for _, d := range []domain.Date{"2026-11-21", "2026-11-05", "2026-10-20"} {
					run, err := job.RunNow(ctx, jobs.RunOptions{Date: d, Full: full, Trigger: jobs.TriggerManual})
					if err != nil || run.Status != domain.RunSucceeded {
						t.Fatalf("run: %+v %v", run, err)
					}
					rows, err := w.db.Coverage.Day(ctx, d)
					if err != nil {
						t.Fatal(err)
					}
					if len(rows) != 40 {
						t.Fatalf("%d rows, want one per current commune", len(rows))
					}
					checked := 0
					for _, row := range rows {
						for _, g := range w.regs {
							if g.Code == row.CommuneCode {
								compareRows(t, fmt.Sprintf("full=%v %s %s", full, d, row.CommuneCode), row, recountCoverage(t, w, g.Code, d, trained))
								checked++
							}
						}
					}
					if checked != len(w.regs) {
						t.Fatalf("checked %d communes", checked)
					}
				}
			}
		})
	}
}

func TestCoverageLatestTrendAndHistory(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 2)
	r := rand.New(rand.NewPCG(5, 5))
	svc := w.service("pT")
	w.logRandom(t, svc, r, 200)
	if err := svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	job := w.coverage(nil)
	days := []domain.Date{"2026-11-18", "2026-11-19", "2026-11-21", "2026-11-20"} // the last one is older: latest stays
	for _, d := range days {
		if _, err := job.RunNow(ctx, jobs.RunOptions{Date: d, Trigger: jobs.TriggerManual}); err != nil {
			t.Fatal(err)
		}
	}
	code := w.regs[0].Code
	latest, err := w.db.Coverage.Latest(ctx, []string{code})
	if err != nil {
		t.Fatal(err)
	}
	l := latest[code]
	if l.Row.Date != "2026-11-21" || len(l.Trend) != 4 || l.Trend[0].Date != "2026-11-18" || l.Trend[3].Date != "2026-11-21" {
		t.Fatalf("latest %s, trend %+v", l.Row.Date, l.Trend)
	}
	hist, err := w.db.Coverage.History(ctx, code, "2026-11-19", "2026-11-21")
	if err != nil || len(hist) != 3 || hist[0].Date != "2026-11-19" {
		t.Fatalf("history: %d %v", len(hist), err)
	}
	runs, _ := w.db.Coverage.Runs(ctx, jobs.CoverageJob, 10)
	if len(runs) != 4 || runs[0].Status != domain.RunSucceeded || runs[0].Communes != 40 {
		t.Fatalf("runs: %+v", runs)
	}
}

func TestOverlappingRunsAreRefusedAndOrphansFailed(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 1)
	a, b := w.coverage(nil), w.coverage(nil)
	a.Owner, b.Owner = "pA", "pB"
	a.LeaseTTL, b.LeaseTTL = time.Second, time.Second
	run, err := a.Begin(ctx, jobs.RunOptions{Trigger: jobs.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Begin(ctx, jobs.RunOptions{Trigger: jobs.TriggerManual}); !errorsIs(err, domain.ErrJobRunning) {
		t.Fatalf("a second run while one is running: %v", err)
	}
	// pA dies here, its run recorded as running. Once its lease expires, pB
	// runs and marks pA's run failed.
	time.Sleep(1100 * time.Millisecond)
	got, err := b.RunNow(ctx, jobs.RunOptions{Trigger: jobs.TriggerManual})
	if err != nil || got.Status != domain.RunSucceeded {
		t.Fatalf("takeover: %+v %v", got, err)
	}
	runs, _ := w.db.Coverage.Runs(ctx, jobs.CoverageJob, 10)
	status := map[string]string{}
	for _, r := range runs {
		status[r.ID] = r.Status
	}
	if status[run.ID()] != domain.RunFailed || len(runs) != 2 {
		t.Fatalf("runs after takeover: %+v", runs)
	}
}

func TestNightlyRunsOncePerDay(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 1)
	job := w.coverage(nil)
	job.Now = func() time.Time { return time.Date(2026, 11, 21, 17, 30, 0, 0, time.UTC) } // 00:30 in Huế: not yet
	if ran, err := job.RunNightly(ctx, jobs.TriggerNightly, 1); ran || err != nil {
		t.Fatalf("before 01:00: ran=%v %v", ran, err)
	}
	job.Now = func() time.Time { return time.Date(2026, 11, 21, 18, 5, 0, 0, time.UTC) } // 01:05 on 22 Nov in Huế
	ran, err := job.RunNightly(ctx, jobs.TriggerNightly, 1)
	if !ran || err != nil {
		t.Fatalf("at 01:05: ran=%v %v", ran, err)
	}
	if ran, _ := job.RunNightly(ctx, jobs.TriggerCatchUp, 1); ran {
		t.Fatal("the catch-up ran the same night again")
	}
	runs, _ := w.db.Coverage.Runs(ctx, jobs.CoverageJob, 10)
	if len(runs) != 1 || runs[0].Date != "2026-11-21" {
		t.Fatalf("runs: %+v", runs)
	}
}

// A run stopped with its server is recorded as interrupted (failed, for
// API.md's statuses), and the next night check computes that day again.
func TestRunInterruptedByAStopIsRedone(t *testing.T) {
	w := newWorld(t, testdb.Open(t), 1)
	job := w.coverage(nil)
	job.Now = func() time.Time { return time.Date(2026, 11, 21, 18, 5, 0, 0, time.UTC) } // 01:05 on 22 Nov in Huế
	ctx, stop := context.WithCancel(context.Background())
	run, err := job.Begin(ctx, jobs.RunOptions{Date: "2026-11-21", Trigger: jobs.TriggerNightly})
	if err != nil {
		t.Fatal(err)
	}
	stop() // SIGTERM
	rec, err := run.Execute(ctx)
	if err == nil || rec.Status != domain.RunFailed || rec.Error != "interrupted: the server stopped" || !rec.Interrupted {
		t.Fatalf("interrupted run: %+v, %v", rec, err)
	}
	ran, err := job.RunNightly(context.Background(), jobs.TriggerCatchUp, 1)
	if !ran || err != nil {
		t.Fatalf("the day was not redone: ran=%v %v", ran, err)
	}
	runs, _ := w.db.Coverage.Runs(context.Background(), jobs.CoverageJob, 10)
	status := map[string]string{}
	for _, r := range runs {
		status[r.Trigger+" "+string(r.Date)] = r.Status
	}
	if len(runs) != 2 || status["nightly 2026-11-21"] != domain.RunFailed || status["catch-up 2026-11-21"] != domain.RunSucceeded {
		t.Fatalf("runs: %+v", runs)
	}
}

func errorsIs(err, target error) bool {
	for e := err; e != nil; {
		if e == target {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}
