package sheets_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/sheets"
	"github.com/hue-cdt/cdt/sheets/sheetstest"
)

// TestHostileFilesAreRefusedEarly reads issue 11's hostile corpus straight
// through the reader, without the upload's size limit in front: each file is
// refused with its rule (or as too large), and the good one is read.
func TestHostileFilesAreRefusedEarly(t *testing.T) {
	for _, f := range sheetstest.Bombs() {
		start := time.Now()
		rows := 0
		err := sheets.Each(f.Name, f.Reader(), sheets.DefaultLimits(), func(int, []string) error { rows++; return nil })
		took := time.Since(start)
		var ve *domain.ValidationError
		switch {
		case f.Want == "" && err != nil:
			t.Errorf("%s: %v", f.Case, err)
		case f.Want == "" && rows != f.Rows:
			t.Errorf("%s: %d rows, want %d", f.Case, rows, f.Rows)
		case f.Want != "" && f.Length() > sheets.DefaultLimits().MaxBytes:
			if !errors.Is(err, domain.ErrTooLarge) && !(errors.As(err, &ve) && ve.Fields[0].Code == f.Want) {
				t.Errorf("%s: %v, want too large or %s", f.Case, err, f.Want)
			}
		case f.Want != "" && (!errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "file" || ve.Fields[0].Code != f.Want):
			t.Errorf("%s: %v, want file %s", f.Case, err, f.Want)
		}
		t.Logf("%-50s %9d bytes: %-18s in %v", f.Case, f.Length(), code(err), took.Round(time.Millisecond))
	}
}

func code(err error) string {
	var ve *domain.ValidationError
	switch {
	case err == nil:
		return "read"
	case errors.As(err, &ve):
		return ve.Fields[0].Code
	case errors.Is(err, domain.ErrTooLarge):
		return "too large (413)"
	}
	return err.Error()
}

// The limits say what the rows may be: MaxRows below the header, MaxCols,
// MaxCell; empty rows between kept as empty lines by Read.
func TestLimitsOfARow(t *testing.T) {
	lim := sheets.DefaultLimits()
	lim.MaxRows, lim.MaxCols, lim.MaxCell = 2, 3, 5
	for name, tc := range map[string]struct {
		csv  string
		want string
	}{
		"at the limits":       {"a,b,c\n1,2,3\n\n\n4,5,12345\n", ""},
		"one row too many":    {"a\n1\n2\n3\n", sheets.RuleRows},
		"one column too many": {"a,b,c,d\n", sheets.RuleWide},
		"one byte too many":   {"a\n123456\n", sheets.RuleCell},
	} {
		_, err := sheets.ReadLimited("x.csv", stringsReader(tc.csv), lim)
		if got := code(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
			t.Errorf("%s: %s, want %q", name, got, tc.want)
		}
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
