package handlers_test

import (
	"context"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/apptest"
)

// integrityFixture are a record, an open flag and an open verification in
// commune A (member A's) and in commune B (member B's), for the matrix.
type integrityFixture struct {
	recA, recB, flagA, flagB, verA, verB string
}

func newIntegrityFixture(e *apptest.Env, f apptest.Fixture) integrityFixture {
	e.T.Helper()
	ctx := context.Background()
	at := apptest.Start.Add(-2 * time.Hour)
	var x integrityFixture
	x.recA = e.Must(e.Post("/api/v1/assistance", f.MemberTokA, apptest.Record(f.VillageA, at, "0905000222")), 201)["id"].(string)
	x.recB = e.Must(e.Post("/api/v1/assistance", f.MemberTokB, apptest.Record(f.VillageB, at, "0905000333")), 201)["id"].(string)
	e.Settle()
	day := domain.DateOf(at)
	flag := func(commune, member, rec string) domain.Flag {
		return domain.Flag{ID: domain.FlagID(domain.FlagBurst, commune, day, member), Kind: domain.FlagBurst, CommuneCode: commune,
			MemberID: member, Day: day, RecordIDs: []string{rec}, Status: domain.FlagOpen, CreatedAt: at,
			Evidence: domain.Evidence{Records: 1, Threshold: 6, Peak: 7, WindowSeconds: 600, From: at, To: at}}
	}
	a, b := flag(f.CommuneA, f.MemberA, x.recA), flag(f.CommuneB, f.MemberB, x.recB)
	// One day's flags are saved together, as the job saves them.
	if err := e.App.Store.Integrity.SaveFlags(ctx, day, []domain.Flag{a, b}); err != nil {
		e.T.Fatal(err)
	}
	x.flagA, x.flagB = a.ID, b.ID
	x.verA = e.Must(e.Post("/api/v1/assistance/"+x.recA+"/verification", f.Admin, map[string]string{"reason": "Kiểm tra định kỳ"}), 201)["id"].(string)
	x.verB = e.Must(e.Post("/api/v1/assistance/"+x.recB+"/verification", f.Admin, map[string]string{"reason": "Kiểm tra định kỳ"}), 201)["id"].(string)
	return x
}
