package ingest

import (
	"context"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// SpanRecords calls fn with every record of commune that occurred in
// [from, to), with every stored field, newest first: DayRecords over any
// span (the integrity job reads a day and the evening before it at once).
func (l *Live) SpanRecords(ctx context.Context, commune string, from, to time.Time, fn func(domain.Record) error) error {
	f := domain.RecordFilter{CommuneCode: commune, From: from, To: to}
	return l.walk(ctx, f, func(r domain.Record) (bool, error) { return true, fn(r) })
}
