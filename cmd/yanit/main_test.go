package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/yanit/yanit/store/postgres/pgtest"
)

// TestMain lets the test binary act as the yanit binary for process tests:
// with YANIT_TEST_AS_CLI set it runs main with the arguments after "--".
func TestMain(m *testing.M) {
	if os.Getenv("YANIT_TEST_AS_SIM") == "1" {
		runSimulatorProcess() // BenchmarkCampaign's WhatsApp
		return
	}
	if os.Getenv("YANIT_TEST_AS_CLI") == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"yanit"}, os.Args[i+1:]...)
				break
			}
		}
		main()
		return
	}
	code := m.Run()
	for _, dir := range []string{cliDir, routerDir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

var (
	cliOnce sync.Once
	cliDir  string
	cliPath string
	cliErr  error
)

// cliCommand is the yanit CLI with args as a child process. It is this
// test binary acting as yanit, or, under -race, a yanit binary of this
// package built once without the race detector: the race detector slows
// the classifier's training tenfold, and process tests are about what the
// process does (the in-process tests keep running under -race).
func cliCommand(t *testing.T, ctx context.Context, args ...string) *exec.Cmd {
	t.Helper()
	if !raceEnabled() {
		cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
		cmd.Env = append(os.Environ(), "YANIT_TEST_AS_CLI=1")
		return cmd
	}
	cliOnce.Do(func() {
		if cliDir, cliErr = os.MkdirTemp("", "yanit-cli-"); cliErr != nil {
			return
		}
		cliPath = filepath.Join(cliDir, "yanit")
		// Built in this package's directory: a test may have moved into a
		// temporary one (isolate) before its first process starts.
		_, self, _, _ := runtime.Caller(0)
		build := exec.Command("go", "build", "-o", cliPath, ".")
		build.Dir = filepath.Dir(self)
		if out, err := build.CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("building yanit without -race: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	cmd := exec.CommandContext(ctx, cliPath, args...)
	cmd.Env = os.Environ()
	return cmd
}

// run executes the CLI in-process and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// isolate keeps the developer's environment out of a test.
func isolate(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "YANIT_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Chdir(t.TempDir())
}

func TestBadUsage(t *testing.T) {
	isolate(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"serve", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"version", "extra"}, "unknown command"},
	}
	for _, c := range cases {
		code, _, stderr := run(t, c.args...)
		if code == 0 {
			t.Errorf("%v: exit 0, want non-zero", c.args)
		}
		if !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "Usage:") {
			t.Errorf("%v: stderr = %q, want %q and the usage", c.args, stderr, c.want)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "yanit dev (go1.") {
		t.Fatalf("version = %d %q", code, out)
	}
}

func TestConfigPrintMasksSecrets(t *testing.T) {
	isolate(t)
	t.Setenv("YANIT_WHATSAPP_APP_SECRET", "very-secret-app-secret")
	t.Setenv("YANIT_DATABASE_URL", "postgres://yanit:pa55word@db.example:5432/yanit")
	t.Setenv("YANIT_HTTP_ADDR", ":9999")
	code, out, stderr := run(t, "config", "print")
	if code != 0 {
		t.Fatalf("config print = %d: %s", code, stderr)
	}
	if strings.Contains(out, "very-secret-app-secret") || strings.Contains(out, "pa55word") {
		t.Fatalf("config print shows a secret:\n%s", out)
	}
	for _, want := range []string{`addr: :9999`, `app_secret: '****'`, "db.example:5432/yanit", "lease: 30s"} {
		if !strings.Contains(out, want) {
			t.Errorf("config print lacks %q:\n%s", want, out)
		}
	}
}

func TestServeNamesMissingSecret(t *testing.T) {
	isolate(t)
	t.Setenv("YANIT_WHATSAPP_PHONE_NUMBER_ID", "1")
	t.Setenv("YANIT_WHATSAPP_ACCESS_TOKEN", "x")
	t.Setenv("YANIT_WHATSAPP_VERIFY_TOKEN", "x")
	code, _, stderr := run(t, "serve")
	if code == 0 {
		t.Fatal("serve without an app secret started")
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "whatsapp.app_secret") || !strings.Contains(lines[0], "YANIT_WHATSAPP_APP_SECRET") {
		t.Fatalf("stderr = %q, want one line naming the key and its variable", stderr)
	}
}

// cli starts the yanit CLI as a child process and returns it with a reader
// of its stdout.
type cli struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	urls   chan string
}

func startCLI(t *testing.T, env []string, args ...string) *cli {
	t.Helper()
	c := &cli{urls: make(chan string, 2)}
	c.cmd = cliCommand(t, context.Background(), args...)
	c.cmd.Env = append(c.cmd.Env, env...)
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.cmd.Process.Kill() })
	// The dev banner prints the URL; serve logs the address it listens on.
	banner := regexp.MustCompile(`health\s+(http://\S+)/healthz`)
	listening := regexp.MustCompile(`msg=listening addr=(\S+)`)
	scan := func(r io.Reader, buf *bytes.Buffer) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			c.mu.Lock()
			buf.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			if m := banner.FindStringSubmatch(sc.Text()); m != nil {
				c.urls <- m[1]
			} else if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				c.urls <- "http://" + m[1]
			}
		}
	}
	go scan(stdout, &c.stdout)
	go scan(stderr, &c.stderr)
	return c
}

