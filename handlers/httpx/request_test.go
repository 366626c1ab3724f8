package httpx

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
)

func TestDecodeIsStrict(t *testing.T) {
	type body struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	for name, tc := range map[string]struct {
		in     string
		status int
		code   string // error.code
	}{
		"good":          {`{"name":"a","n":1}`, 0, ""},
		"unknown field": {`{"name":"a","x":1}`, 422, "validation_failed"},
		"wrong type":    {`{"n":"1"}`, 422, "validation_failed"},
		"two values":    {`{"n":1}{"n":2}`, 400, "malformed_json"},
		"not JSON":      {`{n:1}`, 400, "malformed_json"},
		"empty":         {``, 400, "malformed_json"},
		"too large":     {`{"name":"` + strings.Repeat("a", 100) + `"}`, 413, "body_too_large"},
	} {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.in))
		var b body
		err := Decode(c, &b, 64)
		if tc.status == 0 {
			if err != nil || b.Name != "a" || b.N != 1 {
				t.Errorf("%s: %+v %v", name, b, err)
			}
			continue
		}
		if status, code := Classify(err); status != tc.status || code != tc.code {
			t.Errorf("%s: %d %s (%v), want %d %s", name, status, code, err, tc.status, tc.code)
		}
	}
}

func TestClassifyFirstMatchWins(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{domain.Invalid("name", "required"), 422},
		{domain.ErrJobRunning, 409},
		{ErrCSRF, 403},
		{errors.New("boom"), 500},
	} {
		if status, _ := Classify(tc.err); status != tc.status {
			t.Errorf("%v: %d, want %d", tc.err, status, tc.status)
		}
	}
}
