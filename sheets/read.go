// Package sheets reads and writes spreadsheets, CSV and XLSX: sign-in sheets
// and registry imports coming in, coverage and training lists going out. It
// is the only package that knows excelize, so the limits put on uploaded
// workbooks live in one place: every upload is read through Each (or Read),
// which streams rows and refuses, quickly and in bounded memory, what would
// cost the server more than Limits allow — decompression bombs, entity
// expansion, huge shared-string tables, endless lines, files that are not
// what their name says. Its errors are domain errors: an unreadable or
// oversized file is a validation error on "file", as a form would report it,
// and a file longer than MaxBytes is domain.ErrTooLarge.
package sheets

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/hue-cdt/cdt/domain"
)

// Limits bound what reading one spreadsheet may cost. The defaults keep any
// upload under about 2 s and 50 MB of memory on the server (BENCHMARKS.md,
// "Uploads"), and are far above what a sign-in sheet or a commune's registry
// needs.
type Limits struct {
	MaxBytes   int64 // the file itself
	MaxRows    int   // rows below the header (the first row)
	MaxCols    int   // columns of a row
	MaxCell    int   // bytes of one cell
	MaxText    int   // bytes of all the cells kept, together
	MaxLine    int   // bytes of one line of a CSV
	MaxUnzip   int64 // XLSX: every part unzipped, together
	MaxShared  int64 // XLSX: the shared-strings table unzipped
	MaxPart    int64 // XLSX: any other part but worksheets, unzipped
	MaxEntries int   // XLSX: parts in the package
}

// DefaultLimits are the limits of an upload.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 5 << 20, MaxRows: 10_000, MaxCols: 64, MaxCell: 2_000, MaxText: 8 << 20, MaxLine: 64 << 10,
		MaxUnzip: 16 << 20, MaxShared: 4 << 20, MaxPart: 1 << 20, MaxEntries: 1_000}
}

// The rule codes of an unreadable file, on the field "file".
const (
	RuleType       = "sheet_type"       // not a CSV or XLSX file, whatever its name
	RuleUnreadable = "sheet_unreadable" // damaged, or XML that is not plain
	RuleTooLarge   = "sheet_too_large"  // unzips (or holds text) beyond the limits; Param: MB
	RuleRows       = "sheet_rows"       // more rows than MaxRows; Param: MaxRows
	RuleWide       = "sheet_wide"       // more columns than MaxCols; Param: MaxCols
	RuleCell       = "sheet_cell"       // a cell longer than MaxCell; Param: MaxCell
	RuleLine       = "sheet_line"       // a CSV line longer than MaxLine; Param: MaxLine
	fieldFile      = "file"
	zipMagic       = "PK\x03\x04"
	maxBlankFactor = 2 // empty rows beyond MaxRows that may be skipped
)

// Read returns the cells of the first sheet of an uploaded CSV or XLSX file
// within DefaultLimits, line by line (empty lines between rows of an XLSX
// are kept as empty rows, as the spreadsheet shows them); name is the file's
// name, whose extension says which kind it must be.
func Read(name string, data []byte) ([][]string, error) {
	return ReadLimited(name, bytes.NewReader(data), DefaultLimits())
}

// ReadLimited is Read within lim.
func ReadLimited(name string, r io.Reader, lim Limits) ([][]string, error) {
	var out [][]string
	err := Each(name, r, lim, func(line int, cells []string) error {
		for len(out) < line-1 {
			out = append(out, nil)
		}
		out = append(out, cells)
		return nil
	})
	return out, err
}

// Each streams the rows of the first sheet of a CSV or XLSX file, calling fn
// with each row that holds a value and its line number (1-based, as the
// spreadsheet shows it), and stops at the first error, fn's or a limit's.
func Each(name string, r io.Reader, lim Limits, fn func(line int, cells []string) error) error {
	rd := &reader{lim: lim, fn: fn}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx":
		return rd.xlsx(r)
	case ".csv", ".txt":
		return rd.csv(r)
	}
	return domain.Invalid(fieldFile, RuleType)
}

// reader applies the limits to the rows it hands on.
type reader struct {
	lim  Limits
	fn   func(int, []string) error
	rows int // rows handed on
	text int // bytes of the cells handed on
}

// row checks one row against the limits and hands it on when it holds a value.
func (rd *reader) row(line int, cells []string) error {
	if len(cells) > rd.lim.MaxCols {
		return domain.Invalid(fieldFile, RuleWide, rd.lim.MaxCols)
	}
	empty := true
	for _, c := range cells {
		if len(c) > rd.lim.MaxCell {
			return domain.Invalid(fieldFile, RuleCell, rd.lim.MaxCell)
		}
		if rd.text += len(c); rd.text > rd.lim.MaxText {
			return domain.Invalid(fieldFile, RuleTooLarge, rd.lim.MaxText>>20)
		}
		empty = empty && strings.TrimSpace(c) == ""
	}
	if empty {
		return nil
	}
	if rd.rows++; rd.rows > rd.lim.MaxRows+1 {
		return domain.Invalid(fieldFile, RuleRows, rd.lim.MaxRows)
	}
	return rd.fn(line, cells)
}

// readAll reads the whole file, at most MaxBytes (ErrTooLarge beyond).
func (rd *reader) readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, rd.lim.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > rd.lim.MaxBytes {
		return nil, domain.ErrTooLarge
	}
	return data, nil
}

// ---- CSV ----

// binaryMagic are the starts of files that are no CSV whatever their name.
var binaryMagic = []string{zipMagic, "\xd0\xcf\x11\xe0", "%PDF", "\x89PNG", "\xff\xd8\xff", "\x7fELF", "\x1f\x8b", "Rar!", "7z\xbc\xaf"}

