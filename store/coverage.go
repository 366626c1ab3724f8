package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/domain"
)

const (
	collCoverageLatest  = "coverage_latest"
	collCoverageDays    = "coverage_days"
	collCoverageHistory = "coverage_history"
	collJobRuns         = "job_runs"
)

// Coverage stores the coverage job's figures three ways, each for one reader:
// coverage_latest (one small document per commune: the dashboards),
// coverage_days (one document per computed day: ?date=) and coverage_history
// (one document per commune and year: a commune's history). Rows are kept as
// JSON strings: FerretDB writes a type schema with every nested value.
type Coverage struct {
	latest, days, history, runs *mongo.Collection
}

func newCoverage(db *mongo.Database) *Coverage {
	return &Coverage{latest: db.Collection(collCoverageLatest), days: db.Collection(collCoverageDays),
		history: db.Collection(collCoverageHistory), runs: db.Collection(collJobRuns)}
}

// coverageV is the schema version of the coverage documents.
const coverageV = 1

type latestDoc struct {
	ID      string    `bson:"_id"`
	V       int       `bson:"v"`
	Date    string    `bson:"date"`
	RunID   string    `bson:"run_id"`
	Updated time.Time `bson:"updated"`
	Row     string    `bson:"row"`
	Trend   string    `bson:"trend"`
}

type dayDocC struct {
	ID       string    `bson:"_id"`
	V        int       `bson:"v"`
	RunID    string    `bson:"run_id"`
	Computed time.Time `bson:"computed"`
	Rows     string    `bson:"rows"`
}

type historyDoc struct {
	ID      string `bson:"_id"` // commune:year
	V       int    `bson:"v"`
	Commune string `bson:"commune"`
	Year    string `bson:"year"`
	Rows    string `bson:"rows"` // JSON object date → row (without villages)
}

// SaveCoverage stores the rows of date and the communes' latest figures.
func (s *Coverage) SaveCoverage(ctx context.Context, date domain.Date, rows []domain.CoverageRow, latest []domain.CoverageLatest, runID string) error {
	now := time.Now().UTC()
	slim := make([]domain.CoverageRow, len(rows))
	for i, r := range rows {
		r.Villages, r.IdleTeams, r.IdleMembers = nil, nil, nil // kept in the latest figures only
		slim[i] = r
	}
	b, err := json.Marshal(slim)
	if err != nil {
		return fmt.Errorf("store: coverage rows: %w", err)
	}
	if _, err := s.days.ReplaceOne(ctx, bson.D{{Key: "_id", Value: string(date)}},
		dayDocC{ID: string(date), V: coverageV, RunID: runID, Computed: now, Rows: string(b)}, upsert()); err != nil {
		return wrap("save coverage day", err)
	}
	// Each commune's history of the year: read in one query, written in a
	// few bulk writes (a round trip per commune made the job slow).
	year := string(date)[:4]
	ids := make([]string, len(slim))
	for i, r := range slim {
		ids[i] = r.CommuneCode + ":" + year
	}
	old, err := findDocs[historyDoc](ctx, "coverage history", s.history, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return err
	}
	have := map[string]string{}
	for _, h := range old {
		have[h.ID] = h.Rows
	}
	var models []mongo.WriteModel
	for i, r := range slim {
		m := map[domain.Date]domain.CoverageRow{}
		if rows := have[ids[i]]; rows != "" {
			if err := json.Unmarshal([]byte(rows), &m); err != nil {
				return fmt.Errorf("store: coverage history %s: %w", ids[i], err)
			}
		}
		m[date] = r
		hb, _ := json.Marshal(m)
		models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: ids[i]}}).
			SetReplacement(historyDoc{ID: ids[i], V: coverageV, Commune: r.CommuneCode, Year: year, Rows: string(hb)}).SetUpsert(true))
	}
	if len(models) > 0 {
		if err := replaceMany(ctx, s.history, models); err != nil {
			return wrap("save coverage history", err)
		}
	}
	models = models[:0]
	for _, l := range latest {
		rb, _ := json.Marshal(l.Row)
		tb, _ := json.Marshal(l.Trend)
		d := latestDoc{ID: l.Row.CommuneCode, V: coverageV, Date: string(l.Row.Date), RunID: runID, Updated: now, Row: string(rb), Trend: string(tb)}
		models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: d.ID}}).SetReplacement(d).SetUpsert(true))
	}
	if len(models) > 0 {
		if err := replaceMany(ctx, s.latest, models); err != nil {
			return wrap("save coverage latest", err)
		}
	}
	return nil
}

