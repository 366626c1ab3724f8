package apptest

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"time"

	"github.com/hue-cdt/cdt/internal/app"
)

// Insecure turns off Secure cookies: Go's cookie jar sends no Secure cookie
// to http://127.0.0.1, so page tests over Browser need it.
func Insecure(c *app.Config) { c.SecureCookies = false }

// RunCoverage starts a coverage run through the API as admin and waits for it
// to succeed; it returns the run.
func (e *Env) RunCoverage(admin string) map[string]any {
	e.T.Helper()
	m := e.Must(e.Post("/api/v1/jobs/coverage/run", admin, nil), 202)
	id := m["run_id"].(string)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		runs := e.Must(e.Get("/api/v1/jobs/runs?job=coverage", admin), 200)["items"].([]any)
		for _, it := range runs {
			r := it.(map[string]any)
			if r["run_id"] == id && r["status"] != "running" {
				if r["status"] != "succeeded" {
					e.T.Fatalf("run: %v", r)
				}
				return r
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.T.Fatal("the run did not finish")
	return nil
}

// LogSome logs n records in village as the member of tok, an hour apart
// back from Start, over 7 households.
func (e *Env) LogSome(tok, village string, n int) {
	e.T.Helper()
	for i := range n {
		e.Must(e.Post("/api/v1/assistance", tok, Record(village, Start.Add(-time.Duration(i)*time.Hour),
			fmt.Sprintf("09066%05d", i%7))), 201)
	}
}

// NewTraining creates a training of unit through the API and returns its ID.
func (e *Env) NewTraining(tok, unit string) string {
	e.T.Helper()
	m := e.Must(e.Post("/api/v1/trainings", tok, map[string]any{"title": "Tập huấn VNeID mức 2", "topics": []string{"vneid_activation", "cyber_safety"},
		"unit_code": unit, "starts_at": "2026-11-10T08:00:00+07:00", "ends_at": "2026-11-10T11:30:00+07:00",
		"location": "Hội trường UBND", "trainer": "Sở KH&CN"}), 201)
	return m["id"].(string)
}

// MultipartSheet is a multipart body with data as the file name; dryRun false
// adds dry_run=false. It returns the content type and the body.
func MultipartSheet(name string, data []byte, dryRun bool) (string, []byte) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	if !dryRun {
		_ = w.WriteField("dry_run", "false")
	}
	_ = w.Close()
	return w.FormDataContentType(), body.Bytes()
}
