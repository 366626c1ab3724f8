package sheets_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/sheets"
	"github.com/hue-cdt/cdt/sheets/sheetstest"
)

// FuzzRead feeds the reader arbitrary files under both names: it never
// panics, answers a validation error or too large when it refuses, and what
// it returns keeps within the limits.
func FuzzRead(f *testing.F) {
	f.Add([]byte("Họ và tên,Tổ\nTrần Thị Bình,Tổ 1\n"))
	f.Add([]byte("\ufeff\"a\"\"b\",c\r\n1,\"2\n3\"\n"))
	f.Add(sheetstest.Good().Data)
	f.Add([]byte("PK\x03\x04garbage"))
	lim := sheets.DefaultLimits()
	lim.MaxRows, lim.MaxCols, lim.MaxCell, lim.MaxLine = 50, 8, 64, 256
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"f.csv", "f.xlsx"} {
			var rows [][]string
			var err error
			done := make(chan struct{})
			go func() {
				defer close(done)
				rows, err = sheets.ReadLimited(name, bytes.NewReader(data), lim)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: still reading after 10 s: %q", name, data)
			}
			var ve *domain.ValidationError
			if err != nil && !errors.As(err, &ve) && !errors.Is(err, domain.ErrTooLarge) {
				t.Fatalf("%s: %v is neither a validation error nor too large", name, err)
			}
			if err != nil {
				continue
			}
			if len(rows) > 2*lim.MaxRows+101 {
				t.Fatalf("%s: %d rows", name, len(rows))
			}
			for _, r := range rows {
				if len(r) > lim.MaxCols {
					t.Fatalf("%s: a row of %d columns", name, len(r))
				}
				for _, c := range r {
					if len(c) > lim.MaxCell {
						t.Fatalf("%s: a cell of %d bytes", name, len(c))
					}
				}
			}
		}
	})
}
