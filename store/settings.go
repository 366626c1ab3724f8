package store

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Settings stores small named values: generated secrets, data-set markers.
type Settings struct{ coll *mongo.Collection }

type settingDoc struct {
	ID    string `bson:"_id"`
	Value string `bson:"value"`
}

// Get returns setting name, or "" and false.
func (s *Settings) Get(ctx context.Context, name string) (string, bool, error) {
	var d settingDoc
	err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: name}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", false, nil
	}
	if err != nil {
		return "", false, wrap("get setting "+name, err)
	}
	return d.Value, true, nil
}

// Set writes setting name. Only one process writes a given setting.
func (s *Settings) Set(ctx context.Context, name, value string) error {
	_, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: name}}, settingDoc{name, value}, upsert())
	return wrap("set setting "+name, err)
}

// GetOrCreateSetting returns setting name, creating it with create() when absent.
// The insert decides between concurrent creators: all get the stored value.
func (s *Settings) GetOrCreateSetting(ctx context.Context, name string, create func() (string, error)) (string, error) {
	if v, ok, err := s.Get(ctx, name); err != nil || ok {
		return v, err
	}
	v, err := create()
	if err != nil {
		return "", err
	}
	if _, err := s.coll.InsertOne(ctx, settingDoc{name, v}); err != nil && !isDup(err) {
		return "", wrap("create setting "+name, err)
	}
	v, _, err = s.Get(ctx, name)
	return v, err
}
