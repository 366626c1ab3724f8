package httpx

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
)

// OperationsClient admits the clients of the operations endpoints (GET
// /metrics), as API.md says: with a token configured (CDT_METRICS_TOKEN),
// only "Authorization: Bearer <token>" (ErrUnauthorized otherwise); without
// one, only clients on the loopback interface that came through no proxy
// (ErrForbidden otherwise). The address is the TCP peer's: a forwarded
// address is never believed here, and a request carrying one is refused, so
// a reverse proxy on the same machine does not open the metrics to the
// world — behind a proxy, set the token.
func OperationsClient(c *gin.Context, token string) error {
	if token != "" {
		got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
			return domain.ErrUnauthorized
		}
		return nil
	}
	host, _, err := net.SplitHostPort(c.Request.RemoteAddr)
	if err != nil {
		host = c.Request.RemoteAddr
	}
	ip := net.ParseIP(host)
	h := c.Request.Header
	if ip == nil || !ip.IsLoopback() || h.Get("X-Forwarded-For") != "" || h.Get("Forwarded") != "" || h.Get("X-Real-Ip") != "" {
		return domain.ErrForbidden
	}
	return nil
}

// ServeOperations answers an operations endpoint with h when the client is
// admitted (OperationsClient), in the API's error format otherwise.
func ServeOperations(c *gin.Context, token string, h http.Handler) {
	if err := OperationsClient(c, token); err != nil {
		Fail(c, err)
		return
	}
	h.ServeHTTP(c.Writer, c.Request)
}
