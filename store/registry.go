package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/hue-cdt/cdt/domain"
)

// Registries stores one document per current commune holding its villages,
// teams and members (domain.CommuneRegistry).
//
// Writes: a writer reads the document, applies its change and must first insert
// the claim "<commune>:<version+1>" into registry_claims; the unique _id makes
// exactly one writer win each version, across processes, on MongoDB and FerretDB
// alike (FerretDB's conditional updates are not atomic). The winner then writes
// the small version document and replaces the document on the condition that
// it still holds the version the change was made from (see UpdateRegistry).
//
// Reads: documents are cached in the process; a cached registry is trusted for
// the TTL, then revalidated against its version document (a read of a tiny
// document in a collection with one row per commune).
type Registries struct {
	regs, versions, claims *mongo.Collection
	ttl                    time.Duration
	now                    func() time.Time

	mu      sync.Mutex
	entries map[string]*regEntry

	hook func(step string) error // tests: a crash or a stall between the steps of a write
}

type regEntry struct {
	write sync.Mutex // one writer per commune in this process

	mu      sync.Mutex
	reg     *domain.CommuneRegistry
	checked time.Time
}

// staleClaim is how old a claim must be, with the document still not written,
// before another writer may skip over it (its writer is taken to be dead).
const staleClaim = 30 * time.Second

func newRegistries(db *mongo.Database, ttl time.Duration, now func() time.Time) *Registries {
	return &Registries{
		regs: db.Collection(collRegistries), versions: db.Collection(collRegistryVersions),
		claims: db.Collection(collRegistryClaims), ttl: ttl, now: now, entries: map[string]*regEntry{},
	}
}

func (r *Registries) entry(commune string) *regEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[commune]
	if !ok {
		e = &regEntry{}
		r.entries[commune] = e
	}
	return e
}

// Registry returns the (shared, read-only) registry of commune.
func (r *Registries) Registry(ctx context.Context, commune string) (*domain.CommuneRegistry, error) {
	e := r.entry(commune)
	e.mu.Lock()
	cached, checked := e.reg, e.checked
	e.mu.Unlock()
	now := r.now()
	if cached != nil && now.Sub(checked) < r.ttl {
		return cached, nil
	}
	if cached != nil {
		var v versionDoc
		err := r.versions.FindOne(ctx, bson.D{{Key: "_id", Value: commune}}).Decode(&v)
		if err == nil && v.Version == cached.Version {
			e.mu.Lock()
			e.checked = now
			e.mu.Unlock()
			return cached, nil
		}
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, wrap("registry version "+commune, err)
		}
	}
	reg, err := r.load(ctx, commune)
	if err != nil {
		return nil, err
	}
	r.remember(e, reg, now)
	return reg, nil
}

// Registries returns the registries of communes. It checks every cached copy
// against the version documents with one query; when more than a few are
// stale it reads the whole collection once, rather than once per commune
// (each _id lookup scans the collection on FerretDB).
func (r *Registries) Registries(ctx context.Context, communes []string) (map[string]*domain.CommuneRegistry, error) {
	now := r.now()
	counts, err := r.RegistryCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*domain.CommuneRegistry, len(communes))
	var stale []string
	for _, c := range communes {
		count, ok := counts[c]
		if !ok {
			continue
		}
		e := r.entry(c)
		e.mu.Lock()
		cached := e.reg
		if cached != nil && cached.Version == count.Version {
			e.checked = now
		}
		e.mu.Unlock()
		if cached != nil && cached.Version == count.Version {
			out[c] = cached
		} else {
			stale = append(stale, c)
		}
	}
	if len(stale) <= 4 {
		for _, c := range stale {
			reg, err := r.load(ctx, c)
			if err != nil {
				return nil, err
			}
			r.remember(r.entry(c), reg, now)
			out[c] = reg
		}
		return out, nil
	}
	want := map[string]bool{}
	for _, c := range stale {
		want[c] = true
	}
	cur, err := r.regs.Find(ctx, bson.D{})
	if err != nil {
		return nil, wrap("registries", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d registryDoc
		if err := cur.Decode(&d); err != nil {
			return nil, wrap("registries", err)
		}
		reg, err := d.toDomain()
		if err != nil {
			return nil, err
		}
		r.remember(r.entry(d.ID), reg, now)
		if want[d.ID] {
			out[d.ID] = reg
		}
	}
	return out, wrap("registries", cur.Err())
}