func (c *cli) logs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stdout.String() + c.stderr.String()
}

func (c *cli) baseURL(t *testing.T) string {
	t.Helper()
	select {
	case u := <-c.urls:
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("no banner after 30 s; output:\n%s", c.logs())
	}
	return ""
}

func waitStatus(t *testing.T, url string, want int, contains string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		res, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			last = string(b)
			if res.StatusCode == want && strings.Contains(last, contains) {
				return last
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered %d with %q; last: %s", url, want, contains, last)
	return ""
}

func TestDevStartsWithNothingInstalledAndStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	c := startCLI(t, []string{"YANIT_HTTP_ADDR=127.0.0.1:0", "YANIT_DATA_DIR=" + dir, "YANIT_DATABASE_URL="}, "dev")
	base := c.baseURL(t)
	waitStatus(t, base+"/healthz", 200, "ok")
	waitStatus(t, base+"/readyz", 200, `"store":"sqlite"`)
	if _, err := os.Stat(filepath.Join(dir, "yanit.db")); err != nil {
		t.Fatalf("dev did not create its SQLite file in the data dir: %v", err)
	}
	out := c.logs()
	for _, want := range []string{"whatsapp.app_secret", "login     admin", "/console/", "sqlite " + filepath.Join(dir, "yanit.db")} {
		if !strings.Contains(out, want) {
			t.Errorf("dev banner lacks %q:\n%s", want, out)
		}
	}

	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev exited with %v after SIGTERM; output:\n%s", err, c.logs())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("dev did not stop within 20 s of SIGTERM")
	}
	if !strings.Contains(c.logs(), "stopped") {
		t.Fatalf("no orderly shutdown in the log:\n%s", c.logs())
	}
}

func TestServeWithUnreachableDatabaseReportsWhy(t *testing.T) {
	c := startCLI(t, []string{
		"YANIT_HTTP_ADDR=127.0.0.1:0",
		"YANIT_DATABASE_URL=postgres://yanit:topsecret@127.0.0.1:1/yanit?sslmode=disable&connect_timeout=2",
		"YANIT_WHATSAPP_PHONE_NUMBER_ID=1", "YANIT_WHATSAPP_ACCESS_TOKEN=t",
		"YANIT_WHATSAPP_APP_SECRET=s", "YANIT_WHATSAPP_VERIFY_TOKEN=v",
	}, "serve")
	base := c.baseURL(t)
	waitStatus(t, base+"/healthz", 200, "ok")
	body := waitStatus(t, base+"/readyz", 503, "attempt")
	if !strings.Contains(body, "database") {
		t.Fatalf("/readyz reason = %s, want it to name the database", body)
	}
	// The retry is logged with a clear line, and the password never appears.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.logs(), "database not ready, retrying") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(c.logs(), "database not ready, retrying") {
		t.Fatalf("no retry log line:\n%s", c.logs())
	}
	if strings.Contains(c.logs()+body, "topsecret") {
		t.Fatal("the database password leaked into logs or /readyz")
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM while retrying: %v\n%s", err, c.logs())
	}
	if strings.Contains(c.logs(), "panic") {
		t.Fatalf("panic in output:\n%s", c.logs())
	}
}

func TestMigrateBothStores(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		isolate(t)
		dir := t.TempDir()
		t.Setenv("YANIT_DATA_DIR", dir)
		code, out, stderr := run(t, "migrate")
		if code != 0 || !strings.Contains(out, "sqlite "+filepath.Join(dir, "yanit.db")+": schema at version 10 of 10") {
			t.Fatalf("migrate = %d %q %s", code, out, stderr)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.NewSchemaDSN(t)
		isolate(t)
		t.Setenv("YANIT_DATABASE_URL", dsn)
		code, out, stderr := run(t, "migrate")
		if code != 0 || !strings.Contains(out, "postgres ") || !strings.Contains(out, "schema at version 10 of 10") {
			t.Fatalf("migrate = %d %q %s", code, out, stderr)
		}
		// Running it again changes nothing and says so.
		if code, out, _ := run(t, "migrate"); code != 0 || !strings.Contains(out, "version 10 of 10") {
			t.Fatalf("second migrate = %d %q", code, out)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		isolate(t)
		t.Setenv("YANIT_DATABASE_URL", "postgres://yanit@127.0.0.1:1/yanit?connect_timeout=1")
		code, _, stderr := run(t, "migrate", "--timeout", "2s")
		if code == 0 || !strings.Contains(stderr, "connecting to postgres") {
			t.Fatalf("migrate against a closed port = %d %q, want a failure naming the database", code, stderr)
		}
	})
}
