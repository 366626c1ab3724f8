package httpx

import (
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/hue-cdt/cdt/domain"
)

// Limiters hands out one token bucket per key and forgets idle ones. One set
// serves the whole server, so the API and the pages share their buckets.
type Limiters struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

// NewLimiters returns an empty set of buckets.
func NewLimiters() *Limiters { return &Limiters{buckets: map[string]*bucket{}} }

// Allow takes one token from the bucket of key, created with r per second and burst.
func (ls *Limiters) Allow(key string, r rate.Limit, burst int) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	now := time.Now()
	if now.Sub(ls.sweep) > time.Minute {
		for k, b := range ls.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(ls.buckets, k)
			}
		}
		ls.sweep = now
	}
	b, ok := ls.buckets[key]
	if !ok {
		b = &bucket{l: rate.NewLimiter(r, burst)}
		ls.buckets[key] = b
	}
	b.seen = now
	return b.l.AllowN(now, 1)
}

// Login rate-limits login attempts per client address: three times
// perMinute a minute, whatever the usernames (ErrRateLimited beyond). The
// attempts on one username are held back by core.Login's back-off instead,
// which never locks the owner out.
func (ls *Limiters) Login(c *gin.Context, perMinute int) error {
	per := rate.Limit(float64(perMinute) / 60)
	if !ls.Allow("login-ip:"+c.ClientIP(), per*3, perMinute*3) {
		return domain.ErrRateLimited
	}
	return nil
}
