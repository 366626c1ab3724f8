package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/hue-cdt/cdt/domain"
)

// Units keeps a copy of the shipped reference units in the database, so that
// reports and tools reading the database directly see them. The server answers
// from the copy in the binary.
type Units struct {
	coll     *mongo.Collection
	settings *Settings
}

type unitDoc struct {
	ID             string `bson:"_id"` // code@valid_from
	Code           string `bson:"code"`
	Name           string `bson:"name"`
	ShortName      string `bson:"short_name"`
	Level          string `bson:"level"`
	Type           string `bson:"type"`
	ParentCode     string `bson:"parent_code,omitempty"`
	ValidFrom      string `bson:"valid_from"`
	ValidTo        string `bson:"valid_to,omitempty"`
	SuccessorCode  string `bson:"successor_code,omitempty"`
	Households2019 int    `bson:"households_2019,omitempty"`
	Population2019 int    `bson:"population_2019,omitempty"`
}

// SaveUnits writes units when they differ from the copy already stored.
func (s *Units) SaveUnits(ctx context.Context, units []domain.Unit) error {
	h := sha256.New()
	for _, u := range units {
		fmt.Fprintf(h, "%+v\n", u)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if old, ok, err := s.settings.Get(ctx, "units_sha256"); err != nil || (ok && old == sum) {
		return err
	}
	if _, err := s.coll.DeleteMany(ctx, bson.D{}); err != nil {
		return wrap("clear units", err)
	}
	docs := make([]any, len(units))
	for i, u := range units {
		docs[i] = unitDoc{ID: u.Code + "@" + string(u.ValidFrom), Code: u.Code, Name: u.Name, ShortName: u.ShortName,
			Level: string(u.Level), Type: u.Type, ParentCode: u.ParentCode, ValidFrom: string(u.ValidFrom),
			ValidTo: string(u.ValidTo), SuccessorCode: u.SuccessorCode,
			Households2019: u.Households2019, Population2019: u.Population2019}
	}
	if _, err := s.coll.InsertMany(ctx, docs); err != nil {
		return wrap("save units", err)
	}
	return s.settings.Set(ctx, "units_sha256", sum)
}

const collUnitsExtra = "units_extra"

// SaveExtraUnits stores units that are not Huế's (the synthetic provinces and
// communes of a national data set); the server adds them to its catalog.
func (s *Units) SaveExtraUnits(ctx context.Context, units []domain.Unit) error {
	coll := s.coll.Database().Collection(collUnitsExtra)
	if _, err := coll.DeleteMany(ctx, bson.D{}); err != nil {
		return wrap("clear extra units", err)
	}
	docs := make([]any, len(units))
	for i, u := range units {
		docs[i] = unitDoc{ID: u.Code + "@" + string(u.ValidFrom), Code: u.Code, Name: u.Name, ShortName: u.ShortName,
			Level: string(u.Level), Type: u.Type, ParentCode: u.ParentCode, ValidFrom: string(u.ValidFrom),
			Households2019: u.Households2019, Population2019: u.Population2019}
	}
	for i := 0; i < len(docs); i += 1000 {
		if _, err := coll.InsertMany(ctx, docs[i:min(i+1000, len(docs))]); err != nil {
			return wrap("save extra units", err)
		}
	}
	return nil
}

// ExtraUnits returns the units stored by SaveExtraUnits.
func (s *Units) ExtraUnits(ctx context.Context) ([]domain.Unit, error) {
	docs, err := findDocs[unitDoc](ctx, "extra units", s.coll.Database().Collection(collUnitsExtra), bson.D{})
	if err != nil {
		return nil, err
	}
	out := make([]domain.Unit, len(docs))
	for i, d := range docs {
		out[i] = domain.Unit{Code: d.Code, Name: d.Name, ShortName: d.ShortName, Level: domain.Level(d.Level), Type: d.Type,
			ParentCode: d.ParentCode, ValidFrom: domain.Date(d.ValidFrom), Households2019: d.Households2019, Population2019: d.Population2019}
	}
	return out, nil
}
