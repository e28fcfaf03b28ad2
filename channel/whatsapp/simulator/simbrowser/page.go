package simbrowser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where scripts/setup-chromium.sh installs Chromium.
const ChromiumPath = "/usr/bin/chromium"

// StepTimeout bounds one step of a scenario: a wait for the page, or an
// action and the waits that confirm it.
const StepTimeout = 15 * time.Second

// Page is a headless Chromium tab that reports the page's JavaScript errors
// as errors of its test.
type Page struct {
	t   *testing.T
	ctx context.Context

	mu     sync.Mutex
	errors []string
}

// Open starts headless Chromium with a fresh profile, closed at the end of
// the test. Without Chromium the test is skipped, or fails under CI=true.
func Open(t *testing.T) *Page {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is missing at %s: run scripts/setup-chromium.sh", ChromiumPath)
		}
		t.Skipf("Chromium is missing at %s: run scripts/setup-chromium.sh to run the browser test", ChromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	// Registered after TempDir, so the browser is gone before its profile
	// directory is removed.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	p := &Page{t: t, ctx: ctx}
	// The first call starts the browser, tied to ctx rather than to a step's
	// timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", ChromiumPath, err)
	}
	console := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range console {
			if err != nil {
				return
			}
			// Source is empty for the page's own console calls and
			// exceptions; network log entries (a refused tap) are expected.
			if m.Source == "" && (m.IsException() || m.Type == chromedp.ConsoleError) {
				p.fail(m.String())
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.errors {
			t.Error("page: " + e)
		}
	})
	return p
}

func (p *Page) fail(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errors = append(p.errors, msg)
}

// Do performs one step of the scenario within StepTimeout; on failure it
// ends the test and shows the chat.
func (p *Page) Do(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	run(p, step, chromedp.Steps(actions...))
}

// run performs the action a as the step named step and returns its value;
// on failure it ends the test and shows the chat.
func run[T any](p *Page, step string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		dump, cancelDump := context.WithTimeout(p.ctx, 5*time.Second)
		defer cancelDump()
		html, _ := chromedp.Run(dump, chromedp.OuterHTML(chromedp.CSS(`[data-testid="messages"]`)))
		p.t.Fatalf("%s: %v\nmessages on the page:\n%s", step, err, html)
	}
	return v
}

// Text waits for the element sel to be visible and returns its text, as
// shown and trimmed.
func (p *Page) Text(sel string) string {
	p.t.Helper()
	s := run(p, "reading the text of "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	return strings.TrimSpace(s)
}

// Count returns how many elements match sel now.
func (p *Page) Count(sel string) int {
	p.t.Helper()
	return run(p, "counting "+sel, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%s).length", jsString(sel))))
}

// Screenshot saves a PNG of the browser's window to path, creating its
// directory.
func (p *Page) Screenshot(path string) {
	p.t.Helper()
	png := run(p, "taking a screenshot", chromedp.CaptureScreenshot())
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// Visible waits until an element matching the CSS selector sel is shown.
func Visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// Gone waits until the element sel is hidden.
func Gone(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitNotVisible(chromedp.CSS(sel))
}

// Click clicks the element sel once it is shown.
func Click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
}

// Keys types v into the element sel.
func Keys(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), v, chromedp.NodeVisible)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}
