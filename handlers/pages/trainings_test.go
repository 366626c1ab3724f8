package pages_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hue-cdt/cdt/internal/apptest"
)

func TestTrainingPages(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	f := e.NewFixture()
	b := e.Browser()
	b.Login("leader.a", apptest.Password)
	if p := b.Get("/trainings"); p.URL.Path != "/communes/"+f.CommuneA+"/trainings" {
		t.Fatalf("a commune leader's training page: %s", p.URL)
	}
	form := b.Get("/trainings/new")
	if n := form.Doc.Find(`select[name="unit_code"] option`).Length(); n != 1 {
		t.Fatalf("a commune leader may organise for %d units", n)
	}
	bad := b.Submit(form, "/trainings/new", url.Values{"title": {"Tập huấn Hue-S"}, "unit_code": {f.CommuneA},
		"starts_at": {"2026-11-12T08:00"}, "ends_at": {"2026-11-12T07:00"}})
	if bad.Status != 422 || bad.Doc.Find(".field-error").Length() < 2 { // no topic, ends before it starts
		t.Fatalf("invalid training form: %d", bad.Status)
	}
	page := b.Submit(form, "/trainings/new", url.Values{"title": {"Tập huấn Hue-S"}, "unit_code": {f.CommuneA},
		"topics": {"hue_s", "cyber_safety"}, "starts_at": {"2026-11-12T08:00"}, "ends_at": {"2026-11-12T11:00"}, "location": {"Nhà văn hóa TDP 1"}})
	if page.Status != 200 || !strings.HasPrefix(page.URL.Path, "/trainings/TR") {
		t.Fatalf("created: %d %s", page.Status, page.URL)
	}
	path := page.URL.Path
	found := b.Get(path + "?q=binh")
	if found.Doc.Find(`input[name="member_id"]`).Length() != 1 {
		t.Fatalf("search for “binh” found %d", found.Doc.Find(`input[name="member_id"]`).Length())
	}
	marked := b.Submit(found, path+"/attend", url.Values{"member_id": {f.MemberA}})
	if marked.Status != 200 || !strings.Contains(marked.Body, "Trần Thị Bình") || marked.Doc.Find(".flash").Length() == 0 {
		t.Fatalf("after marking: %d", marked.Status)
	}
	// Upload a sheet: preview, then confirm.
	ct, body := apptest.MultipartSheet("ds.csv", []byte("Họ và tên\nNguyễn Văn An\nAi Đó\n"), true)
	tok, _ := marked.Doc.Find(`input[name="csrf_token"]`).First().Attr("value")
	req, _ := http.NewRequest("POST", b.Base+path+"/sheet", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-CSRF-Token", tok)
	req.Header.Set("Origin", b.Base)
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	preview, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(preview), "Khớp 1 · chưa rõ 0 · không tìm thấy 1") {
		t.Fatalf("preview: %d", resp.StatusCode)
	}
	if got := e.Must(e.Get("/api/v1/trainings/"+strings.TrimPrefix(path, "/trainings/"), f.Admin), 200); got["attendance"].(float64) != 1 {
		t.Fatalf("the preview wrote attendance: %v", got["attendance"])
	}
	confirm := b.Submit(apptest.Page{Doc: marked.Doc}, path+"/attend", url.Values{"member_id": {f.LeaderA}, "source": {"sheet"}})
	if !strings.Contains(confirm.Body, "Nguyễn Văn An") {
		t.Fatal("the confirmed member is not listed")
	}
	prog := b.Get("/communes/" + f.CommuneA + "/trainings")
	if !strings.Contains(prog.Body, "1 / 2") { // teams trained: A1 of A1, A2
		t.Fatalf("progress page does not show 1 / 2 teams trained")
	}
}
