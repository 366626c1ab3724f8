package store

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/domain"
)

const (
	collFlags         = "integrity_flags"
	collFlagClaims    = "integrity_claims"
	collVerifications = "verifications"
	collIntegrityVer  = "integrity_version"
)

// Integrity stores the integrity flags and the verifications: two small
// collections (a few flags per commune and day at most, a few verifications
// per commune and week), so their scans stay cheap. A flag's _id is its
// natural key (domain.FlagID: kind, commune, day, subject), so re-running a
// day replaces what it found instead of adding to it; a change claims the
// document's next version first (claimVersion), so two reviewers or a
// review and a re-run cannot overwrite each other.
//
// Every dashboard reads every flag and verification of its commune, and the
// flags grow with the records (thousands at a million records, a scan of
// 300 ms). So each process keeps them all in memory as of a version that
// every write increments after it is done (integrity_version, one
// document): a read costs one lookup of that document, and a process
// reloads the lists once after anyone's change.
type Integrity struct {
	flags, claims, verifications, version *mongo.Collection
	now                                   func() time.Time
	cache                                 integrityCache
}

type integrityCache struct {
	mu      sync.Mutex
	loaded  bool
	version int64
	flags   []flagDoc
	verifs  []verificationDoc
}

func newIntegrity(db *mongo.Database, now func() time.Time) *Integrity {
	return &Integrity{flags: db.Collection(collFlags), claims: db.Collection(collFlagClaims),
		verifications: db.Collection(collVerifications), version: db.Collection(collIntegrityVer), now: now}
}

// changed marks a change to the flags or verifications, after it is made.
func (s *Integrity) changed(ctx context.Context) error {
	_, err := s.version.UpdateOne(ctx, bson.D{{Key: "_id", Value: "v"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}},
		options.UpdateOne().SetUpsert(true))
	return wrap("integrity version", err)
}

// lists returns every flag and verification, from memory while nobody
// changed them since they were read.
func (s *Integrity) lists(ctx context.Context) ([]flagDoc, []verificationDoc, error) {
	var v struct {
		N int64 `bson:"n"`
	}
	if err := s.version.FindOne(ctx, bson.D{{Key: "_id", Value: "v"}}).Decode(&v); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil, wrap("integrity version", err)
	}
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded && c.version == v.N {
		return c.flags, c.verifs, nil
	}
	flags, err := findDocs[flagDoc](ctx, "flags", s.flags, bson.D{})
	if err != nil {
		return nil, nil, err
	}
	verifs, err := findDocs[verificationDoc](ctx, "verifications", s.verifications, bson.D{})
	if err != nil {
		return nil, nil, err
	}
	c.loaded, c.version, c.flags, c.verifs = true, v.N, flags, verifs
	return flags, verifs, nil
}

var (
	_ domain.FlagStore         = (*Integrity)(nil)
	_ domain.VerificationStore = (*Integrity)(nil)
)

type flagDoc struct {
	ID         string             `bson:"_id"`
	Kind       string             `bson:"kind"`
	Commune    string             `bson:"commune_code"`
	Member     string             `bson:"member_id,omitempty"`
	Day        string             `bson:"day"`
	RecordIDs  []string           `bson:"record_ids"`
	Records    []flaggedRecordDoc `bson:"records,omitempty"`
	Evidence   domain.Evidence    `bson:"evidence"`
	Status     string             `bson:"status"`
	Excluded   []string           `bson:"excluded,omitempty"`
	Comment    string             `bson:"comment,omitempty"`
	ReviewedBy string             `bson:"reviewed_by,omitempty"`
	ReviewedAt time.Time          `bson:"reviewed_at,omitempty"`
	CreatedAt  time.Time          `bson:"created_at"`
	Version    int64              `bson:"version"`
}

type flaggedRecordDoc struct {
	ID         string    `bson:"id"`
	Member     string    `bson:"member_id"`
	Service    string    `bson:"service"`
	Village    string    `bson:"village_code"`
	OccurredAt time.Time `bson:"occurred_at"`
	Outcome    string    `bson:"outcome"`
}

