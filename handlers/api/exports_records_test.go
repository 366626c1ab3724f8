package api_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/hue-cdt/cdt/internal/apptest"
)

// A commune leader exports the records of their commune for a date range,
// as CSV or XLSX: one row per record, newest first, Vietnamese headers (or
// English with ?lang=en), member names, no household data; another commune
// is out of reach.
func TestRecordExport(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	at := e.Clock.Now().Add(-48 * time.Hour)
	var ids []string
	for i := range 30 {
		tok := f.MemberTokA
		village := f.VillageA
		if i%3 == 0 {
			tok = f.MemberTokA2
		}
		rec := apptest.Record(village, at.Add(time.Duration(i)*time.Minute), fmt.Sprintf("09050%05d", i))
		m := e.Must(e.Post("/api/v1/assistance", tok, rec), 201)
		ids = append(ids, m["id"].(string))
	}
	e.Must(e.Post("/api/v1/assistance", f.MemberTokB, apptest.Record(f.VillageB, at, "0905999999")), 201)
	old := e.Must(e.Post("/api/v1/assistance", f.MemberTokA, apptest.Record(f.VillageA, at.Add(-20*24*time.Hour), "0905888888")), 201)
	e.Settle()
	from := at.Add(-time.Hour).Format(time.RFC3339)
	to := at.Add(time.Hour).Format(time.RFC3339)
	q := "?commune=" + f.CommuneA + "&from=" + from + "&to=" + to

	r := e.Get("/api/v1/exports/assistance.csv"+q, f.CommuneLeaderA)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", r.Status, r.Body)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "Mã bản ghi" || rows[0][10] != "Họ và tên thành viên" || len(rows) != 31 {
		t.Fatalf("%d rows, header %q", len(rows), rows[0])
	}
	for i, row := range rows[1:] {
		if row[0] != ids[29-i] { // newest first
			t.Fatalf("row %d is %s, want %s", i, row[0], ids[29-i])
		}
		if row[10] != "Trần Thị Bình" && row[10] != "Lê Thị Cúc" || row[12] != "Kích hoạt tài khoản định danh điện tử mức 2" {
			t.Fatalf("row %q", row)
		}
		if row[0] == old["id"] {
			t.Fatal("a record outside the range")
		}
	}
	for _, leak := range []string{"0905", "q5uZ"} {
		if bytes.Contains(r.Body, []byte(leak)) {
			t.Fatalf("the export holds %q", leak)
		}
	}

	r = e.Get("/api/v1/exports/assistance.xlsx"+q+"&lang=en", f.CommuneLeaderA)
	if r.Status != 200 {
		t.Fatalf("xlsx: %d %s", r.Status, r.Body)
	}
	x, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	sheet := x.GetSheetName(0)
	xrows, err := x.GetRows(sheet)
	if err != nil || sheet != "Records" || len(xrows) != 31 || xrows[0][0] != "Record ID" || xrows[1][0] != ids[29] {
		t.Fatalf("sheet %q, %d rows, %v", sheet, len(xrows), err)
	}

	// Scope: commune B's leader cannot export commune A, and gets only B by default.
	if r := e.Get("/api/v1/exports/assistance.csv"+q, f.CommuneLeaderB); r.Status != 403 {
		t.Fatalf("other commune: %d", r.Status)
	}
	r = e.Get("/api/v1/exports/assistance.csv?days=7", f.CommuneLeaderB)
	if rows, _ := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\ufeff")))).ReadAll(); r.Status != 200 || len(rows) != 2 {
		t.Fatalf("commune B: %d, %d rows", r.Status, len(rows))
	}
	// A member exports only their own records.
	r = e.Get("/api/v1/exports/assistance.csv?days=40", f.MemberTokA2)
	if rows, _ := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\ufeff")))).ReadAll(); r.Status != 200 || len(rows) != 11 {
		t.Fatalf("member A2: %d, %d rows", r.Status, len(rows))
	}
}
