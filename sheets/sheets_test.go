package sheets

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/hue-cdt/cdt/domain"
)

func TestWrittenSheetsReadBack(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteXLSX(&buf,
		Sheet{Name: "Xã phường", Head: []any{"Mã", "Tên"}, Rows: [][]any{{"19753", "Phú Xuân"}, {"20179", 12.5}}, Header: true,
			Widths: []Width{{"B", "B", 26}}},
		Sheet{Name: "Thôn", Head: []any{"Mã thôn"}, Rows: [][]any{{"19753-001"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := Read("cov.xlsx", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"Mã", "Tên"}, {"19753", "Phú Xuân"}, {"20179", "12.5"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("first sheet: %q", got)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if names := f.GetSheetList(); !reflect.DeepEqual(names, []string{"Xã phường", "Thôn"}) {
		t.Fatalf("sheets: %v", names)
	}
	if p, _ := f.GetPanes("Xã phường"); !p.Freeze {
		t.Error("the header of the first sheet is not kept in view")
	}
	if w, _ := f.GetColWidth("Xã phường", "B"); w != 26 {
		t.Errorf("column B: %v", w)
	}

	buf.Reset()
	if err := WriteCSV(&buf, []string{"Mã", "Tỷ lệ"}, [][]any{{"19753", 12.25}, {"20179", 3}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")) {
		t.Fatal("no byte order mark")
	}
	got, err = Read("cov.csv", buf.Bytes())
	if want := [][]string{{"Mã", "Tỷ lệ"}, {"19753", "12.2"}, {"20179", "3"}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("csv: %q %v", got, err)
	}
}

func TestUnreadableFilesAreInvalid(t *testing.T) {
	for name, tc := range map[string]struct {
		file string
		data []byte
		code string
	}{
		"a picture":      {"ds.png", []byte("\x89PNG"), "sheet_type"},
		"not a workbook": {"ds.xlsx", []byte("hello"), "sheet_type"},
		"a broken zip":   {"ds.xlsx", []byte("PK\x03\x04 and then nothing"), "sheet_unreadable"},
	} {
		_, err := Read(tc.file, tc.data)
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "file" || ve.Fields[0].Code != tc.code {
			t.Errorf("%s: %v, want file %s", name, err, tc.code)
		}
	}
}