func (rd *reader) csv(r io.Reader) error {
	br := bufio.NewReaderSize(io.LimitReader(r, rd.lim.MaxBytes+1), 64<<10)
	head, _ := br.Peek(8 << 10)
	for _, m := range binaryMagic {
		if bytes.HasPrefix(head, []byte(m)) {
			return domain.Invalid(fieldFile, RuleType)
		}
	}
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\ufeff")) {
		_, _ = br.Discard(3)
	}
	lines := &lineLimit{r: br, max: rd.lim.MaxLine, maxBytes: rd.lim.MaxBytes}
	cr := csv.NewReader(lines)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	for {
		rec, err := cr.Read()
		switch {
		case err == io.EOF:
			return nil
		case errors.Is(err, errLine):
			return domain.Invalid(fieldFile, RuleLine, rd.lim.MaxLine)
		case errors.Is(err, errBinary):
			return domain.Invalid(fieldFile, RuleType)
		case errors.Is(err, domain.ErrTooLarge):
			return err
		case err != nil:
			return domain.Invalid(fieldFile, RuleUnreadable)
		}
		line, _ := cr.FieldPos(0)
		if err := rd.row(line, rec); err != nil {
			return err
		}
	}
}

var (
	errLine   = errors.New("sheets: line too long")
	errBinary = errors.New("sheets: a NUL byte")
)

// lineLimit passes a CSV through, failing on a line longer than max bytes,
// on a NUL byte (a binary file), or past maxBytes.
type lineLimit struct {
	r        io.Reader
	max      int
	maxBytes int64
	line     int
	total    int64
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		switch b {
		case '\n':
			l.line = 0
		case 0:
			return 0, errBinary
		default:
			if l.line++; l.line > l.max {
				return 0, errLine
			}
		}
	}
	if l.total += int64(n); l.total > l.maxBytes {
		return 0, domain.ErrTooLarge
	}
	return n, err
}

// ---- XLSX ----

func (rd *reader) xlsx(r io.Reader) (err error) {
	defer func() {
		if p := recover(); p != nil { // a parser's bug is an unreadable file, not a dead server
			err = domain.Invalid(fieldFile, RuleUnreadable)
		}
	}()
	data, err := rd.readAll(r)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(data, []byte(zipMagic)) {
		return domain.Invalid(fieldFile, RuleType)
	}
	if err := rd.checkPackage(data); err != nil {
		return err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit: rd.lim.MaxUnzip, UnzipXMLSizeLimit: rd.lim.MaxPart, RawCellValue: true})
	if err != nil {
		return unreadable(err)
	}
	defer f.Close() // removes the temporary files of large worksheets
	names := f.GetSheetList()
	if len(names) == 0 {
		return domain.Invalid(fieldFile, RuleUnreadable)
	}
	rows, err := f.Rows(names[0])
	if err != nil {
		return unreadable(err)
	}
	defer rows.Close()
	for line := 1; rows.Next(); line++ {
		if line > maxBlankFactor*rd.lim.MaxRows+100 {
			return domain.Invalid(fieldFile, RuleRows, rd.lim.MaxRows)
		}
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return unreadable(err)
		}
		if err := rd.row(line, cells); err != nil {
			return err
		}
	}
	return unreadable(rows.Error())
}

// checkPackage refuses a package before excelize unzips it: too many parts,
// parts that unzip beyond the limits (the sizes a zip declares are enforced
// by archive/zip while reading).
func (rd *reader) checkPackage(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return domain.Invalid(fieldFile, RuleUnreadable)
	}
	if len(zr.File) > rd.lim.MaxEntries {
		return domain.Invalid(fieldFile, RuleUnreadable)
	}
	tooLarge := domain.Invalid(fieldFile, RuleTooLarge, rd.lim.MaxUnzip>>20)
	var total uint64
	for _, f := range zr.File {
		size := f.UncompressedSize64
		if total += size; total > uint64(rd.lim.MaxUnzip) {
			return tooLarge
		}
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		switch {
		case strings.HasPrefix(name, "xl/worksheets/"):
		case strings.HasSuffix(name, "sharedstrings.xml"):
			if size > uint64(rd.lim.MaxShared) {
				return tooLarge
			}
		case size > uint64(rd.lim.MaxPart):
			return tooLarge
		}
		if err := plainXML(f); err != nil {
			return err
		}
	}
	return nil
}

// plainXML refuses a part whose prolog declares a document type: OOXML
// forbids them (ECMA-376 part 2), and entity declarations are how XML
// expands a few bytes into gigabytes ("billion laughs").
func plainXML(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return domain.Invalid(fieldFile, RuleUnreadable)
	}
	defer rc.Close()
	head, _ := io.ReadAll(io.LimitReader(rc, 4<<10))
	if bytes.Contains(bytes.ToUpper(head), []byte("<!DOCTYPE")) || bytes.Contains(bytes.ToUpper(head), []byte("<!ENTITY")) {
		return domain.Invalid(fieldFile, RuleUnreadable)
	}
	return nil
}

// unreadable reports err as an unreadable file (nil for nil): broken zip,
// XML excelize cannot parse, or declarations such as entities.
func unreadable(err error) error {
	if err == nil {
		return nil
	}
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		return err
	}
	if strings.Contains(err.Error(), "unzip size") {
		return domain.Invalid(fieldFile, RuleTooLarge, 0)
	}
	return fmt.Errorf("%w", domain.Invalid(fieldFile, RuleUnreadable))
}
