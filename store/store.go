// Package store is the only package that knows MongoDB. It keeps to the subset of
// MongoDB that FerretDB v1 implements, and to its cost model: every read scans its
// collection and concurrent updates of one document are not atomic, so hot reads
// touch only small collections and every cross-process guarantee rests on the
// one atomic operation both databases share, an insert with a unique _id.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/domain"
)

// Collection names.
const (
	collSettings         = "settings"
	collUnits            = "units"
	collRegistries       = "registries"
	collRegistryVersions = "registry_versions"
	collRegistryClaims   = "registry_claims"
	collUsers            = "users"
	collSessions         = "sessions"
	collSessionClaims    = "session_claims"
	collExcluded         = "assistance_excluded"
	collRevocations      = "revocations"
	collLoginThrottles   = "login_throttles"
)

// DB is an open database with its stores.
type DB struct {
	Client   *mongo.Client
	Database *mongo.Database

	Settings *Settings
	Units    *Units
	Registry *Registries
	Users    *Users
	Sessions *Sessions

	Assistance *Assistance
	Rollups    *Rollups
	Processes  *Processes
	Leases     *Leases
	Coverage   *Coverage
	Trainings  *Trainings
	Privacy    *Privacy
	Audit      *Audit
	Throttles  *LoginThrottles

	health        *health
	failureWindow time.Duration
}

// Options tune a DB; the zero value is the production default.
type Options struct {
	// RegistryTTL is how long a cached commune registry is trusted before its
	// version is checked again (other processes' writes show after at most this).
	RegistryTTL time.Duration
	Now         func() time.Time
	// CommandFailed, when set, is told the name of every database command
	// that fails (the server's metrics).
	CommandFailed func(command string)
	// FailureWindow is how long /readyz reports a storage failure the driver
	// saw (default 10s).
	FailureWindow time.Duration
}

// Open connects to uri and opens database name.
func Open(ctx context.Context, uri, name string, o Options) (*DB, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RegistryTTL == 0 {
		o.RegistryTTL = time.Second
	}
	if o.FailureWindow == 0 {
		o.FailureWindow = 10 * time.Second
	}
	h := &health{}
	opts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(10 * time.Second).
		SetConnectTimeout(10 * time.Second).
		SetAppName("cdt").
		SetMonitor(h.monitor(o.CommandFailed))
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := client.Ping(pctx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("store: ping %s: %w", redact(uri), err)
	}
	db := client.Database(name)
	d := &DB{Client: client, Database: db, health: h, failureWindow: o.FailureWindow}
	d.Settings = &Settings{coll: db.Collection(collSettings)}
	d.Units = &Units{coll: db.Collection(collUnits), settings: d.Settings}
	d.Registry = newRegistries(db, o.RegistryTTL, o.Now)
	d.Users = &Users{coll: db.Collection(collUsers)}
	d.Sessions = &Sessions{coll: db.Collection(collSessions), claims: db.Collection(collSessionClaims),
		revocations: db.Collection(collRevocations)}
	d.Assistance = &Assistance{coll: db.Collection(collAssistance), excluded: db.Collection(collExcluded)}
	d.Rollups = newRollups(db)
	d.Processes = &Processes{coll: db.Collection(collProcesses)}
	d.Leases = &Leases{coll: db.Collection(collLeases), procs: db.Collection(collProcesses), now: o.Now}
	d.Coverage = newCoverage(db)
	d.Trainings = newTrainings(db, o.Now)
	d.Privacy = newPrivacy(db, o.Now)
	d.Audit = newAudit(db)
	d.Throttles = &LoginThrottles{coll: db.Collection(collLoginThrottles)}
	return d, nil
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.Client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("store: ping: %w: %w", domain.ErrUnavailable, err)
	}
	return nil
}

// Close disconnects.
func (d *DB) Close(ctx context.Context) error {
	return d.Client.Disconnect(ctx)
}

// Drop deletes the whole database (tests).
func (d *DB) Drop(ctx context.Context) error { return d.Database.Drop(ctx) }

type index struct {
	coll   string
	keys   bson.D
	unique bool
	name   string
}

// indexes lists the secondary indexes. FerretDB v1 uses them only to enforce
// uniqueness; on MongoDB they also serve the queries that name their fields.
var indexes = []index{
	{collUsers, bson.D{{Key: "member_id", Value: 1}}, false, "member"},
	{collUsers, bson.D{{Key: "unit_code", Value: 1}}, false, "unit"},
	{collSessions, bson.D{{Key: "username", Value: 1}}, false, "username"},
	{collSessions, bson.D{{Key: "expires_at", Value: 1}}, false, "expires"},
	{collSessionClaims, bson.D{{Key: "at", Value: 1}}, false, "at"},
	{collUnits, bson.D{{Key: "code", Value: 1}, {Key: "valid_from", Value: 1}}, true, "code_from"},
}

// extraIndexes lets other files of the package add their indexes.
var extraIndexes []index

// readIndexes serve queries only: they are created on MongoDB, not on FerretDB
// v1, which never reads by index and pays for every index on each insert.
var readIndexes []index

// FerretDB reports whether the database is FerretDB (buildInfo names it).
func (d *DB) FerretDB(ctx context.Context) bool {
	var info bson.M
	if err := d.Database.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false
	}
	_, ok := info["ferretdbVersion"]
	return ok
}

// EnsureIndexes creates the indexes, one call each (FerretDB crashes on CreateMany
// when several of them already exist).
func (d *DB) EnsureIndexes(ctx context.Context) error {
	all := append(append([]index(nil), indexes...), extraIndexes...)
	if !d.FerretDB(ctx) {
		all = append(all, readIndexes...)
	}
	for _, ix := range all {
		m := mongo.IndexModel{Keys: ix.keys, Options: options.Index().SetName(ix.name).SetUnique(ix.unique)}
		// Creating an index is idempotent. One cold start in many dozens saw the
		// embedded database answer an internal error here; try again briefly.
		var err error
		for attempt := range 4 {
			if _, err = d.Database.Collection(ix.coll).Indexes().CreateOne(ctx, m); err == nil {
				break
			}
			if serr := domain.Sleep(ctx, time.Duration(attempt+1)*250*time.Millisecond); serr != nil {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("store: index %s.%s: %w", ix.coll, ix.name, err)
		}
	}
	return nil
}

// isDup reports a unique-key violation. Inserts give the standard code on both
// databases; FerretDB reports violations caused by updates as internal errors.
func isDup(err error) bool {
	if err == nil {
		return false
	}
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "duplicate key value")
}

// findDocs runs a find and decodes every document it returns; errors are
// wrapped with what (see wrap).
func findDocs[D any](ctx context.Context, what string, c *mongo.Collection, filter any, opts ...options.Lister[options.FindOptions]) ([]D, error) {
	cur, err := c.Find(ctx, filter, opts...)
	if err != nil {
		return nil, wrap(what, err)
	}
	var docs []D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(what, err)
	}
	return docs, nil
}

// wrap turns driver errors into domain sentinels: not found, conflict, and
// unavailable (see unavailable); the rest are wrapped as they are.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("store: %s: %w", op, domain.ErrNotFound)
	case isDup(err):
		return fmt.Errorf("store: %s: %w", op, domain.ErrConflict)
	case unavailable(err):
		return fmt.Errorf("store: %s: %w: %w", op, domain.ErrUnavailable, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func redact(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return "(uri)"
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "***@" + rest[at+1:]
	}
	return scheme + "://" + rest
}

// Redact hides the credentials of a MongoDB URI for logs.
func Redact(uri string) string { return redact(uri) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
