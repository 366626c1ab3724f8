package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/hue-cdt/cdt/domain"
)

// unavailable reports a failure of the database itself rather than of the
// request: it cannot be reached, answers too late, or cannot store (disk
// full, read-only, shutting down). The HTTP layer answers these 503
// database_unavailable (API.md); this is the one place that decides which
// driver and server errors they are.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return false // the caller gave up: not the database's fault
	}
	var sse topology.ServerSelectionError
	var wqe topology.WaitQueueTimeoutError
	switch {
	case mongo.IsTimeout(err), mongo.IsNetworkError(err), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &sse), errors.As(err, &wqe), errors.Is(err, topology.ErrPoolClosed),
		errors.Is(err, topology.ErrTopologyClosed), errors.Is(err, mongo.ErrClientDisconnected):
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		for _, code := range unavailableCodes {
			if se.HasErrorCode(code) {
				return true
			}
		}
	}
	return storageMessage(err.Error())
}

// unavailableCodes are MongoDB's server error codes for a server that cannot
// take the operation now: HostUnreachable, HostNotFound, NetworkTimeout,
// ShutdownInProgress, PrimarySteppedDown, ExceededTimeLimit, SocketException,
// NotWritablePrimary, InterruptedAtShutdown, InterruptedDueToReplStateChange,
// NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary, OutOfDiskSpace, MaxTimeMSExpired.
var unavailableCodes = []int{6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 14031, 50}

// storageMessages are how FerretDB passes on its backend's storage failures
// (as InternalError): SQLite's and PostgreSQL's words for a full disk, a
// read-only or locked database, a failing device, a server going away.
var storageMessages = []string{
	"database or disk is full", "disk i/o error", "readonly database", "read-only", "database is locked",
	"unable to open database file", "no space left on device", "could not extend file", "disk quota exceeded",
	"too many connections", "the database system is shutting down", "the database system is starting up",
	"connection refused", "connection reset", "broken pipe",
}

func storageMessage(s string) bool {
	s = strings.ToLower(s)
	for _, m := range storageMessages {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// health remembers the last storage failure the driver saw, write errors
// inside successful replies included, so that /readyz reports a database
// that refuses writes even when a small probe still fits.
type health struct {
	mu   sync.Mutex
	last time.Time
}

var writeCommands = map[string]bool{"insert": true, "update": true, "delete": true, "findAndModify": true}

func (h *health) failed() {
	h.mu.Lock()
	h.last = time.Now()
	h.mu.Unlock()
}

func (h *health) lastFailure() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// monitor watches every command's outcome.
func (h *health) monitor(failed func(command string)) *event.CommandMonitor {
	return &event.CommandMonitor{
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			if !writeCommands[e.CommandName] {
				return
			}
			errs, err := e.Reply.LookupErr("writeErrors")
			if err != nil {
				return
			}
			vals, _ := errs.Array().Values()
			for _, v := range vals {
				if msg, ok := v.Document().Lookup("errmsg").StringValueOK(); ok && storageMessage(msg) {
					h.failed()
					return
				}
			}
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			if failed != nil {
				failed(e.CommandName)
			}
			if unavailable(e.Failure) {
				h.failed()
			}
		},
	}
}

// Ready checks that the database answers and can write: a ping, a small
// probe write, and no storage failure seen in the last window.
func (d *DB) Ready(ctx context.Context) error {
	if err := d.Ping(ctx); err != nil {
		return err
	}
	pad := make([]byte, 512)
	_, _ = rand.Read(pad)
	_, err := d.Database.Collection(collReadiness).ReplaceOne(ctx, bson.D{{Key: "_id", Value: "probe"}},
		bson.D{{Key: "at", Value: time.Now().UTC()}, {Key: "pad", Value: pad}}, upsert())
	if err != nil {
		return fmt.Errorf("store: probe write: %w: %w", domain.ErrUnavailable, err)
	}
	if since := time.Since(d.health.lastFailure()); since < d.failureWindow {
		return fmt.Errorf("store: a write failed %s ago: %w", since.Round(time.Millisecond), domain.ErrUnavailable)
	}
	return nil
}

// collReadiness holds the one document /readyz writes.
const collReadiness = "readiness"
