package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
	"github.com/hue-cdt/cdt/seed"
)

// A registry is stored as one JSON string with its format (the schema
// version), read back equal by another process; a document of another format
// is refused rather than misread.
func TestRegistryFormat(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	units := []domain.Unit{{Code: "19753", Name: "Phường Phú Xuân", Level: domain.LevelCommune}}
	regs := seed.Registries(units, seed.Shape{Villages: 3, Teams: 2, Members: 6}, 3, "2026-11-21")
	if err := db.Registry.EnsureRegistries(ctx, []string{"19753"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Registry.ReplaceRegistries(ctx, regs); err != nil {
		t.Fatal(err)
	}
	v2, err := db.Registry.UpdateRegistry(ctx, "19753", func(r *domain.CommuneRegistry) error {
		r.Villages[0].Households = 181
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var raw bson.M
	if err := db.Database.Collection("registries").FindOne(ctx, bson.D{{Key: "_id", Value: "19753"}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if raw["format"] != int32(2) || raw["body"] == nil || raw["members"] != nil || raw["villages"] != nil {
		t.Fatalf("stored document: format %v, body %T, members %v", raw["format"], raw["body"], raw["members"])
	}
	other := testdb.OpenNamed(t, db.Database.Name()) // a second process: no cache
	back, err := other.Registry.Registry(ctx, "19753")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Villages, v2.Villages) || !reflect.DeepEqual(back.Members, v2.Members) || back.Version != v2.Version {
		t.Fatalf("read back:\n got  %+v\n want %+v", back, v2)
	}
	at := time.Date(2025, 8, 1, 2, 3, 4, 0, time.UTC)
	if _, err := db.Database.Collection("registries").InsertOne(ctx, bson.D{{Key: "_id", Value: "20179"},
		{Key: "version", Value: int64(1)}, {Key: "format", Value: 1}, {Key: "villages", Value: bson.A{}}, {Key: "updated_at", Value: at}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Database.Collection("registry_versions").InsertOne(ctx, bson.D{{Key: "_id", Value: "20179"},
		{Key: "version", Value: int64(1)}, {Key: "updated_at", Value: at}}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Registry.Registry(ctx, "20179"); err == nil {
		t.Fatal("a document of format 1 was read")
	}
}