func (r *Registries) remember(e *regEntry, reg *domain.CommuneRegistry, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.reg == nil || reg.Version >= e.reg.Version {
		e.reg, e.checked = reg, now
	}
}

func (r *Registries) load(ctx context.Context, commune string) (*domain.CommuneRegistry, error) {
	var d registryDoc
	if err := r.regs.FindOne(ctx, bson.D{{Key: "_id", Value: commune}}).Decode(&d); err != nil {
		return nil, wrap("registry "+commune, err)
	}
	return d.toDomain()
}

// UpdateRegistry applies fn to a private copy of commune's registry and saves it.
//
// A write is three steps, each safe to die after:
//  1. claim version v = base+1 (an insert: one winner per version);
//  2. write the version document, v with next's counts: from here on no
//     process trusts a cached copy older than v, so whatever happens next,
//     readers reload the stored registry within their revalidation interval;
//  3. replace the registry document, on the condition that it still holds
//     the version the change was made from. A writer that stalled after its
//     claim, long enough for another to take the claim as abandoned and
//     write, finds the document moved on: it starts again from it.
//
// On MongoDB the conditional replace is atomic. FerretDB's is not (it reads,
// then writes): two writers of one base can both pass only if one of them
// wakes from a stall of more than staleClaim within the other's replace.
// After a crash between steps 2 and 3 the version document's counts are
// those of the lost change until the next write.
func (r *Registries) UpdateRegistry(ctx context.Context, commune string, fn func(*domain.CommuneRegistry) error) (*domain.CommuneRegistry, error) {
	e := r.entry(commune)
	e.write.Lock()
	defer e.write.Unlock()
	e.mu.Lock()
	cur := e.reg // start from the cached copy: if it is stale, the claim or the condition fails
	e.mu.Unlock()
	for attempt := 0; attempt < 50; attempt++ {
		if cur == nil || attempt > 0 {
			var err error
			if cur, err = r.load(ctx, commune); err != nil {
				return nil, err
			}
		}
		next := cur.Clone()
		if err := fn(next); err != nil {
			return nil, err
		}
		next.Code = commune
		version, err := r.claim(ctx, commune, cur.Version)
		if errors.Is(err, domain.ErrStale) {
			if err := domain.Sleep(ctx, time.Duration(attempt+1)*20*time.Millisecond); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := r.step("claimed"); err != nil {
			return nil, err
		}
		// A claim past one taken for dead may be behind the stored registry:
		// check before announcing a version.
		if version > cur.Version+1 {
			if again, err := r.load(ctx, commune); err != nil || again.Version != cur.Version {
				continue
			}
		}
		next.Version = version
		now := r.now().UTC()
		c := next.Count()
		vd := versionDoc{ID: commune, Version: version, Villages: c.Villages, Teams: c.Teams, Members: c.Members, UpdatedAt: now}
		if _, err := r.versions.ReplaceOne(ctx, bson.D{{Key: "_id", Value: commune}}, vd, upsert()); err != nil {
			return nil, wrap("save registry version "+commune, err)
		}
		if err := r.step("versioned"); err != nil {
			return nil, err
		}
		res, err := r.regs.ReplaceOne(ctx, bson.D{{Key: "_id", Value: commune}, {Key: "version", Value: cur.Version}}, toRegistryDoc(next, now))
		if err != nil {
			return nil, wrap("save registry "+commune, err)
		}
		if res.MatchedCount == 0 { // another writer got there first: redo the change on its registry
			continue
		}
		if err := r.step("replaced"); err != nil {
			return nil, err
		}
		r.remember(e, next, r.now())
		return next, nil
	}
	return nil, fmt.Errorf("store: registry %s: %w", commune, domain.ErrStale)
}

// step runs the test hook between the steps of a write.
func (r *Registries) step(name string) error {
	if r.hook == nil {
		return nil
	}
	return r.hook(name)
}

// claim wins the right to write version cur+1 of commune's registry.
func (r *Registries) claim(ctx context.Context, commune string, cur int64) (int64, error) {
	return claimVersion(ctx, r.claims, commune, cur, r.now)
}

// claimVersion wins the right to write version cur+1 of document key by
// inserting "<key>:<version>" into claims: the unique _id lets exactly one
// writer win a version, across processes, on MongoDB and FerretDB alike. Past
// a claim older than staleClaim (its writer is taken for dead) it claims a
// later version. ErrStale means another writer is at work: reload and retry.
func claimVersion(ctx context.Context, claims *mongo.Collection, key string, cur int64, now func() time.Time) (int64, error) {
	for v := cur + 1; v <= cur+3; v++ {
		id := fmt.Sprintf("%s:%d", key, v)
		_, err := claims.InsertOne(ctx, claimDoc{ID: id, Commune: key, Version: v, At: now().UTC()})
		if err == nil {
			return v, nil
		}
		if !isDup(err) {
			return 0, wrap("claim "+key, err)
		}
		var c claimDoc
		if err := claims.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&c); err != nil {
			return 0, wrap("read claim "+key, err)
		}
		if now().Sub(c.At) < staleClaim {
			return 0, domain.ErrStale
		}
	}
	return 0, domain.ErrStale
}

