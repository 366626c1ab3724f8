// Package sheetstest makes the hostile spreadsheets of issue 11 for tests:
// decompression bombs, entity expansion, huge shared strings, endless lines,
// wrong magic bytes. Every file is generated here, none is checked in.
package sheetstest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// File is one spreadsheet of the corpus.
type File struct {
	Case string // what it is
	Name string // the file name it is uploaded under
	Data []byte // its bytes, unless Open is set
	// Open streams a file too large to hold in memory (a CSV with a 100 MB
	// line); Size is its length.
	Open func() io.Reader
	Size int64
	// Want is the rule code of the validation error on "file" that reading it
	// must answer ("" for a good file, of Rows rows with a value); TooLarge:
	// larger than an upload may be.
	Want     string
	Rows     int
	TooLarge bool
}

// Reader returns the file's contents.
func (f File) Reader() io.Reader {
	if f.Open != nil {
		return f.Open()
	}
	return bytes.NewReader(f.Data)
}

// Length is the file's size in bytes.
func (f File) Length() int64 {
	if f.Open != nil {
		return f.Size
	}
	return int64(len(f.Data))
}

// Part is one member of an XLSX package, written by Write, compressed at
// flate's Level (BestSpeed when 0: the bombs are large).
type Part struct {
	Name  string
	Write func(io.Writer) error
	Level int
}

// Text is a part whose contents are s.
func Text(name, s string) Part {
	return Part{Name: name, Write: func(w io.Writer) error { _, err := io.WriteString(w, s); return err }}
}

