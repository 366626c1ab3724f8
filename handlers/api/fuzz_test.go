package api

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
)

// FuzzDecodeBatch feeds the batch decoding of POST /assistance/batch any
// body: it never panics; a body it takes yields one outcome per record, a
// decoding error or a record that the domain's rules judge (valid, or a
// validation error naming its fields), never a crash.
func FuzzDecodeBatch(f *testing.F) {
	good := `{"client_id":"7b2f8c1e-0d4a-4f7e-9a51-3c2b1d0e9f88","service":"hue_s","household_ref":"0905 111 222",` +
		`"village_code":"19753-001","occurred_at":"2026-11-21T08:00:00+07:00","outcome":"done","note":"gọi 0905111222"}`
	for _, s := range []string{`{"records":[` + good + `]}`, `{"records":[` + good + `,{"client_id":1},{"x":2},null,[]],"sent_at":"2026-11-21T01:00:00Z"}`,
		`{"records":[]}`, `{}`, `[]`, `{"records":[{"client_id":"a","note":"` + string(bytes.Repeat([]byte("é"), 600)) + `"}]}`} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	reg := &domain.CommuneRegistry{Code: "19753"}
	v, err := reg.AddVillage(domain.NewVillage{Name: "Tổ dân phố 1", Type: domain.TypeToDanPho, Households: 200}, now)
	if err != nil {
		f.Fatal(err)
	}
	tm, err := reg.AddTeam(domain.NewTeam{Name: "Tổ 1", VillageCode: v.Code, EstablishedOn: "2025-08-01", DecisionNo: "1/QĐ"}, "2026-11-21", now)
	if err != nil {
		f.Fatal(err)
	}
	m, err := reg.AddMember(domain.NewMember{TeamID: tm.ID, FullName: "Nguyễn Thị Lan", Phone: "0905111222", Position: "member",
		Affiliation: "youth_union", Gender: "f", BirthYear: 1990}, "test", "2026-11-21", now)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req batchRequest
		if err := httpx.DecodeJSON(bytes.NewReader(body), &req); err != nil {
			var ve *domain.ValidationError
			if !errors.Is(err, httpx.ErrMalformed) && !errors.As(err, &ve) {
				t.Fatalf("%q: %v is neither malformed nor invalid", body, err)
			}
			return
		}
		recs, bad := decodeRecords(req.Records)
		if len(recs) != len(req.Records) || len(bad) != len(req.Records) {
			t.Fatalf("%d records, %d outcomes, %d errors", len(req.Records), len(recs), len(bad))
		}
		for i, in := range recs {
			if bad[i] != nil {
				continue
			}
			rec, _, err := domain.RecordFor(in, m, reg, "lan", now, 0)
			var ve *domain.ValidationError
			switch {
			case err != nil && !errors.As(err, &ve):
				t.Fatalf("record %d: %v", i, err)
			case err == nil && (rec.MemberID != m.ID || rec.ClientID == ""):
				t.Fatalf("record %d: %+v", i, rec)
			}
		}
	})
}