// RegistryCounts returns every commune's summary from the version documents.
func (r *Registries) RegistryCounts(ctx context.Context) (map[string]domain.RegistryCount, error) {
	docs, err := findDocs[versionDoc](ctx, "registry counts", r.versions, bson.D{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]domain.RegistryCount, len(docs))
	for _, d := range docs {
		out[d.ID] = domain.RegistryCount{Villages: d.Villages, Teams: d.Teams, Members: d.Members, Version: d.Version}
	}
	return out, nil
}

// EnsureRegistries creates an empty registry for every commune that has none.
func (r *Registries) EnsureRegistries(ctx context.Context, communes []string) error {
	have, err := r.RegistryCounts(ctx)
	if err != nil {
		return err
	}
	now := r.now().UTC()
	for _, c := range communes {
		if _, ok := have[c]; ok {
			continue
		}
		if _, err := r.regs.InsertOne(ctx, toRegistryDoc(&domain.CommuneRegistry{Code: c}, now)); err != nil && !isDup(err) {
			return wrap("create registry "+c, err)
		}
		if _, err := r.versions.InsertOne(ctx, versionDoc{ID: c, UpdatedAt: now}); err != nil && !isDup(err) {
			return wrap("create registry version "+c, err)
		}
	}
	return nil
}

// ReplaceRegistries overwrites the content of whole registries (demo and seed
// data) in bulk: it claims the next version of every commune, then deletes and
// inserts the documents in two commands. A commune whose claim is taken by a
// concurrent writer goes through UpdateRegistry instead.
func (r *Registries) ReplaceRegistries(ctx context.Context, regs []*domain.CommuneRegistry) error {
	counts, err := r.RegistryCounts(ctx)
	if err != nil {
		return err
	}
	now := r.now().UTC()
	var (
		ids      []string
		docs     []any
		versions []any
		slow     []*domain.CommuneRegistry
	)
	for _, g := range regs {
		v := counts[g.Code].Version + 1
		if _, err := r.claims.InsertOne(ctx, claimDoc{ID: fmt.Sprintf("%s:%d", g.Code, v), Commune: g.Code, Version: v, At: now}); err != nil {
			if !isDup(err) {
				return wrap("claim registry "+g.Code, err)
			}
			slow = append(slow, g)
			continue
		}
		next := g.Clone()
		next.Version = v
		c := next.Count()
		if _, exists := counts[g.Code]; exists {
			ids = append(ids, g.Code) // only these need deleting first
		}
		docs = append(docs, toRegistryDoc(next, now))
		versions = append(versions, versionDoc{ID: g.Code, Version: v, Villages: c.Villages, Teams: c.Teams, Members: c.Members, UpdatedAt: now})
		r.forget(g.Code)
	}
	if len(docs) > 0 {
		// A filter on several _ids is decoded in Go by FerretDB, document by
		// document: delete only what exists (nothing, when seeding a new
		// database), never the whole collection's worth.
		in := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
		for _, step := range []struct {
			coll *mongo.Collection
			docs []any
		}{{r.regs, docs}, {r.versions, versions}} {
			if len(ids) > 0 {
				if _, err := step.coll.DeleteMany(ctx, in); err != nil {
					return wrap("replace registries", err)
				}
			}
			for i := 0; i < len(step.docs); i += 200 {
				if _, err := step.coll.InsertMany(ctx, step.docs[i:min(i+200, len(step.docs))]); err != nil {
					return wrap("replace registries", err)
				}
			}
		}
	}
	for _, g := range slow {
		_, err := r.UpdateRegistry(ctx, g.Code, func(cur *domain.CommuneRegistry) error {
			v := cur.Version
			*cur = *g.Clone()
			cur.Version = v
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// forget drops the cached copy of commune.
func (r *Registries) forget(commune string) {
	e := r.entry(commune)
	e.mu.Lock()
	e.reg = nil
	e.mu.Unlock()
}

// ---- documents ----

type versionDoc struct {
	ID        string    `bson:"_id"`
	Version   int64     `bson:"version"`
	Villages  int       `bson:"villages"`
	Teams     int       `bson:"teams"`
	Members   int       `bson:"members"`
	UpdatedAt time.Time `bson:"updated_at"`
}

type claimDoc struct {
	ID      string    `bson:"_id"`
	Commune string    `bson:"commune"`
	Version int64     `bson:"version"`
	At      time.Time `bson:"at"`
}

// registryDoc is a commune's registry. Its villages, teams and members are
// one JSON string (Body): FerretDB stores every nested value with a type
// schema and decodes it field by field, which made a national read of the
// registries (3,321 documents, 340,000 members) take 50 s over PostgreSQL;
// one string per commune decodes in a fraction of that on either backend
// (`cdt export registries` gives them as ordinary documents). Format is the
// schema version of the document.
type registryDoc struct {
	ID        string    `bson:"_id"`
	Version   int64     `bson:"version"`
	Seq       seqDoc    `bson:"seq"`
	Format    int       `bson:"format"`
	Body      string    `bson:"body"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// registryFormat is the schema version of registry documents.
const registryFormat = 2

// registryBody is the JSON of a registryDoc's Body.
type registryBody struct {
	Villages []villageDoc `json:"v"`
	Teams    []teamDoc    `json:"t"`
	Members  []memberDoc  `json:"m"`
}

type seqDoc struct {
	Village int `bson:"village"`
	Team    int `bson:"team"`
	Member  int `bson:"member"`
}

type villageDoc struct {
	Code       string    `bson:"code" json:"code,omitempty"`
	Name       string    `bson:"name" json:"name,omitempty"`
	Type       string    `bson:"type" json:"type,omitempty"`
	Households int       `bson:"households" json:"households,omitempty"`
	Active     bool      `bson:"active" json:"active,omitempty"`
	CreatedAt  time.Time `bson:"created_at" json:"created_at,omitempty"`
	UpdatedAt  time.Time `bson:"updated_at" json:"updated_at,omitempty"`
}

type teamDoc struct {
	ID            string    `bson:"id" json:"id,omitempty"`
	VillageCode   string    `bson:"village_code,omitempty" json:"village_code,omitempty"`
	Name          string    `bson:"name" json:"name,omitempty"`
	EstablishedOn string    `bson:"established_on" json:"established_on,omitempty"`
	DecisionNo    string    `bson:"decision_no" json:"decision_no,omitempty"`
	Active        bool      `bson:"active" json:"active,omitempty"`
	CreatedAt     time.Time `bson:"created_at" json:"created_at,omitempty"`
	UpdatedAt     time.Time `bson:"updated_at" json:"updated_at,omitempty"`
}

type memberDoc struct {
	ID          string     `bson:"id" json:"id,omitempty"`
	TeamID      string     `bson:"team_id" json:"team_id,omitempty"`
	FullName    string     `bson:"full_name" json:"full_name,omitempty"`
	Phone       string     `bson:"phone,omitempty" json:"phone,omitempty"`
	Position    string     `bson:"position" json:"position,omitempty"`
	Affiliation string     `bson:"affiliation" json:"affiliation,omitempty"`
	Gender      string     `bson:"gender" json:"gender,omitempty"`
	BirthYear   int        `bson:"birth_year" json:"birth_year,omitempty"`
	Active      bool       `bson:"active" json:"active,omitempty"`
	JoinedOn    string     `bson:"joined_on,omitempty" json:"joined_on,omitempty"`
	LeftOn      string     `bson:"left_on,omitempty" json:"left_on,omitempty"`
	History     []eventDoc `bson:"history,omitempty" json:"history,omitempty"`
	CreatedAt   time.Time  `bson:"created_at" json:"created_at,omitempty"`
	UpdatedAt   time.Time  `bson:"updated_at" json:"updated_at,omitempty"`
}

type eventDoc struct {
	At       time.Time `bson:"at" json:"at,omitempty"`
	Kind     string    `bson:"kind" json:"kind,omitempty"`
	TeamID   string    `bson:"team_id,omitempty" json:"team_id,omitempty"`
	Position string    `bson:"position,omitempty" json:"position,omitempty"`
	By       string    `bson:"by,omitempty" json:"by,omitempty"`
}

func toRegistryDoc(g *domain.CommuneRegistry, now time.Time) registryDoc {
	d := registryDoc{ID: g.Code, Version: g.Version, Seq: seqDoc{g.Seq.Village, g.Seq.Team, g.Seq.Member}, UpdatedAt: now,
		Format: registryFormat}
	body := registryBody{Villages: make([]villageDoc, len(g.Villages)), Teams: make([]teamDoc, len(g.Teams)),
		Members: make([]memberDoc, len(g.Members))}
	for i, v := range g.Villages {
		body.Villages[i] = villageDoc{Code: v.Code, Name: v.Name, Type: v.Type, Households: v.Households, Active: v.Active,
			CreatedAt: bsonTime(v.CreatedAt), UpdatedAt: bsonTime(v.UpdatedAt)}
	}
	for i, t := range g.Teams {
		body.Teams[i] = teamDoc{ID: t.ID, VillageCode: t.VillageCode, Name: t.Name, EstablishedOn: string(t.EstablishedOn),
			DecisionNo: t.DecisionNo, Active: t.Active, CreatedAt: bsonTime(t.CreatedAt), UpdatedAt: bsonTime(t.UpdatedAt)}
	}
	for i, m := range g.Members {
		md := memberDoc{ID: m.ID, TeamID: m.TeamID, FullName: m.FullName, Phone: m.Phone, Position: string(m.Position),
			Affiliation: m.Affiliation, Gender: m.Gender, BirthYear: m.BirthYear, Active: m.Active,
			JoinedOn: string(m.JoinedOn), LeftOn: string(m.LeftOn), CreatedAt: bsonTime(m.CreatedAt), UpdatedAt: bsonTime(m.UpdatedAt)}
		for _, e := range m.History {
			md.History = append(md.History, eventDoc{At: bsonTime(e.At), Kind: e.Kind, TeamID: e.TeamID, Position: string(e.Position), By: e.By})
		}
		body.Members[i] = md
	}
	b, err := json.Marshal(body)
	if err != nil { // plain strings, numbers and times: cannot fail
		panic(fmt.Sprintf("store: encode registry %s: %v", g.Code, err))
	}
	d.Body = string(b)
	return d
}

// bsonTime is t as a BSON date keeps it (UTC, milliseconds).
func bsonTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func (d registryDoc) toDomain() (*domain.CommuneRegistry, error) {
	if d.Format != registryFormat {
		return nil, fmt.Errorf("store: registry %s: format %d, want %d", d.ID, d.Format, registryFormat)
	}
	var b registryBody
	if err := json.Unmarshal([]byte(d.Body), &b); err != nil {
		return nil, fmt.Errorf("store: registry %s: %w", d.ID, err)
	}
	g := &domain.CommuneRegistry{Code: d.ID, Version: d.Version,
		Seq:      domain.RegistrySeq{Village: d.Seq.Village, Team: d.Seq.Team, Member: d.Seq.Member},
		Villages: make([]domain.Village, len(b.Villages)), Teams: make([]domain.Team, len(b.Teams)),
		Members: make([]domain.Member, len(b.Members))}
	for i, v := range b.Villages {
		g.Villages[i] = domain.Village{Code: v.Code, CommuneCode: d.ID, Name: v.Name, Type: v.Type, Households: v.Households,
			Active: v.Active, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
	}
	for i, t := range b.Teams {
		g.Teams[i] = domain.Team{ID: t.ID, CommuneCode: d.ID, VillageCode: t.VillageCode, Name: t.Name,
			EstablishedOn: domain.Date(t.EstablishedOn), DecisionNo: t.DecisionNo, Active: t.Active,
			CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	}
	for i, m := range b.Members {
		dm := domain.Member{ID: m.ID, CommuneCode: d.ID, TeamID: m.TeamID, FullName: m.FullName, Phone: m.Phone,
			Position: domain.Position(m.Position), Affiliation: m.Affiliation, Gender: m.Gender, BirthYear: m.BirthYear,
			Active: m.Active, JoinedOn: domain.Date(m.JoinedOn), LeftOn: domain.Date(m.LeftOn),
			CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
		for _, e := range m.History {
			dm.History = append(dm.History, domain.MemberEvent{At: e.At, Kind: e.Kind, TeamID: e.TeamID, Position: domain.Position(e.Position), By: e.By})
		}
		g.Members[i] = dm
	}
	return g, nil
}
