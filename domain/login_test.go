package domain

import (
	"fmt"
	"testing"
	"time"
)

func TestLoginBackOffHoldsTheGuesserNotTheOwner(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	var th LoginThrottle
	var began []int
	for i := 1; i <= 3; i++ {
		if th.Failed("x", t0) {
			began = append(began, i)
		}
		if w := th.Wait("x", t0); w != 0 {
			t.Fatalf("after %d failures: wait %v, want none (%d are free)", i, w, LoginFreeFailures)
		}
	}
	// From the fourth failure on, the guesser waits 1 s, 2 s, 4 s…
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if th.Failed("x", t0) {
			began = append(began, 4+i)
		}
		if w := th.Wait("x", t0); w != want {
			t.Fatalf("after %d failures: wait %v, want %v", 4+i, w, want)
		}
		if w := th.Wait("owner", t0); w != 0 {
			t.Fatalf("the owner, elsewhere, waits %v", w)
		}
	}
	if fmt.Sprint(began) != "[4]" {
		t.Errorf("back-off began at failures %v, want [4] only", began)
	}
	if w := th.Wait("x", t0.Add(3*time.Second)); w != 5*time.Second {
		t.Errorf("3 s later: wait %v, want the 5 s left", w)
	}
	for range 30 {
		th.Failed("x", t0)
	}
	if w := th.Wait("x", t0); w != LoginClientMaxWait {
		t.Errorf("after many failures: wait %v, want the cap %v", w, LoginClientMaxWait)
	}
	if !th.Held(t0) || th.Total != 37 {
		t.Errorf("held %v, total %d", th.Held(t0), th.Total)
	}
	// The owner signs in: the username's count is forgotten, the guesser is
	// still held, the notice stays.
	th.Succeeded("owner")
	if th.Failures != 0 || th.Wait("x", t0) == 0 || th.Total != 37 {
		t.Errorf("after the owner's success: %+v", th)
	}
	// A day later the guesser starts afresh.
	if w := th.Wait("x", t0.Add(LoginForget)); w != 0 {
		t.Errorf("a day later: wait %v", w)
	}
	// A leader unlocks: nothing is held, the notice stays until a week after.
	th.Unlock()
	if th.Held(t0) || th.Total != 37 || th.Empty(t0) || !th.Empty(t0.Add(LoginNoticeKeep)) {
		t.Errorf("after unlock: %+v", th)
	}
}

func TestLoginBackOffAcrossClientsHoldsEveryoneBriefly(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	var th LoginThrottle
	began := 0
	for i := range 40 {
		if th.Failed(fmt.Sprintf("10.0.0.%d", i), t0) { // one guess from each of 40 addresses
			began++
		}
	}
	if began != 1 {
		t.Errorf("the username-wide back-off began %d times, want once", began)
	}
	if w := th.Wait("owner", t0); w <= 0 || w > LoginUserMaxWait {
		t.Errorf("the owner waits %v, want some, at most %v", w, LoginUserMaxWait)
	}
	for i := range 1000 {
		th.Failed(fmt.Sprintf("10.1.%d.%d", i/250, i%250), t0)
	}
	if w := th.Wait("owner", t0); w != LoginUserMaxWait {
		t.Errorf("after 1040 guesses: the owner waits %v, want at most %v", w, LoginUserMaxWait)
	}
	if len(th.Clients) > loginMaxClients {
		t.Errorf("%d clients remembered", len(th.Clients))
	}
}
