package export

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
)

// Rows go out as they come, with the names of the registry and the labels of
// the catalogue; a record of a commune without a registry keeps its codes.
func TestWritersStreamRows(t *testing.T) {
	at := time.Date(2026, 11, 20, 3, 4, 5, 0, time.UTC)
	reg := &domain.CommuneRegistry{Code: "19753", Members: []domain.Member{{ID: "19753-M0001", FullName: "Trần Thị Bình"}}}
	regs := func(_ context.Context, c string) (*domain.CommuneRegistry, error) {
		if c == "19753" {
			return reg, nil
		}
		return nil, domain.ErrNotFound
	}
	const n = 2500
	src := func(_ context.Context, fn func(domain.Record) (bool, error)) error {
		for i := range n {
			c := "19753"
			if i%2 == 1 {
				c = "19999"
			}
			r := domain.Record{ID: c + "-M0001:x" + string(rune('a'+i%26)), MemberID: c + "-M0001", CommuneCode: c, Service: "hue_s",
				Outcome: "done", OccurredAt: at, Day: domain.DateOf(at), RecordedAt: at, Household: "q5uZ3hlvUqW2dpTdkJz3ZA"}
			if ok, err := fn(r); !ok || err != nil {
				return err
			}
		}
		return nil
	}
	var csvOut, xlsxOut bytes.Buffer
	if k, err := CSV(context.Background(), &csvOut, i18n.For("vi"), regs, src); err != nil || k != n {
		t.Fatalf("csv: %d %v", k, err)
	}
	if bytes.Contains(csvOut.Bytes(), []byte("q5uZ")) || !bytes.Contains(csvOut.Bytes(), []byte("Trần Thị Bình")) ||
		!bytes.Contains(csvOut.Bytes(), []byte("2026-11-20 10:04:05")) {
		t.Fatalf("csv: %.300s", csvOut.String())
	}
	if k, err := XLSX(context.Background(), &xlsxOut, i18n.For("en"), regs, src); err != nil || k != n {
		t.Fatalf("xlsx: %d %v", k, err)
	}
	f, err := excelize.OpenReader(&xlsxOut)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("Records")
	if err != nil || len(rows) != n+1 || rows[0][10] != "Member name" || rows[1][10] != "Trần Thị Bình" || rows[2][10] != "" {
		t.Fatalf("%d rows %v: %q %q", len(rows), err, rows[0], rows[1])
	}
}
