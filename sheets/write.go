package sheets

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// ContentTypeXLSX is the media type of an XLSX workbook.
const ContentTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// WriteCSV writes head and rows as CSV in UTF-8 with a byte order mark, so
// that Excel shows Vietnamese correctly. Numbers with a fraction get one
// decimal.
func WriteCSV(w io.Writer, head []string, rows [][]any) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(head)
	for _, r := range rows {
		rec := make([]string, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case float64:
				rec[i] = strconv.FormatFloat(x, 'f', 1, 64)
			default:
				rec[i] = fmt.Sprint(x)
			}
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// Sheet is one worksheet of a workbook to write.
type Sheet struct {
	Name string
	Head []any
	Rows [][]any
	// Notice, when set, is the first row, above the head: what a reader of
	// the file must know before the data (it holds members' personal data).
	Notice string
	// Header makes the head bold and wrapped, and keeps it in view.
	Header bool
	Widths []Width
}

// Width is the width of columns From to To (letters), in characters.
type Width struct {
	From, To string
	Chars    float64
}

// WriteXLSX writes an XLSX workbook of sheets, in order.
func WriteXLSX(w io.Writer, sheets ...Sheet) error {
	f := excelize.NewFile()
	defer f.Close()
	for i, sh := range sheets {
		var err error
		if i == 0 {
			err = f.SetSheetName("Sheet1", sh.Name)
		} else {
			_, err = f.NewSheet(sh.Name)
		}
		if err != nil {
			return err
		}
		if err := writeSheet(f, sh); err != nil {
			return err
		}
	}
	_, err := f.WriteTo(w)
	return err
}

func writeSheet(f *excelize.File, sh Sheet) error {
	top := 1 // the head's row
	if sh.Notice != "" {
		if err := f.SetCellStr(sh.Name, "A1", sh.Notice); err != nil {
			return err
		}
		top = 2
	}
	headCell, _ := excelize.CoordinatesToCellName(1, top)
	if err := f.SetSheetRow(sh.Name, headCell, &sh.Head); err != nil {
		return err
	}
	if sh.Header {
		bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
		if err != nil {
			return err
		}
		end, _ := excelize.CoordinatesToCellName(len(sh.Head), top)
		_ = f.SetCellStyle(sh.Name, headCell, end, bold)
		first, _ := excelize.CoordinatesToCellName(1, top+1)
		_ = f.SetPanes(sh.Name, &excelize.Panes{Freeze: true, YSplit: top, TopLeftCell: first, ActivePane: "bottomLeft"})
	}
	for i, r := range sh.Rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+top+1)
		if err := f.SetSheetRow(sh.Name, cell, &r); err != nil {
			return err
		}
	}
	for _, wd := range sh.Widths {
		_ = f.SetColWidth(sh.Name, wd.From, wd.To, wd.Chars)
	}
	return nil
}
