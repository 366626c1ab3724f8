package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
)

// A registry is stored as one JSON string (format 2); documents of format 1,
// with villages, teams and members as arrays, are still read.
func TestRegistryFormats(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	at := time.Date(2025, 8, 1, 2, 3, 4, 567_891_000, time.FixedZone("ICT", 7*3600))
	old := bson.D{{Key: "_id", Value: "19753"}, {Key: "version", Value: int64(3)},
		{Key: "seq", Value: bson.D{{Key: "village", Value: 1}, {Key: "team", Value: 1}, {Key: "member", Value: 1}}},
		{Key: "villages", Value: bson.A{bson.D{{Key: "code", Value: "19753-001"}, {Key: "name", Value: "Thôn Phú Lộc"},
			{Key: "type", Value: "thon"}, {Key: "households", Value: 180}, {Key: "active", Value: true},
			{Key: "created_at", Value: at}, {Key: "updated_at", Value: at}}}},
		{Key: "teams", Value: bson.A{bson.D{{Key: "id", Value: "19753-T001"}, {Key: "village_code", Value: "19753-001"},
			{Key: "name", Value: "Tổ CNSCĐ thôn Phú Lộc"}, {Key: "established_on", Value: "2025-08-01"},
			{Key: "decision_no", Value: "12/QĐ-UBND"}, {Key: "active", Value: true},
			{Key: "created_at", Value: at}, {Key: "updated_at", Value: at}}}},
		{Key: "members", Value: bson.A{bson.D{{Key: "id", Value: "19753-M0001"}, {Key: "team_id", Value: "19753-T001"},
			{Key: "full_name", Value: "Nguyễn Thị Lan"}, {Key: "phone", Value: "0905123456"}, {Key: "position", Value: "leader"},
			{Key: "affiliation", Value: "youth_union"}, {Key: "gender", Value: "f"}, {Key: "birth_year", Value: 1994},
			{Key: "active", Value: true}, {Key: "joined_on", Value: "2025-08-01"},
			{Key: "history", Value: bson.A{bson.D{{Key: "at", Value: at}, {Key: "kind", Value: "joined"},
				{Key: "team_id", Value: "19753-T001"}, {Key: "position", Value: "leader"}}}},
			{Key: "created_at", Value: at}, {Key: "updated_at", Value: at}}}},
		{Key: "updated_at", Value: at}}
	if _, err := db.Database.Collection("registries").InsertOne(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Database.Collection("registry_versions").InsertOne(ctx,
		bson.D{{Key: "_id", Value: "19753"}, {Key: "version", Value: int64(3)}, {Key: "villages", Value: 1},
			{Key: "teams", Value: 1}, {Key: "members", Value: 1}, {Key: "updated_at", Value: at}}); err != nil {
		t.Fatal(err)
	}
	v1, err := db.Registry.Registry(ctx, "19753")
	if err != nil {
		t.Fatal(err)
	}
	ms := at.UTC().Truncate(time.Millisecond)
	if len(v1.Members) != 1 || v1.Members[0].FullName != "Nguyễn Thị Lan" || v1.Members[0].History[0].Kind != "joined" ||
		!v1.Members[0].CreatedAt.Equal(ms) || v1.Villages[0].Households != 180 || v1.Teams[0].DecisionNo != "12/QĐ-UBND" {
		t.Fatalf("format 1 read: %+v", v1)
	}

	// A write stores format 2; what is read back equals what format 1 gave,
	// plus the change.
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
	if raw["format"] != int32(2) || raw["body"] == nil || raw["members"] != nil {
		t.Fatalf("stored document: format %v, body %T, members %v", raw["format"], raw["body"], raw["members"])
	}
	other := testdb.OpenNamed(t, db.Database.Name()) // a second process: no cache
	back, err := other.Registry.Registry(ctx, "19753")
	if err != nil {
		t.Fatal(err)
	}
	want := *v1
	want.Version, want.Villages = v2.Version, append([]domain.Village(nil), v1.Villages...)
	want.Villages[0].Households = 181
	got := *back
	got.Villages[0].UpdatedAt = want.Villages[0].UpdatedAt // the write stamps it
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("format 2 read back:\n got  %+v\n want %+v", got, want)
	}
}
