package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/domain"
)

// LoginThrottles keeps the failed sign-ins: one small document per username
// that failed in the last week (login_throttles), read by every sign-in, so
// the collection stays small (usernames without failure for a week are
// deleted by the hourly housekeeping).
type LoginThrottles struct{ coll *mongo.Collection }

type throttleDoc struct {
	ID       string    `bson:"_id"` // the username
	Failures int       `bson:"failures"`
	Last     time.Time `bson:"last"`
	Total    int       `bson:"total"`
	First    time.Time `bson:"first"`
	Clients  string    `bson:"clients,omitempty"` // JSON: address → failures
}

type clientJSON struct {
	N    int       `json:"n"`
	Last time.Time `json:"t"`
}

func (d throttleDoc) toDomain() domain.LoginThrottle {
	t := domain.LoginThrottle{Username: d.ID, Failures: d.Failures, Last: d.Last, Total: d.Total, First: d.First}
	if d.Clients != "" {
		var cs map[string]clientJSON
		if json.Unmarshal([]byte(d.Clients), &cs) == nil {
			t.Clients = map[string]domain.ClientFailures{}
			for k, c := range cs {
				t.Clients[k] = domain.ClientFailures{Failures: c.N, Last: c.Last}
			}
		}
	}
	return t
}

// LoginThrottle returns the failures on username (the zero value when none).
func (s *LoginThrottles) LoginThrottle(ctx context.Context, username string) (domain.LoginThrottle, error) {
	var d throttleDoc
	err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: username}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return domain.LoginThrottle{Username: username}, nil
	}
	if err != nil {
		return domain.LoginThrottle{}, wrap("find login throttle", err)
	}
	return d.toDomain(), nil
}

// SaveLoginThrottle stores t, or deletes it when there is nothing to keep.
// Two servers saving one username at once may lose one failure of the
// count: sign-ins are serialised per username within a server, and the
// per-address limit bounds what a guesser gains.
func (s *LoginThrottles) SaveLoginThrottle(ctx context.Context, t domain.LoginThrottle, now time.Time) error {
	if t.Empty(now) {
		_, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: t.Username}})
		return wrap("delete login throttle", err)
	}
	d := throttleDoc{ID: t.Username, Failures: t.Failures, Last: t.Last.UTC(), Total: t.Total, First: t.First.UTC()}
	if len(t.Clients) > 0 {
		cs := map[string]clientJSON{}
		for k, c := range t.Clients {
			cs[k] = clientJSON{N: c.Failures, Last: c.Last.UTC()}
		}
		b, _ := json.Marshal(cs)
		d.Clients = string(b)
	}
	_, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: t.Username}}, d, options.Replace().SetUpsert(true))
	if isDup(err) { // two first failures at once: the loser replaces
		_, err = s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: t.Username}}, d)
	}
	return wrap("save login throttle", err)
}

// LoginThrottles returns those of usernames that have failures.
func (s *LoginThrottles) LoginThrottles(ctx context.Context, usernames []string) (map[string]domain.LoginThrottle, error) {
	out := map[string]domain.LoginThrottle{}
	if len(usernames) == 0 {
		return out, nil
	}
	docs, err := findDocs[throttleDoc](ctx, "find login throttles", s.coll, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: usernames}}}})
	for _, d := range docs {
		out[d.ID] = d.toDomain()
	}
	return out, err
}

// DeleteLoginThrottles forgets the usernames without failure since before,
// and those without a notice since unowned.
func (s *LoginThrottles) DeleteLoginThrottles(ctx context.Context, before, unowned time.Time) error {
	_, err := s.coll.DeleteMany(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "last", Value: bson.D{{Key: "$lt", Value: before.UTC()}}}},
		bson.D{{Key: "total", Value: 0}, {Key: "last", Value: bson.D{{Key: "$lt", Value: unowned.UTC()}}}},
	}}})
	return wrap("delete login throttles", err)
}