func toFlagDoc(f domain.Flag, version int64) flagDoc {
	d := flagDoc{ID: f.ID, Kind: f.Kind, Commune: f.CommuneCode, Member: f.MemberID, Day: string(f.Day), RecordIDs: f.RecordIDs,
		Evidence: f.Evidence, Status: f.Status, Excluded: f.Excluded, Comment: f.Comment, ReviewedBy: f.ReviewedBy,
		ReviewedAt: f.ReviewedAt.UTC(), CreatedAt: f.CreatedAt.UTC(), Version: version}
	for _, r := range f.Records {
		d.Records = append(d.Records, flaggedRecordDoc{ID: r.ID, Member: r.MemberID, Service: r.Service, Village: r.VillageCode,
			OccurredAt: r.OccurredAt.UTC(), Outcome: r.Outcome})
	}
	return d
}

func (d flagDoc) toDomain() domain.Flag {
	f := domain.Flag{ID: d.ID, Kind: d.Kind, CommuneCode: d.Commune, MemberID: d.Member, Day: domain.Date(d.Day),
		RecordIDs: slices.Clone(d.RecordIDs), Evidence: d.Evidence, Status: d.Status, Excluded: slices.Clone(d.Excluded), Comment: d.Comment,
		ReviewedBy: d.ReviewedBy, CreatedAt: d.CreatedAt}
	if d.ReviewedBy != "" {
		f.ReviewedAt = d.ReviewedAt
	}
	for _, r := range d.Records {
		f.Records = append(f.Records, domain.FlaggedRecord{ID: r.ID, MemberID: r.Member, Service: r.Service,
			VillageCode: r.Village, OccurredAt: r.OccurredAt, Outcome: r.Outcome})
	}
	return f
}

// SaveFlags stores the flags found for day (domain.FlagStore): new ones are
// inserted, those found again merged (domain.MergeFlag: a reviewed flag
// keeps its review), open ones of day not found again removed. It reads
// the day's flags once.
func (s *Integrity) SaveFlags(ctx context.Context, day domain.Date, flags []domain.Flag) (err error) {
	defer func() {
		if err != nil { // what was written before the error counts too
			_ = s.changed(context.WithoutCancel(ctx))
		}
	}()
	docs, err := findDocs[flagDoc](ctx, "flags of "+string(day), s.flags, bson.D{{Key: "day", Value: string(day)}})
	if err != nil {
		return err
	}
	stored := make(map[string]flagDoc, len(docs))
	for _, d := range docs {
		stored[d.ID] = d
	}
	found := make(map[string]bool, len(flags))
	for _, f := range flags {
		found[f.ID] = true
		old, ok := stored[f.ID]
		if !ok {
			_, err := s.flags.InsertOne(ctx, toFlagDoc(f, 0))
			if err = wrap("insert flag "+f.ID, err); err != nil && !errors.Is(err, domain.ErrConflict) {
				return err
			}
			if err == nil {
				continue
			}
			// Inserted meanwhile by another run: merge with it below.
		}
		if ok && old.Status != domain.FlagOpen {
			continue // reviewed: what the leader judged stays
		}
		if ok && sameFinding(old.toDomain(), f) {
			continue // found again as it was: nothing to write
		}
		if _, err := s.UpdateFlag(ctx, f.ID, func(cur *domain.Flag) error {
			*cur = domain.MergeFlag(*cur, f)
			return nil
		}); err != nil {
			return err
		}
	}
	for id, d := range stored {
		if !found[id] && d.Status == domain.FlagOpen {
			if _, err := s.flags.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: domain.FlagOpen}}); err != nil {
				return wrap("delete stale flag "+id, err)
			}
		}
	}
	return s.changed(ctx)
}

// sameFinding reports whether found says what stored says: the same
// records, evidence and descriptions.
func sameFinding(stored, found domain.Flag) bool {
	a, b := toFlagDoc(stored, 0), toFlagDoc(found, 0)
	a.CreatedAt, b.CreatedAt, a.Status, b.Status = time.Time{}, time.Time{}, "", ""
	x, errA := bson.Marshal(a)
	y, errB := bson.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// Flag returns flag id.
func (s *Integrity) Flag(ctx context.Context, id string) (domain.Flag, error) {
	var d flagDoc
	if err := s.flags.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return domain.Flag{}, wrap("flag "+id, err)
	}
	return d.toDomain(), nil
}

