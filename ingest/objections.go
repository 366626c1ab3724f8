package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// Objections is the set of household hashes whose objection stands
// (domain.PrivacyRequest.Objects): records that carry one are refused. Ingest
// is the hot path, so the set is kept in memory and read again from the
// privacy requests (a small collection: a few requests per commune and year)
// at most every Every; a request registered on this server takes effect at
// once (Object), one registered on another server within Every.
type Objections struct {
	Store domain.PrivacyStore
	// Every is how long the set is trusted (default 10 s).
	Every time.Duration

	mu     sync.Mutex
	set    map[string]bool
	loaded time.Time
	// load serialises the reads of the store: one caller reads, the
	// others keep using the set they have.
	load sync.Mutex
}

// Has reports whether household hash is objected to. It reads the store when
// the set is older than Every; if that read fails, the last set is used, and
// with none yet the error is returned: the records are not acknowledged, and
// the phone sends them again.
func (o *Objections) Has(ctx context.Context, hash string) (bool, error) {
	if o == nil || hash == "" {
		return false, nil
	}
	set, err := o.current(ctx)
	return set[hash], err
}

func (o *Objections) current(ctx context.Context) (map[string]bool, error) {
	every := o.Every
	if every <= 0 {
		every = 10 * time.Second
	}
	o.mu.Lock()
	set, fresh := o.set, o.set != nil && time.Since(o.loaded) < every
	o.mu.Unlock()
	if fresh {
		return set, nil
	}
	if set != nil && !o.load.TryLock() {
		return set, nil // another request is reading it
	}
	if set == nil {
		o.load.Lock()
	}
	defer o.load.Unlock()
	o.mu.Lock()
	if o.set != nil && time.Since(o.loaded) < every { // read while this one waited
		set = o.set
		o.mu.Unlock()
		return set, nil
	}
	o.mu.Unlock()
	loaded, err := o.Store.ObjectedHouseholds(ctx)
	if err != nil && set != nil {
		return set, nil
	}
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	o.set, o.loaded = loaded, time.Now()
	o.mu.Unlock()
	return loaded, nil
}

// Object adds hash to the set at once (an objection registered on this
// server).
func (o *Objections) Object(hash string) {
	if o == nil || hash == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	next := make(map[string]bool, len(o.set)+1)
	for k := range o.set {
		next[k] = true
	}
	next[hash] = true
	o.set = next // the old map may be read without the lock: never written
}

// Forget makes the next Has read the store (an objection refused).
func (o *Objections) Forget() {
	if o == nil {
		return
	}
	o.mu.Lock()
	o.loaded = time.Time{}
	o.mu.Unlock()
}
