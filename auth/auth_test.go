package auth

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestUnknownUsersCostWhatKnownUsersCost is issue 11's username enumeration
// by timing: a wrong password for an existing login took ~134 ms, an unknown
// login ~8 ms, because the hash compared for an unknown login had bcrypt's
// minimum cost. The hash burnt for an unknown login must have the cost of
// the logins' own hashes.
func TestUnknownUsersCostWhatKnownUsersCost(t *testing.T) {
	for _, cost := range []int{0, bcrypt.MinCost, 6} {
		s := &Service{Cost: cost}
		h, err := s.HashPassword("a-real-password")
		if err != nil {
			t.Fatal(err)
		}
		want, _ := bcrypt.Cost(h)
		s.burn("a-guess")
		got, err := bcrypt.Cost(s.dummyHash())
		if err != nil || got != want {
			t.Errorf("Cost %d: unknown logins compare a hash of cost %d (%v), known ones %d", cost, got, err, want)
		}
	}
}
