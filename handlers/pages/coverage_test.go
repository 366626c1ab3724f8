package pages_test

import (
	"strings"
	"testing"

	"github.com/hue-cdt/cdt/internal/apptest"
)

func TestDashboardsShowTheFigures(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	f := e.NewFixture()
	e.LogSome(f.MemberTokA, f.VillageA, 6)
	e.Settle()
	e.RunCoverage(f.Admin)
	b := e.Browser()
	dash := b.Login("leader.a", apptest.Password)
	if dash.URL.Path != "/communes/"+f.CommuneA+"/dashboard" {
		t.Fatalf("landing: %s", dash.URL)
	}
	body := dash.Body
	for _, want := range []string{"2,4 %", "Tổ dân phố 1", "Lê Thị Cúc", "Nguyễn Văn An", "<svg class=\"chart wide\""} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	// Idle: the leader and the member of team A2 logged nothing; member A did.
	idle := dash.Doc.Find("h2:contains('Thành viên chưa hoạt động') + .table-wrap tbody tr")
	if idle.Length() != 2 || strings.Contains(idle.Text(), "Trần Thị Bình") {
		t.Fatalf("idle members: %d %q", idle.Length(), idle.Text())
	}
	b2 := e.Browser()
	prov := b2.Login("admin", apptest.AdminPassword)
	if prov.URL.Path != "/province" || prov.Doc.Find("tbody tr").Length() != 40 {
		t.Fatalf("province: %s, %d rows", prov.URL, prov.Doc.Find("tbody tr").Length())
	}
	first := prov.Doc.Find("tbody tr").First().Text()
	if !strings.Contains(first, "Phú Xuân") {
		t.Fatalf("the commune with the highest coverage is not first: %q", first)
	}
}
