package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/config"
)

// The command line as DESIGN.md states it, checked the way outside scripts use it.

// serveExitContract is DESIGN.md's "SIGTERM or SIGINT: finish in-flight requests, exit 0
// within 10 s".
const serveExitContract = 10 * time.Second

// TestContractShutdownBudget: the HTTP drain and the background stop, each at its limit,
// still leave a second for closing the database inside the 10 s.
func TestContractShutdownBudget(t *testing.T) {
	if got := config.Default().ShutdownTimeout + backgroundStopLimit; got > serveExitContract-time.Second {
		t.Fatalf("worst-case shutdown %v (drain %v + background %v) leaves no margin in %v",
			got, config.Default().ShutdownTimeout, backgroundStopLimit, serveExitContract)
	}
}

// TestContractServeStopsWithStalledClient: a request in flight is answered, and a client
// that never finishes its body does not hold the server past the contract.
func TestContractServeStopsWithStalledClient(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	cfg, err := m.serveFlags("serve", []string{"--addr", "127.0.0.1:0", "--data", dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	started := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- m.runServer(ctx, cfg, func(base string) { started <- base }) }()
	var addr string
	select {
	case base := <-started:
		addr = strings.TrimPrefix(base, "http://")
	case err := <-done:
		t.Fatal(err)
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		return c
	}
	head := "POST /webhooks/generic/abcdefghijkl HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
	stalled := dial()
	_, _ = io.WriteString(stalled, head+"{") // and never the rest
	inFlight := dial()
	_, _ = io.WriteString(inFlight, head+"{\"a\":") // the rest comes after the signal
	time.Sleep(100 * time.Millisecond)              // both requests are being read

	start := time.Now()
	stop()
	_, _ = io.WriteString(inFlight, "\"bcdefghijklm\"}")
	answer := make([]byte, 12)
	if _, err := io.ReadFull(inFlight, answer); err != nil || string(answer) != "HTTP/1.1 404" {
		t.Errorf("in-flight request: %q %v", answer, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v, want nil (exit 0)", err)
		}
		t.Logf("stopped %v after the signal", time.Since(start).Round(10*time.Millisecond))
	case <-time.After(serveExitContract):
		t.Fatalf("serve still running %v after the signal", serveExitContract)
	}
}

// TestContractDataCommands: migrate, backup --to, audit verify (intact, then broken on a
// tampered copy), each with its printed line and exit status.
func TestContractDataCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if code, out, errOut := runMain(t, "", nil, "migrate", "--data", dir); code != 0 || !strings.HasPrefix(out, "ok: ") || errOut != "" {
		t.Fatalf("migrate: exit %d, %q %q", code, out, errOut)
	}
	for _, email := range []string{"ana@example.com", "lee@example.com"} {
		if code, out, errOut := runMain(t, "Quiet-Harbor-Lantern-77\n", nil, "user", "create", "--email", email, "--role", "analyst", "--data", dir); code != 0 {
			t.Fatalf("user create: exit %d, %q %q", code, out, errOut)
		}
	}
	if code, out, errOut := runMain(t, "", nil, "audit", "verify", "--data", dir); code != 0 || out != "ok: 2 entries\n" || errOut != "" {
		t.Fatalf("audit verify: exit %d, %q %q", code, out, errOut)
	}

	copyDir := filepath.Join(t.TempDir(), "copy")
	if err := os.MkdirAll(copyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(copyDir, "kycdesk.db")
	if code, out, errOut := runMain(t, "", nil, "backup", "--to", backup, "--data", dir); code != 0 || errOut != "" {
		t.Fatalf("backup: exit %d, %q %q", code, out, errOut)
	}
	key, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(copyDir, "master.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runMain(t, "", nil, "audit", "verify", "--data", copyDir); code != 0 || out != "ok: 2 entries\n" {
		t.Fatalf("audit verify of the backup: exit %d, %q", code, out)
	}

	// Someone with the database file drops the triggers and edits history.
	db, err := sql.Open("sqlite3", backup)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET subject = 'mallory@example.com' WHERE seq = 2`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	code, out, _ := runMain(t, "", nil, "audit", "verify", "--data", copyDir)
	if code != 1 || !regexp.MustCompile(`^broken at seq 2: \S.*\n$`).MatchString(out) {
		t.Fatalf("audit verify of the tampered copy: exit %d, %q", code, out)
	}
}

// TestContractUsageErrors: for every subcommand, a bad flag and a data dir that cannot be
// opened give one line on stderr and exit 2.
func TestContractUsageErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	commands := [][]string{
		{"serve", "--addr", "127.0.0.1:0"},
		{"migrate"},
		{"backup", "--to", filepath.Join(t.TempDir(), "b.db")},
		{"user", "create", "--email", "x@example.com", "--role", "analyst"},
		{"integration", "add", "--provider", "generic", "--auth", "hmac"},
		{"apitoken", "create", "--name", "x"},
		{"audit", "verify"},
		{"simulate", "--target", "http://127.0.0.1:9", "--provider", "generic", "--count", "1"},
	}
	for _, args := range commands {
		name := strings.Join(args[:1], " ")
		if args[0] == "user" || args[0] == "integration" || args[0] == "apitoken" || args[0] == "audit" {
			name = strings.Join(args[:2], " ")
		}
		for _, tt := range []struct {
			what  string
			extra []string
		}{
			{"bad flag", []string{"--data", t.TempDir(), "--no-such-flag"}},
			{"data dir is a file", []string{"--data", notDir}},
		} {
			t.Run(name+"/"+tt.what, func(t *testing.T) {
				code, out, errOut := runMain(t, "Quiet-Harbor-Lantern-77\n", nil, append(append([]string{}, args...), tt.extra...)...)
				if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "kycdesk: ") {
					t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
				}
			})
		}
	}
}

// TestContractServeEnvTwins: every serve flag has an environment twin, named in `serve -h`;
// a twin sets what its flag sets, a flag on the command line wins over it, and a twin that
// does not parse is a one-line usage error (exit 2), like a bad flag.
func TestContractServeEnvTwins(t *testing.T) {
	code, _, help := runMain(t, "", nil, "serve", "-h")
	if code != 2 {
		t.Fatalf("serve -h: exit %d", code)
	}
	flagLine := regexp.MustCompile(`(?m)^  -(\S+)`)
	names := flagLine.FindAllStringSubmatch(help, -1)
	if len(names) < 9 {
		t.Fatalf("serve -h lists %d flags:\n%s", len(names), help)
	}
	for _, n := range names {
		twin := "(env KYCDESK_" + strings.ToUpper(strings.ReplaceAll(n[1], "-", "_")) + ")"
		if !strings.Contains(help, twin) {
			t.Errorf("serve -h does not name the twin %s of --%s", twin, n[1])
		}
	}

	env := map[string]string{
		"KYCDESK_ADDR": "127.0.0.1:9123", "KYCDESK_DATA": "/srv/kyc", "KYCDESK_PUBLIC_URL": "https://kyc.example.com",
		"KYCDESK_INSECURE_COOKIES": "true", "KYCDESK_METRICS_ADDR": "127.0.0.1:9100",
		"KYCDESK_TRUSTED_PROXY": "10.0.0.0/8, 192.0.2.7", "KYCDESK_SESSION_IDLE": "10m", "KYCDESK_SESSION_LIFETIME": "8h",
		"KYCDESK_NO_WORKER": "1",
	}
	m := &Main{Getenv: func(k string) string { return env[k] }}
	cfg, err := m.serveFlags("serve", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9123" || cfg.DataDir != "/srv/kyc" || cfg.PublicURL != "https://kyc.example.com" ||
		!cfg.InsecureCookies || cfg.MetricsAddr != "127.0.0.1:9100" || len(cfg.TrustedProxies) != 2 ||
		cfg.TrustedProxies[1].String() != "192.0.2.7/32" || cfg.SessionIdle != 10*time.Minute ||
		cfg.SessionLifetime != 8*time.Hour || !cfg.NoWorker {
		t.Errorf("config from the environment: %+v", cfg)
	}
	cfg, err = m.serveFlags("serve", []string{"--addr", "127.0.0.1:9999", "--insecure-cookies=false", "--trusted-proxy", "203.0.113.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9999" || cfg.InsecureCookies || len(cfg.TrustedProxies) != 1 {
		t.Errorf("flags did not win over the environment: %+v", cfg)
	}
	for _, bad := range []map[string]string{
		{"KYCDESK_INSECURE_COOKIES": "maybe"}, {"KYCDESK_SESSION_IDLE": "ten minutes"}, {"KYCDESK_TRUSTED_PROXY": "not-a-cidr"},
		{"KYCDESK_ADDR": "no-port"},
	} {
		code, out, errOut := runMain(t, "", bad, "serve", "--data", t.TempDir())
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "kycdesk: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", bad, code, out, errOut)
		}
	}
}

// TestContractVersion: `kycdesk version` prints one line with the version and the commit,
// from the build info or from -ldflags "-X main.version=… -X main.commit=…".
func TestContractVersion(t *testing.T) {
	code, out, errOut := runMain(t, "", nil, "version")
	if code != 0 || errOut != "" || !regexp.MustCompile(`^kycdesk \S+ commit \S+ go\S+\n$`).MatchString(out) {
		t.Fatalf("version: exit %d, %q %q", code, out, errOut)
	}
	version, commit = "1.4.0", "0123456789abcdef0123456789abcdef01234567"
	defer func() { version, commit = "", "" }()
	if _, out, _ := runMain(t, "", nil, "version"); !strings.HasPrefix(out, "kycdesk 1.4.0 commit 0123456789abcdef0123456789abcdef01234567 go") {
		t.Errorf("with -ldflags values: %q", out)
	}
}

// TestContractLogsAreJSON: off a terminal (a container, the journal, a pipe) each log line
// is one JSON object with its fields.
func TestContractLogsAreJSON(t *testing.T) {
	var buf strings.Builder
	newLogger(&buf, false).Info("http", "request_id", "r-1", "status", 200)
	var line map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &line); err != nil || line["request_id"] != "r-1" || line["msg"] != "http" {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
}
