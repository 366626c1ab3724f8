package domain

import (
	"errors"
	"testing"
)

// FuzzNormalizeHouseholdRef: whatever is typed, the reference is refused or
// becomes one canonical form — digits and upper-case letters, of an allowed
// length — that normalises to itself, so that one household is counted once.
func FuzzNormalizeHouseholdRef(f *testing.F) {
	for _, s := range []string{"0905 123 456", "+84 905.123.456", "0084905123456", "84905123456", "HK-123/45", "0234 3822 123", "", "   ", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := NormalizeHouseholdRef(in)
		if !ok {
			if out != "" {
				t.Fatalf("%q refused but normalised to %q", in, out)
			}
			return
		}
		if len(out) < MinRefLen || len(out) > MaxRefLen {
			t.Fatalf("%q → %q: length %d", in, out, len(out))
		}
		for _, r := range out {
			if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z') {
				t.Fatalf("%q → %q: %q is neither a digit nor an upper-case letter", in, out, r)
			}
		}
		if again, ok := NormalizeHouseholdRef(out); !ok || again != out {
			t.Fatalf("%q → %q → %q %v: not idempotent", in, out, again, ok)
		}
	})
}

// FuzzDecodeCursor: a cursor from a client is refused with a validation
// error on "cursor" or decodes to the key it was made from.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"", "MjAyNjExMjFUMDkwMDAwLjAwMHwxOTc1My1NMDAwMTp4", "!!", "a", "AAAA", "=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		key, err := DecodeCursor(c)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields[0].Field != "cursor" {
				t.Fatalf("%q: %v", c, err)
			}
			return
		}
		if c != "" && key == "" {
			t.Fatalf("%q decodes to an empty key", c)
		}
		if again, err := DecodeCursor(EncodeCursor(key)); err != nil || again != key {
			t.Fatalf("%q → %q → %q %v: the cursor of a key does not give the key back", c, key, again, err)
		}
	})
}
