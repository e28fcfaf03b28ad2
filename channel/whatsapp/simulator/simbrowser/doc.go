// Package simbrowser drives the WhatsApp simulator's chat page (/sim) in
// headless Chromium, for tests: a person picks a name and a number, writes,
// taps reply buttons, picks list rows and watches the ticks, through the
// page's data-testid attributes.
//
// It owns the browser plumbing (Chromium's flags, a fresh profile per test,
// the page's JavaScript errors reported as test errors) and the steps a test
// scenario is made of. Open skips the test when Chromium is missing, and
// fails it under CI=true: scripts/setup-chromium.sh installs it.
//
// A Page belongs to the goroutine of the test that opened it: its methods
// end the test with t.Fatalf when a step fails, after showing the chat.
// Several tests may each open their own Page in parallel.
package simbrowser
