// Package browsertest drives Debian's headless Chromium with chromedp for the
// field app's tests: phone-sized viewport, service worker, offline mode.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Chromium is the browser the tests use (apt-get install chromium).
const Chromium = "/usr/bin/chromium"

// Browser is one fresh Chromium profile.
type Browser struct {
	T   testing.TB
	Ctx context.Context
	sw  context.Context
}

// New starts Chromium with an empty profile, talking only to loopback.
func New(t testing.TB) *Browser {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		t.Fatalf("browser tests need %s (apt-get install chromium; .ci/run installs it): %v", Chromium, err)
	}
	// On a busy machine Chromium now and then fails to start ("chrome failed
	// to start" with nothing on stderr): try once more before failing.
	var err error
	for range 2 {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(Chromium), chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"),
			chromedp.UserDataDir(t.TempDir()))
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(actx)
		// The first action starts the browser, which lives as long as the
		// context of that call: no timeout here.
		if err = chromedp.Do(ctx, chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2))); err == nil {
			t.Cleanup(func() { cancel(); acancel() })
			return &Browser{T: t, Ctx: ctx}
		}
		cancel()
		acancel()
	}
	t.Fatal(err)
	return nil
}

// Must runs actions and fails the test on error.
func (b *Browser) Must(actions ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.T.Fatal(err)
	}
}

// Eval evaluates a JavaScript expression (awaiting a promise).
func Eval[T any](b *Browser, expr string) T {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.T.Fatalf("%s: %v", expr, err)
	}
	return v
}

// Until polls a JavaScript expression until it is true. A navigation in
// between destroys the page's context: polling starts again on the new page.
func (b *Browser) Until(expr string) {
	b.T.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.Ctx, time.Until(deadline))
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || !navigating(err) {
			b.T.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func navigating(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Cannot find context") || strings.Contains(s, "navigated or closed") ||
		strings.Contains(s, "Execution context was destroyed")
}

// WaitController waits until a service worker controls the page (reloading
// once: right after registration it may not, in 1–2 of 20 fresh browsers).
func (b *Browser) WaitController() {
	b.T.Helper()
	Eval[bool](b, "navigator.serviceWorker.ready.then(() => true)")
	if !Eval[bool](b, "!!navigator.serviceWorker.controller") {
		b.Must(chromedp.Reload())
	}
	b.Until("!!navigator.serviceWorker.controller")
}

func setOffline(off bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if err := emulateOffline(ctx, t, off); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState,
			network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	})
}

// emulateOffline blocks (or restores) the target's network. Chromium 156
// takes the experimental Network.emulateNetworkConditionsByRule; 148 answers
// it with "Invalid parameters" (-32602). The legacy
// Network.emulateNetworkConditions, which cdproto no longer lists, works on
// both, so it is the fallback whenever ByRule is refused.
func emulateOffline(ctx context.Context, t *chromedp.Target, off bool) error {
	all := []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}}
	_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule,
		network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: all})
	if err == nil {
		return nil
	}
	legacy := map[string]any{"offline": off, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
	if lerr := t.Call(ctx, "Network.emulateNetworkConditions", legacy, nil); lerr != nil {
		return fmt.Errorf("emulateNetworkConditionsByRule: %v; legacy emulateNetworkConditions: %w", err, lerr)
	}
	return nil
}

// Offline cuts (or restores) the network of the page and of its service
// worker: requests fail at once, navigator.onLine and its events follow.
func (b *Browser) Offline(off bool) {
	b.T.Helper()
	if b.sw == nil {
		var id target.ID
		deadline := time.Now().Add(10 * time.Second)
		for id == "" && time.Now().Before(deadline) {
			infos, err := chromedp.Targets(b.Ctx)
			if err != nil {
				b.T.Fatal(err)
			}
			for _, in := range infos {
				if in.Type == "service_worker" {
					id = in.TargetID
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if id == "" {
			b.T.Fatal("no service worker target")
		}
		sw, cancel := chromedp.NewContext(b.Ctx, chromedp.WithTargetID(id), chromedp.WithDetachOnCancel())
		b.T.Cleanup(cancel)
		if err := chromedp.Do(sw); err != nil {
			b.T.Fatal(err)
		}
		b.sw = sw
	}
	b.Must(setOffline(off))
	if err := chromedp.Do(b.sw, setOffline(off)); err != nil {
		b.T.Fatal(err)
	}
}

// Screenshot saves a PNG of the viewport under the artifacts directory
// (CDT_ARTIFACTS, or artifacts/ at the top of the repository).
func (b *Browser) Screenshot(name string) string {
	b.T.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.T.Fatal(err)
	}
	return b.save(name, png)
}

// save writes an artifact of the test and returns its path.
func (b *Browser) save(name string, data []byte) string {
	b.T.Helper()
	dir := os.Getenv("CDT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(repoRoot(), "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.T.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.T.Fatal(err)
	}
	return path
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

// Login signs in through the login form.
func (b *Browser) Login(base, user, password string) {
	b.T.Helper()
	b.Must(chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", user), chromedp.SendKeys("#password", password), chromedp.Submit("#password"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.Ctx, 2*time.Second)
		left, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("location.pathname !== '/login'"))
		cancel()
		if err == nil && left {
			return
		}
		if time.Now().After(deadline) {
			text, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string]("location.href + '\\n' + document.body.innerText"))
			b.T.Fatalf("signing in as %s: still on the login page: %v\n%s", user, err, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ShiftClock moves the clock of every page the browser opens from now on by
// d (a phone whose clock is off): Date and Date.now, not timers.
func (b *Browser) ShiftClock(d time.Duration) {
	b.T.Helper()
	src := fmt.Sprintf(`(() => {
  const off = %d, R = Date;
  class D extends R {
    constructor(...a) { if (a.length) super(...a); else super(R.now() + off); }
    static now() { return R.now() + off; }
  }
  globalThis.Date = D;
})();`, d.Milliseconds())
	b.Must(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	}))
}

// ClearCookies drops every cookie of the browser, as it drops expired ones.
func (b *Browser) ClearCookies() {
	b.T.Helper()
	b.Must(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
}

// Media emulates a CSS media type ("print", "screen"; "" ends the emulation).
func (b *Browser) Media(media string) {
	b.T.Helper()
	b.Must(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	}))
}

// Viewport sets the page's size in CSS pixels.
func (b *Browser) Viewport(w, h int64) {
	b.T.Helper()
	b.Must(chromedp.EmulateViewport(w, h, chromedp.EmulateScale(1)))
}

// PDF prints the page on A4 paper (Chromium's default 1 cm margins) and
// saves it under the artifacts directory; it returns the path.
func (b *Browser) PDF(name string) string {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.Action[page.PrintToPDFResult](func(ctx context.Context, t *chromedp.Target) (page.PrintToPDFResult, error) {
		return cdp.Call(ctx, t, page.PrintToPDF, page.PrintToPDFParams{PaperWidth: 8.27, PaperHeight: 11.69})
	}))
	if err != nil {
		b.T.Fatal(err)
	}
	return b.save(name, res.Data)
}