// Latest returns the latest figures of communes (every commune when nil).
func (s *Coverage) Latest(ctx context.Context, communes []string) (map[string]domain.CoverageLatest, error) {
	var docs []latestDoc
	keep := map[string]bool{}
	for _, c := range communes {
		keep[c] = true
	}
	if communes == nil || len(communes) > 8 { // one query rather than a round trip per commune
		var err error
		if docs, err = findDocs[latestDoc](ctx, "coverage latest", s.latest, bson.D{}); err != nil {
			return nil, err
		}
		if communes != nil {
			kept := docs[:0]
			for _, d := range docs {
				if keep[d.ID] {
					kept = append(kept, d)
				}
			}
			docs = kept
		}
	} else {
		for _, c := range communes {
			var d latestDoc
			err := s.latest.FindOne(ctx, bson.D{{Key: "_id", Value: c}}).Decode(&d)
			if errors.Is(err, mongo.ErrNoDocuments) {
				continue
			}
			if err != nil {
				return nil, wrap("coverage latest", err)
			}
			docs = append(docs, d)
		}
	}
	out := make(map[string]domain.CoverageLatest, len(docs))
	for _, d := range docs {
		l := domain.CoverageLatest{Updated: d.Updated, RunID: d.RunID}
		if err := json.Unmarshal([]byte(d.Row), &l.Row); err != nil {
			return nil, fmt.Errorf("store: coverage latest %s: %w", d.ID, err)
		}
		if err := json.Unmarshal([]byte(d.Trend), &l.Trend); err != nil {
			return nil, fmt.Errorf("store: coverage trend %s: %w", d.ID, err)
		}
		out[d.ID] = l
	}
	return out, nil
}

// Day returns the rows computed for date.
func (s *Coverage) Day(ctx context.Context, date domain.Date) ([]domain.CoverageRow, error) {
	var d dayDocC
	if err := s.days.FindOne(ctx, bson.D{{Key: "_id", Value: string(date)}}).Decode(&d); err != nil {
		return nil, wrap("coverage day "+string(date), err)
	}
	var rows []domain.CoverageRow
	if err := json.Unmarshal([]byte(d.Rows), &rows); err != nil {
		return nil, fmt.Errorf("store: coverage day %s: %w", date, err)
	}
	return rows, nil
}

// History returns a commune's rows for [from, to], oldest first.
func (s *Coverage) History(ctx context.Context, commune string, from, to domain.Date) ([]domain.CoverageRow, error) {
	var out []domain.CoverageRow
	for y := from.Time().Year(); y <= to.Time().Year(); y++ {
		var h historyDoc
		err := s.history.FindOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("%s:%d", commune, y)}}).Decode(&h)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, wrap("coverage history", err)
		}
		var m map[domain.Date]domain.CoverageRow
		if err := json.Unmarshal([]byte(h.Rows), &m); err != nil {
			return nil, fmt.Errorf("store: coverage history %s: %w", h.ID, err)
		}
		for d, r := range m {
			if d >= from && d <= to {
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out, nil
}

type runDoc struct {
	ID         string    `bson:"_id"`
	Job        string    `bson:"job"`
	Status     string    `bson:"status"`
	Trigger    string    `bson:"trigger"`
	Mode       string    `bson:"mode"`
	Date       string    `bson:"date"`
	Attempt    int       `bson:"attempt"`
	Owner      string    `bson:"owner"`
	StartedAt  time.Time `bson:"started_at"`
	FinishedAt time.Time `bson:"finished_at,omitempty"`
	Communes   int       `bson:"communes"`
	Records    int       `bson:"records"`
	Error      string    `bson:"error,omitempty"`
	// Interrupted: a failed run that its server's stop or death cut short.
	Interrupted bool `bson:"interrupted,omitempty"`
}

func toRunDoc(r domain.JobRun) runDoc {
	return runDoc{ID: r.ID, Job: r.Job, Status: r.Status, Trigger: r.Trigger, Mode: r.Mode, Date: string(r.Date), Attempt: r.Attempt,
		Owner: r.Owner, StartedAt: r.StartedAt.UTC(), FinishedAt: r.FinishedAt.UTC(), Communes: r.Communes, Records: r.Records, Error: r.Error,
		Interrupted: r.Interrupted}
}

// StartRun records a run that begins (its ID is new: an insert).
func (s *Coverage) StartRun(ctx context.Context, r domain.JobRun) error {
	_, err := s.runs.InsertOne(ctx, toRunDoc(r))
	return wrap("start run", err)
}

// FinishRun records a run's outcome (its owner is its only writer; the
// consolidator of a dead owner's leftovers marks abandoned runs).
func (s *Coverage) FinishRun(ctx context.Context, r domain.JobRun) error {
	_, err := s.runs.ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.ID}}, toRunDoc(r))
	return wrap("finish run", err)
}

// Runs returns the newest runs of job.
func (s *Coverage) Runs(ctx context.Context, job string, limit int) ([]domain.JobRun, error) {
	q := bson.D{}
	if job != "" {
		q = append(q, bson.E{Key: "job", Value: job})
	}
	docs, err := findDocs[runDoc](ctx, "runs", s.runs, q, options.Find().SetSort(bson.D{{Key: "started_at", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	out := make([]domain.JobRun, len(docs))
	for i, d := range docs {
		out[i] = domain.JobRun{ID: d.ID, Job: d.Job, Status: d.Status, Trigger: d.Trigger, Mode: d.Mode, Date: domain.Date(d.Date),
			Attempt: d.Attempt, Owner: d.Owner, StartedAt: d.StartedAt, FinishedAt: d.FinishedAt, Communes: d.Communes,
			Records: d.Records, Error: d.Error, Interrupted: d.Interrupted}
	}
	return out, nil
}