// XLSX writes a workbook of one sheet, "Sheet1", from its worksheet part
// (xl/worksheets/sheet1.xml) and optional extra parts (a shared strings
// table): the smallest package excelize and Excel open.
func XLSX(sheet Part, extra ...Part) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	shared := ""
	for _, p := range extra {
		if p.Name == "xl/sharedStrings.xml" {
			shared = `<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>`
		}
	}
	parts := []Part{
		Text("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`+
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>`+
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`+
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`+shared+`</Types>`),
		Text("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`),
		Text("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" `+
			`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`),
		Text("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>`+
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`),
		sheet,
	}
	for _, p := range append(parts, extra...) {
		level := p.Level
		if level == 0 {
			level = flate.BestSpeed
		}
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, level) })
		w, err := zw.Create(p.Name)
		if err == nil {
			err = p.Write(w)
		}
		if err != nil {
			panic(fmt.Sprintf("sheetstest: %s: %v", p.Name, err)) // writing to memory
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

const sheetHead = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
const sheetTail = `</sheetData></worksheet>`

// Rows is a worksheet of n rows, row(i, w) writing the cells of row i
// (1-based) between <row> and </row>.
func Rows(n int, row func(i int, w io.Writer)) Part {
	return Part{Name: "xl/worksheets/sheet1.xml", Write: func(w io.Writer) error {
		bw := &errWriter{w: w}
		io.WriteString(bw, sheetHead)
		for i := 1; i <= n && bw.err == nil; i++ {
			fmt.Fprintf(bw, `<row r="%d">`, i)
			row(i, bw)
			io.WriteString(bw, `</row>`)
		}
		io.WriteString(bw, sheetTail)
		return bw.err
	}}
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// inline writes a cell of column col holding s as an inline string.
func inline(w io.Writer, col string, row int, s string) {
	fmt.Fprintf(w, `<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>`, col, row, s)
}

// Good is a small valid sign-in sheet.
func Good() File {
	names := []string{"Họ và tên", "Trần Thị Bình", "Nguyễn Văn An"}
	return File{Case: "a good sheet", Name: "good.xlsx", Rows: 3, Data: XLSX(Rows(len(names), func(i int, w io.Writer) {
		inline(w, "A", i, names[i-1])
	}))}
}

var (
	once   sync.Once
	corpus []File
)

// Bombs returns the hostile files, made once per test binary (a few seconds).
func Bombs() []File {
	once.Do(func() { corpus = bombs() })
	return corpus
}

func bombs() []File {
	const lol = `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">` +
		`<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">` +
		`<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">` +
		`<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>`
	// shared is a shared-strings table of n items, item(i, w) writing the
	// text of item i.
	shared := func(n int, item func(i int, w io.Writer)) Part {
		return Part{Name: "xl/sharedStrings.xml", Level: flate.BestCompression, Write: func(w io.Writer) error {
			bw := &errWriter{w: bufio.NewWriterSize(w, 1<<20)}
			fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, n, n)
			for i := 0; i < n && bw.err == nil; i++ {
				io.WriteString(bw, `<si><t>`)
				item(i, bw)
				io.WriteString(bw, `</t></si>`)
			}
			io.WriteString(bw, `</sst>`)
			if bw.err != nil {
				return bw.err
			}
			return bw.w.(*bufio.Writer).Flush()
		}}
	}
	headerAndShared := func(n int) Part { // a header, then rows that use the shared strings
		return Rows(min(n, 2000), func(i int, w io.Writer) {
			if i == 1 {
				inline(w, "A", i, "Họ và tên")
				return
			}
			fmt.Fprintf(w, `<c r="A%d" t="s"><v>%d</v></c>`, i, i)
		})
	}
	return []File{
		Good(),
		{Case: "the largest sign-in sheet: 3,000 rows of 9 columns", Name: "large.xlsx", Rows: 3001,
			Data: XLSX(Rows(3001, func(i int, w io.Writer) {
				for j, col := range []string{"A", "B", "C", "D", "E", "F", "G", "H", "I"} {
					if i == 1 {
						inline(w, col, i, []string{"Họ và tên", "Số điện thoại", "Tổ", "Chức vụ", "Đơn vị", "Giới tính", "Năm sinh", "Thôn", "Ghi chú"}[j])
					} else {
						fmt.Fprintf(w, `<c r="%s%d" t="s"><v>%d</v></c>`, col, i, (i*9+j)%5000)
					}
				}
			}), shared(5000, func(i int, w io.Writer) { fmt.Fprintf(w, "Nguyễn Thị Phương Thảo %d", i) }))},
		{Case: "a worksheet padded with 15 MB of spaces", Name: "padded.xlsx", Rows: 2,
			Data: XLSX(Part{Name: "xl/worksheets/sheet1.xml", Write: func(w io.Writer) error {
				io.WriteString(w, sheetHead+`<row r="1"><c r="A1" t="inlineStr"><is><t>Họ và tên</t></is></c></row>`)
				pad := bytes.Repeat([]byte(" "), 1<<20)
				for range 15 {
					w.Write(pad)
				}
				_, err := io.WriteString(w, `<row r="2"><c r="A2" t="inlineStr"><is><t>Trần Thị Bình</t></is></c></row>`+sheetTail)
				return err
			}})},
		{Case: "the issue's sheet of 4 million rows", Name: "4m-rows.xlsx", Want: "sheet_too_large",
			Data: XLSX(Part{Name: "xl/worksheets/sheet1.xml", Level: flate.BestCompression, Write: func(w io.Writer) error {
				io.WriteString(w, sheetHead)
				rows := bytes.Repeat([]byte(`<row><c><v>1</v></c></row>`), 40_000)
				for range 100 {
					if _, err := w.Write(rows); err != nil {
						return err
					}
				}
				_, err := io.WriteString(w, sheetTail)
				return err
			}})},
		{Case: "zip bomb: 512 MB of one worksheet", Name: "zip-bomb.xlsx", Want: "sheet_too_large",
			Data: XLSX(Part{Name: "xl/worksheets/sheet1.xml", Write: func(w io.Writer) error {
				io.WriteString(w, sheetHead)
				pad := bytes.Repeat([]byte(" "), 1<<20)
				for range 512 {
					if _, err := w.Write(pad); err != nil {
						return err
					}
				}
				_, err := io.WriteString(w, sheetTail)
				return err
			}})},
		{Case: "billion laughs in the worksheet", Name: "lol-sheet.xlsx", Want: "sheet_unreadable",
			Data: XLSX(Text("xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8"?>`+lol+
				`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">`+
				`<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>`))},
		{Case: "billion laughs in the shared strings", Name: "lol-shared.xlsx", Want: "sheet_unreadable",
			Data: XLSX(Rows(1, func(i int, w io.Writer) { io.WriteString(w, `<c r="A1" t="s"><v>0</v></c>`) }),
				Text("xl/sharedStrings.xml", `<?xml version="1.0" encoding="UTF-8"?>`+lol+
					`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>`))},
		{Case: "huge shared strings table: 1.5 million strings", Name: "shared-many.xlsx", Want: "sheet_too_large",
			Data: XLSX(headerAndShared(1_500_000), shared(1_500_000, func(i int, w io.Writer) {
				var b [16]byte
				w.Write(strconv.AppendInt(b[:0], int64(10_000_000+i), 10))
			}))},
		{Case: "huge shared string: one of 64 MB", Name: "shared-long.xlsx", Want: "sheet_too_large",
			Data: XLSX(headerAndShared(1), shared(1, func(_ int, w io.Writer) {
				a := bytes.Repeat([]byte("a"), 1<<20)
				for range 64 {
					w.Write(a)
				}
			}))},
		{Case: "a cell far right (column XFD) on every row", Name: "wide.xlsx", Want: "sheet_wide",
			Data: XLSX(Rows(5000, func(i int, w io.Writer) { fmt.Fprintf(w, `<c r="XFD%d"><v>1</v></c>`, i) }))},
		{Case: "a row at the last row number", Name: "tall.xlsx", Want: "sheet_rows",
			Data: XLSX(Text("xl/worksheets/sheet1.xml", sheetHead+`<row r="1"><c r="A1" t="inlineStr"><is><t>Họ và tên</t></is></c></row>`+
				`<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>Trần Thị Bình</t></is></c></row>`+sheetTail))},
		{Case: "a cell of 1 MB", Name: "long-cell.xlsx", Want: "sheet_cell",
			Data: XLSX(Rows(2, func(i int, w io.Writer) { inline(w, "A", i, strings.Repeat("x", 1<<20)) }))},
		{Case: "CSV with a 100 MB line", Name: "long-line.csv", Want: "sheet_line", TooLarge: true, Size: 100<<20 + 10,
			Open: func() io.Reader {
				return io.MultiReader(strings.NewReader("Họ và tên\n"), io.LimitReader(repeatByte('a'), 100<<20))
			}},
		{Case: "CSV of 200,000 rows", Name: "many-rows.csv", Want: "sheet_rows",
			Data: []byte("Họ và tên\n" + strings.Repeat("Trần Thị Bình\n", 200_000))},
		{Case: "CSV with 10,000 columns", Name: "wide.csv", Want: "sheet_wide", Data: []byte("Họ và tên" + strings.Repeat(",x", 10_000) + "\n")},
		{Case: "XLSX name, PDF bytes", Name: "fake.xlsx", Want: "sheet_type", Data: []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")},
		{Case: "XLSX name, old binary XLS (OLE) bytes", Name: "old.xlsx", Want: "sheet_type",
			Data: append([]byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}, make([]byte, 4096)...)},
		{Case: "CSV name, ZIP bytes", Name: "fake.csv", Want: "sheet_type", Data: Good().Data},
		{Case: "CSV name, binary bytes", Name: "binary.csv", Want: "sheet_type", Data: []byte("Họ và tên\n\x00\x01\x02\x03\xff\xfe")},
	}
}

// repeatByte is an endless reader of one byte.
type repeatByte byte

func (r repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}
