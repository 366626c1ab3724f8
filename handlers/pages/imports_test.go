package pages_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/xuri/excelize/v2"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/apptest"
	"github.com/hue-cdt/cdt/sheets"
)

// uploadPage posts file to a page's multipart form, with the CSRF token of from.
func uploadPage(t *testing.T, b *apptest.Browser, from apptest.Page, path, name string, data []byte) apptest.Page {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	tok, _ := from.Doc.Find(`input[name="csrf_token"]`).First().Attr("value")
	_ = w.WriteField("csrf_token", tok)
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, b.Base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Origin", b.Base)
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return pageOf(t, resp)
}

func pageOf(t *testing.T, resp *http.Response) apptest.Page {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := apptest.Page{Status: resp.StatusCode, URL: resp.Request.URL, Body: string(raw)}
	var err error
	if p.Doc, err = goquery.NewDocumentFromReader(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTheTemplateImportsAsItIs downloads the template from the import page,
// checks its headers and example row, and imports it as the commune leader:
// the dry run lists the row, the button imports it, and a second upload
// finds it unchanged.
func TestTheTemplateImportsAsItIs(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	f := e.NewFixture()
	b := e.Browser()
	b.Login("leader.a", apptest.Password)
	form := b.Get("/imports/registry")
	if form.Status != 200 || form.Doc.Find(`label[for="file"]`).Length() != 1 || form.Doc.Find(`select#commune`).Length() != 0 {
		t.Fatalf("import page for a leader: %d", form.Status)
	}
	href, _ := form.Doc.Find(`a[href$="template.xlsx"]`).Attr("href")
	resp, err := b.Client.Get(b.Base + href)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != sheets.ContentTypeXLSX {
		t.Fatalf("template: %v %v", resp, err)
	}
	tpl, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	x, err := excelize.OpenReader(bytes.NewReader(tpl))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows(x.GetSheetList()[0])
	if len(rows) != 2 || rows[0][0] != "Xã/Phường" || rows[0][8] != "Năm sinh" || rows[1][3] != "Nguyễn Thị Lan" {
		t.Fatalf("template rows %q", rows)
	}
	for i, col := range domain.ImportColumns {
		if rows[0][i] != domain.ImportHeaders[col] {
			t.Errorf("column %d: %q, want %q", i, rows[0][i], domain.ImportHeaders[col])
		}
	}
	if guide, _ := x.GetRows(x.GetSheetList()[1]); len(guide) != len(domain.ImportColumns)+1 || strings.HasPrefix(guide[1][1], "!") {
		t.Fatalf("guide %q", guide)
	}
	x.Close()

	preview := uploadPage(t, b, form, "/imports/registry", "mau.xlsx", tpl)
	summary := preview.Doc.Find("#import-result p b").First().Text()
	if preview.Status != 200 || summary != "1 dòng: 1 thêm mới, 0 cập nhật, 0 không đổi, 0 lỗi." {
		t.Fatalf("preview: %d %q", preview.Status, summary)
	}
	if got := preview.Doc.Find("tr.import-create td").Eq(2).Text(); !strings.Contains(got, "Nguyễn Thị Lan") {
		t.Fatalf("preview row %q", got)
	}
	confirm := url.Values{}
	preview.Doc.Find(`#import-result form input[type=hidden]`).Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		v, _ := s.Attr("value")
		confirm.Set(n, v)
	})
	if e.Must(e.Get("/api/v1/members?commune="+f.CommuneA, f.Admin), 200)["total"].(float64) != 3 {
		t.Fatal("the preview wrote")
	}
	done := b.Submit(preview, "/imports/registry", confirm)
	if done.URL.Path != "/imports/registry" || !strings.Contains(done.Doc.Find(".flash").Text(), "Đã nhập 1 dòng") {
		t.Fatalf("after the import: %s %q", done.URL, done.Doc.Find(".flash").Text())
	}
	if e.Must(e.Get("/api/v1/members?commune="+f.CommuneA, f.Admin), 200)["total"].(float64) != 4 {
		t.Fatal("the member was not imported")
	}
	again := uploadPage(t, b, done, "/imports/registry", "mau.xlsx", tpl)
	if s := again.Doc.Find("#import-result p b").First().Text(); !strings.Contains(s, "1 không đổi") ||
		again.Doc.Find(`#import-result form`).Length() != 0 {
		t.Fatalf("second upload: %q", s)
	}
	bad := uploadPage(t, b, done, "/imports/registry", "anh.png", []byte("\x89PNG"))
	if bad.Status != 422 || !strings.Contains(bad.Doc.Find(".field-error").Text(), ".xlsx") {
		t.Fatalf("a picture: %d %q", bad.Status, bad.Doc.Find(".field-error").Text())
	}
}
