package store

import (
	"context"
	"sort"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/hue-cdt/cdt/domain"
)

const (
	collTrainings      = "trainings"
	collTrainingClaims = "training_claims"
)

// Trainings stores one document per training with its attendees (a few
// hundred at most). Marking attendance rewrites the document after claiming
// its next version (see claimVersion), so two people marking the same course
// at once lose nothing. The whole list is cached for a second: the progress
// report reads every training.
type Trainings struct {
	coll, claims *mongo.Collection
	now          func() time.Time

	mu      sync.Mutex
	cache   []domain.Training
	cacheAt time.Time
	write   sync.Mutex
}

func newTrainings(db *mongo.Database, now func() time.Time) *Trainings {
	return &Trainings{coll: db.Collection(collTrainings), claims: db.Collection(collTrainingClaims), now: now}
}

type attendanceDoc struct {
	MemberID string    `bson:"m"`
	Commune  string    `bson:"c"`
	TeamID   string    `bson:"t"`
	MarkedAt time.Time `bson:"at"`
	By       string    `bson:"by"`
	Source   string    `bson:"src"`
}

type trainingDoc struct {
	ID             string          `bson:"_id"`
	Title          string          `bson:"title"`
	Topics         []string        `bson:"topics"`
	Level          string          `bson:"level"`
	UnitCode       string          `bson:"unit_code"`
	OrganizingUnit string          `bson:"organizing_unit,omitempty"`
	StartsAt       time.Time       `bson:"starts_at"`
	EndsAt         time.Time       `bson:"ends_at"`
	Location       string          `bson:"location,omitempty"`
	Trainer        string          `bson:"trainer,omitempty"`
	MaterialsURL   string          `bson:"materials_url,omitempty"`
	Attendees      []attendanceDoc `bson:"attendees"`
	Version        int64           `bson:"version"`
	CreatedAt      time.Time       `bson:"created_at"`
	CreatedBy      string          `bson:"created_by,omitempty"`
}

func toTrainingDoc(t domain.Training) trainingDoc {
	d := trainingDoc{ID: t.ID, Title: t.Title, Topics: t.Topics, Level: t.Level, UnitCode: t.UnitCode, OrganizingUnit: t.OrganizingUnit,
		StartsAt: t.StartsAt.UTC(), EndsAt: t.EndsAt.UTC(), Location: t.Location, Trainer: t.Trainer, MaterialsURL: t.MaterialsURL,
		Version: t.Version, CreatedAt: t.CreatedAt.UTC(), CreatedBy: t.CreatedBy, Attendees: make([]attendanceDoc, len(t.Attendees))}
	for i, a := range t.Attendees {
		d.Attendees[i] = attendanceDoc{MemberID: a.MemberID, Commune: a.Commune, TeamID: a.TeamID, MarkedAt: a.MarkedAt.UTC(), By: a.By, Source: a.Source}
	}
	return d
}

func (d trainingDoc) toDomain() domain.Training {
	t := domain.Training{ID: d.ID, Title: d.Title, Topics: d.Topics, Level: d.Level, UnitCode: d.UnitCode, OrganizingUnit: d.OrganizingUnit,
		StartsAt: d.StartsAt, EndsAt: d.EndsAt, Location: d.Location, Trainer: d.Trainer, MaterialsURL: d.MaterialsURL,
		Version: d.Version, CreatedAt: d.CreatedAt, CreatedBy: d.CreatedBy, Attendees: make([]domain.Attendance, len(d.Attendees))}
	for i, a := range d.Attendees {
		t.Attendees[i] = domain.Attendance{MemberID: a.MemberID, Commune: a.Commune, TeamID: a.TeamID, MarkedAt: a.MarkedAt, By: a.By, Source: a.Source}
	}
	return t
}

func (s *Trainings) forget() {
	s.mu.Lock()
	s.cache = nil
	s.mu.Unlock()
}

// CreateTraining inserts t (its ID is new).
func (s *Trainings) CreateTraining(ctx context.Context, t *domain.Training) error {
	_, err := s.coll.InsertOne(ctx, toTrainingDoc(*t))
	s.forget()
	return wrap("create training", err)
}

// InsertTrainings writes trainings in bulk.
func (s *Trainings) InsertTrainings(ctx context.Context, ts []domain.Training) error {
	docs := make([]any, len(ts))
	for i, t := range ts {
		docs[i] = toTrainingDoc(t)
	}
	for i := 0; i < len(docs); i += 100 {
		if _, err := s.coll.InsertMany(ctx, docs[i:min(i+100, len(docs))]); err != nil {
			return wrap("insert trainings", err)
		}
	}
	s.forget()
	return nil
}

// Training returns training id.
func (s *Trainings) Training(ctx context.Context, id string) (domain.Training, error) {
	var d trainingDoc
	if err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return domain.Training{}, wrap("training "+id, err)
	}
	return d.toDomain(), nil
}

// Trainings returns every training, newest first.
func (s *Trainings) Trainings(ctx context.Context) ([]domain.Training, error) {
	s.mu.Lock()
	if s.cache != nil && s.now().Sub(s.cacheAt) < time.Second {
		out := s.cache
		s.mu.Unlock()
		return out, nil
	}
	s.mu.Unlock()
	docs, err := findDocs[trainingDoc](ctx, "trainings", s.coll, bson.D{})
	if err != nil {
		return nil, err
	}
	out := make([]domain.Training, len(docs))
	for i, d := range docs {
		out[i] = d.toDomain()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StartsAt.After(out[j].StartsAt) })
	s.mu.Lock()
	s.cache, s.cacheAt = out, s.now()
	s.mu.Unlock()
	return out, nil
}

// UpdateTraining applies fn to a copy of training id and saves it.
func (s *Trainings) UpdateTraining(ctx context.Context, id string, fn func(*domain.Training) error) (domain.Training, error) {
	s.write.Lock()
	defer s.write.Unlock()
	defer s.forget()
	return updateVersioned(ctx, s.claims, "training-"+id, s.now, 50,
		func() (domain.Training, int64, error) {
			cur, err := s.Training(ctx, id)
			cur.Attendees = append([]domain.Attendance(nil), cur.Attendees...)
			return cur, cur.Version, err
		}, fn,
		func(next *domain.Training, v int64) error {
			next.Version = v
			_, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, toTrainingDoc(*next))
			return wrap("save training", err)
		})
}
