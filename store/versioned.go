package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/hue-cdt/cdt/domain"
)

// updateVersioned is the read-modify-write of one document that other
// processes may change too: load reads the current value and its version,
// fn changes a copy, and save sets the version it is given on the copy and
// writes it, once this writer has claimed that version under key
// (claimVersion). A lost claim reloads and tries again; fn's errors end it.
func updateVersioned[T any](ctx context.Context, claims *mongo.Collection, key string, now func() time.Time, attempts int,
	load func() (T, int64, error), fn func(*T) error, save func(*T, int64) error) (T, error) {
	var zero T
	for attempt := range attempts {
		next, version, err := load()
		if err != nil {
			return zero, err
		}
		if err := fn(&next); err != nil {
			return zero, err
		}
		v, err := claimVersion(ctx, claims, key, version, now)
		if errors.Is(err, domain.ErrStale) {
			if err := domain.Sleep(ctx, time.Duration(attempt+1)*20*time.Millisecond); err != nil {
				return zero, err
			}
			continue
		}
		if err != nil {
			return zero, err
		}
		if err := save(&next, v); err != nil {
			return zero, err
		}
		return next, nil
	}
	return zero, fmt.Errorf("store: %s: %w", key, domain.ErrStale)
}