// FindFlags lists the flags matching f, newest day first (then by ID), a
// page of f.Limit after f.After, with the cursor of the next page.
func (s *Integrity) FindFlags(ctx context.Context, f domain.FlagFilter) ([]domain.Flag, string, error) {
	docs, _, err := s.lists(ctx)
	if err != nil {
		return nil, "", err
	}
	is := func(want, v string) bool { return want == "" || want == v }
	out := make([]domain.Flag, 0, len(docs))
	for _, d := range docs {
		if is(f.CommuneCode, d.Commune) && is(f.Kind, d.Kind) && is(f.Status, d.Status) &&
			(f.From == "" || domain.Date(d.Day) >= f.From) && (f.To == "" || domain.Date(d.Day) <= f.To) {
			out = append(out, d.toDomain())
		}
	}
	sort.Slice(out, func(i, j int) bool { return flagBefore(out[i].Day, out[i].ID, out[j].Day, out[j].ID) })
	if f.After != "" {
		day, id, ok := strings.Cut(f.After, "|")
		if !ok {
			return nil, "", domain.Invalid("cursor", "cursor")
		}
		i := sort.Search(len(out), func(i int) bool { return flagBefore(domain.Date(day), id, out[i].Day, out[i].ID) })
		out = out[i:]
	}
	next := ""
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = string(last.Day) + "|" + last.ID
	}
	return out, next, nil
}

// flagBefore orders flags newest day first, then by ID.
func flagBefore(dayA domain.Date, idA string, dayB domain.Date, idB string) bool {
	if dayA != dayB {
		return dayA > dayB
	}
	return idA < idB
}

// UpdateFlag applies fn to a copy of flag id and saves it once it has
// claimed the next version.
func (s *Integrity) UpdateFlag(ctx context.Context, id string, fn func(*domain.Flag) error) (domain.Flag, error) {
	return updateVersioned(ctx, s.claims, "flag-"+id, s.now, 20,
		func() (domain.Flag, int64, error) {
			var d flagDoc
			if err := s.flags.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
				return domain.Flag{}, 0, wrap("flag "+id, err)
			}
			return d.toDomain(), d.Version, nil
		}, fn,
		func(next *domain.Flag, v int64) error {
			next.ID = id
			if _, err := s.flags.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, toFlagDoc(*next, v)); err != nil {
				return wrap("save flag "+id, err)
			}
			return s.changed(ctx)
		})
}

// PruneClaims deletes the claims of flag and verification versions written
// long ago, and those of deleted flags.
func (s *Integrity) PruneClaims(ctx context.Context, now time.Time) (int, error) {
	current, err := versions(ctx, s.flags, "flag-")
	if err != nil {
		return 0, err
	}
	vs, err := versions(ctx, s.verifications, "verification-")
	if err != nil {
		return 0, err
	}
	maps.Copy(current, vs)
	return pruneClaims(ctx, s.claims, current, now)
}

type verificationDoc struct {
	ID          string     `bson:"_id"`
	RecordID    string     `bson:"record_id"`
	Member      string     `bson:"member_id"`
	Team        string     `bson:"team_id"`
	Commune     string     `bson:"commune_code"`
	Service     string     `bson:"service"`
	Village     string     `bson:"village_code"`
	OccurredAt  time.Time  `bson:"occurred_at"`
	Source      string     `bson:"source"`
	FlagID      string     `bson:"flag_id,omitempty"`
	Status      string     `bson:"status"`
	Reason      string     `bson:"reason,omitempty"`
	Answer      string     `bson:"answer,omitempty"`
	Corrected   correction `bson:"corrected,omitempty"`
	RequestedBy string     `bson:"requested_by"`
	CreatedAt   time.Time  `bson:"created_at"`
	AnsweredBy  string     `bson:"answered_by,omitempty"`
	AnsweredAt  time.Time  `bson:"answered_at,omitempty"`
	Version     int64      `bson:"version"`
}

type correction struct {
	Service    string    `bson:"service,omitempty"`
	Village    string    `bson:"village_code,omitempty"`
	Outcome    string    `bson:"outcome,omitempty"`
	OccurredAt time.Time `bson:"occurred_at,omitempty"`
}

