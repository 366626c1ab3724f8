// Package sheets reads and writes spreadsheets, CSV and XLSX: sign-in sheets
// coming in, coverage and training lists going out. It is the only package
// that knows excelize, so the limits put on uploaded workbooks live in one
// place. Its errors are domain errors: an unreadable file is a validation
// error on "file", as a form would report it.
package sheets

import (
	"bytes"
	"encoding/csv"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/hue-cdt/cdt/domain"
)

// Read returns the cells of the first sheet of an uploaded CSV or XLSX file,
// line by line; name is the file's name, whose extension says which. A CSV may
// start with a byte order mark and have lines of any length.
func Read(name string, data []byte) ([][]string, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx":
		return readXLSX(data)
	case ".csv", ".txt":
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
		r.FieldsPerRecord = -1
		r.LazyQuotes = true
		records, err := r.ReadAll()
		if err != nil {
			return nil, domain.Invalid("file", "sheet_unreadable")
		}
		return records, nil
	}
	return nil, domain.Invalid("file", "sheet_type")
}

func readXLSX(data []byte) ([][]string, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, domain.Invalid("file", "sheet_unreadable")
	}
	defer f.Close()
	names := f.GetSheetList()
	if len(names) == 0 {
		return nil, domain.Invalid("file", "sheet_unreadable")
	}
	records, err := f.GetRows(names[0])
	if err != nil {
		return nil, domain.Invalid("file", "sheet_unreadable")
	}
	return records, nil
}
