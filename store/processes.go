package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/hue-cdt/cdt/domain"
)

const collProcesses = "processes"

// Processes is the registry of running servers (crash recovery of deltas).
type Processes struct {
	coll *mongo.Collection
}

type processDoc struct {
	ID        string    `bson:"_id"`
	Host      string    `bson:"host"`
	PID       int       `bson:"pid"`
	Started   time.Time `bson:"started"`
	Heartbeat time.Time `bson:"heartbeat"`
	Flushed   int64     `bson:"flushed"`
	Stopped   bool      `bson:"stopped"`
	Inflight  time.Time `bson:"inflight,omitempty"`
}

// SaveProcess writes p; each process writes only its own document, and only
// the consolidator marks a dead one recovered.
func (s *Processes) SaveProcess(ctx context.Context, p domain.Process) error {
	_, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: p.ID}}, processDoc{ID: p.ID, Host: p.Host, PID: p.PID,
		Started: p.Started.UTC(), Heartbeat: p.Heartbeat.UTC(), Flushed: p.Flushed, Stopped: p.Stopped, Inflight: utcOrZero(p.Inflight)}, upsert())
	return wrap("save process", err)
}

// Processes lists the registry.
func (s *Processes) Processes(ctx context.Context) ([]domain.Process, error) {
	docs, err := findDocs[processDoc](ctx, "processes", s.coll, bson.D{})
	if err != nil {
		return nil, err
	}
	out := make([]domain.Process, len(docs))
	for i, d := range docs {
		out[i] = domain.Process{ID: d.ID, Host: d.Host, PID: d.PID, Started: d.Started, Heartbeat: d.Heartbeat,
			Flushed: d.Flushed, Stopped: d.Stopped, Inflight: d.Inflight}
	}
	return out, nil
}

// DeleteProcesses removes the entries of processes with no heartbeat since
// before, stopped or dead: a process is dead after domain.DeadAfter (seconds),
// and nothing reads an entry that old (the leases ask about the living).
func (s *Processes) DeleteProcesses(ctx context.Context, before time.Time) (int, error) {
	res, err := s.coll.DeleteMany(ctx, bson.D{{Key: "heartbeat", Value: bson.D{{Key: "$lt", Value: before.UTC()}}}})
	if err != nil {
		return 0, wrap("delete processes", err)
	}
	return int(res.DeletedCount), nil
}