func toVerificationDoc(v domain.Verification) verificationDoc {
	c := v.Corrected
	return verificationDoc{ID: v.ID, RecordID: v.RecordID, Member: v.MemberID, Team: v.TeamID, Commune: v.CommuneCode,
		Service: v.Service, Village: v.VillageCode, OccurredAt: v.OccurredAt.UTC(), Source: v.Source, FlagID: v.FlagID,
		Status: v.Status, Reason: v.Reason, Answer: v.Answer,
		Corrected:   correction{Service: c.Service, Village: c.VillageCode, Outcome: c.Outcome, OccurredAt: c.OccurredAt.UTC()},
		RequestedBy: v.RequestedBy, CreatedAt: v.CreatedAt.UTC(), AnsweredBy: v.AnsweredBy, AnsweredAt: v.AnsweredAt.UTC(),
		Version: v.Version}
}

func (d verificationDoc) toDomain() domain.Verification {
	v := domain.Verification{ID: d.ID, RecordID: d.RecordID, MemberID: d.Member, TeamID: d.Team, CommuneCode: d.Commune,
		Service: d.Service, VillageCode: d.Village, OccurredAt: d.OccurredAt, Source: d.Source, FlagID: d.FlagID,
		Status: d.Status, Reason: d.Reason, Answer: d.Answer, RequestedBy: d.RequestedBy, CreatedAt: d.CreatedAt,
		AnsweredBy: d.AnsweredBy, Version: d.Version,
		Corrected: domain.Correction{Service: d.Corrected.Service, VillageCode: d.Corrected.Village, Outcome: d.Corrected.Outcome}}
	if d.AnsweredBy != "" {
		v.AnsweredAt = d.AnsweredAt
	}
	if !d.Corrected.OccurredAt.IsZero() && d.Corrected.OccurredAt.Unix() > 0 {
		v.Corrected.OccurredAt = d.Corrected.OccurredAt
	}
	return v
}

// CreateVerification stores v; ErrConflict if its ID is taken.
func (s *Integrity) CreateVerification(ctx context.Context, v domain.Verification) error {
	if _, err := s.verifications.InsertOne(ctx, toVerificationDoc(v)); err != nil {
		return wrap("create verification "+v.ID, err)
	}
	return s.changed(ctx)
}

// Verification returns verification id.
func (s *Integrity) Verification(ctx context.Context, id string) (domain.Verification, error) {
	var d verificationDoc
	if err := s.verifications.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return domain.Verification{}, wrap("verification "+id, err)
	}
	return d.toDomain(), nil
}

// FindVerifications lists the matches of f, newest first.
func (s *Integrity) FindVerifications(ctx context.Context, f domain.VerificationFilter) ([]domain.Verification, error) {
	_, docs, err := s.lists(ctx)
	if err != nil {
		return nil, err
	}
	is := func(want, v string) bool { return want == "" || want == v }
	out := make([]domain.Verification, 0, len(docs))
	for _, d := range docs {
		if is(f.CommuneCode, d.Commune) && is(f.TeamID, d.Team) && is(f.MemberID, d.Member) && is(f.Status, d.Status) &&
			is(f.Source, d.Source) {
			out = append(out, d.toDomain())
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// UpdateVerification applies fn to a copy of verification id and saves it
// once it has claimed the next version.
func (s *Integrity) UpdateVerification(ctx context.Context, id string, fn func(*domain.Verification) error) (domain.Verification, error) {
	return updateVersioned(ctx, s.claims, "verification-"+id, s.now, 20,
		func() (domain.Verification, int64, error) {
			cur, err := s.Verification(ctx, id)
			return cur, cur.Version, err
		}, fn,
		func(next *domain.Verification, v int64) error {
			next.ID, next.Version = id, v
			if _, err := s.verifications.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, toVerificationDoc(*next)); err != nil {
				return wrap("save verification "+id, err)
			}
			return s.changed(ctx)
		})
}

// TrainingsBetween returns the trainings whose hours overlap [from, to):
// the integrity job's training_day, which needs a day's trainings only and
// so leaves the others' attendance lists in the database.
func (s *Trainings) TrainingsBetween(ctx context.Context, from, to time.Time) ([]domain.Training, error) {
	docs, err := findDocs[trainingDoc](ctx, "trainings between", s.coll, bson.D{
		{Key: "starts_at", Value: bson.D{{Key: "$lt", Value: to.UTC()}}}, {Key: "ends_at", Value: bson.D{{Key: "$gt", Value: from.UTC()}}}})
	if err != nil {
		return nil, err
	}
	out := make([]domain.Training, len(docs))
	for i, d := range docs {
		out[i] = d.toDomain()
	}
	return out, nil
}
