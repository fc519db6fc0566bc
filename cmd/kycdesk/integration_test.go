package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

func TestIntegrationAdd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	keyFile := filepath.Join(t.TempDir(), "frankie.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runMain(t, "", nil, "integration", "add", "--data", dir, "--provider", "generic", "--auth", "hmac")
	m := regexp.MustCompile(`^webhook_url: http://127\.0\.0\.1:8080/webhooks/generic/([0-9a-z]{12})\nsecret: (whsec_\S+)\n$`).FindStringSubmatch(out)
	if code != 0 || m == nil || errOut != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := webhookauth.ParseSecret(m[2]); err != nil {
		t.Fatalf("secret %q: %v", m[2], err)
	}

	// --json, a given token, --public-url and KYCDESK_ADDR.
	code, out, _ = runMain(t, "", map[string]string{"KYCDESK_ADDR": "127.0.0.1:9999"}, "integration", "add", "--data", dir,
		"--provider", "fptai", "--auth", "token", "--secret", "fixed-token-123", "--token-header", "X-FPT-Token", "--data-key", "ekyc_result", "--json")
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("exit %d, %q: %v", code, out, err)
	}
	if got["name"] != "fptai-1" || got["provider"] != "fptai" || got["auth"] != "token" || got["secret"] != "fixed-token-123" ||
		got["webhook_url"] != "http://127.0.0.1:9999/webhooks/fptai/"+got["id"] || strings.Count(out, "\n") != 1 {
		t.Fatalf("json %v", got)
	}
	code, out, _ = runMain(t, "", nil, "integration", "add", "--data", dir, "--provider", "frankieone", "--auth", "jwt",
		"--jwt-key", keyFile, "--allow-ip", "203.0.113.0/24", "--allow-ip", "198.51.100.7", "--api-url", "https://api.uat.frankie.one/v2",
		"--api-key", "k-123", "--customer-id", "cust-1", "--name", "frankie-au", "--public-url", "https://kyc.example.com/", "--json")
	got = nil
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || got["secret"] != "" || got["name"] != "frankie-au" ||
		!strings.HasPrefix(got["webhook_url"], "https://kyc.example.com/webhooks/frankieone/") {
		t.Fatalf("jwt: exit %d, %q", code, out)
	}
	// ip without an allowlist is allowed, with a warning: it refuses everything until one is set.
	code, out, errOut = runMain(t, "", nil, "integration", "add", "--data", dir, "--provider", "frankieone", "--auth", "ip")
	if code != 0 || strings.Contains(out, "secret:") || !strings.Contains(errOut, "every delivery is refused") {
		t.Fatalf("ip: exit %d, %q, %q", code, out, errOut)
	}

	// --decision-url prints the outgoing signing secret, as text and in --json.
	code, out, errOut = runMain(t, "", nil, "integration", "add", "--data", dir, "--provider", "generic", "--auth", "hmac",
		"--name", "acme-decisions", "--decision-url", "https://backend.example/kyc/decisions")
	m = regexp.MustCompile(`^webhook_url: \S+\nsecret: (whsec_\S+)\ndecision_secret: (whsec_\S+)\n$`).FindStringSubmatch(out)
	if code != 0 || m == nil || errOut != "" || m[1] == m[2] {
		t.Fatalf("--decision-url: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := webhookauth.ParseSecret(m[2]); err != nil {
		t.Fatalf("decision secret %q: %v", m[2], err)
	}
	code, out, _ = runMain(t, "", nil, "integration", "add", "--data", dir, "--provider", "frankieone", "--auth", "ip",
		"--allow-ip", "127.0.0.1", "--decision-url", "http://127.0.0.1:9000/hook", "--json")
	got = nil
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || got["decision_url"] != "http://127.0.0.1:9000/hook" ||
		!strings.HasPrefix(got["decision_secret"], "whsec_") || got["secret"] != "" {
		t.Fatalf("--decision-url --json: exit %d, %q", code, out)
	}

	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"bad decision url", []string{"--provider", "generic", "--auth", "hmac", "--decision-url", "ftp://x.example/"}, "decision url"},
		{"no provider", []string{"--auth", "hmac"}, "provider is required"},
		{"bad provider", []string{"--provider", "onfido", "--auth", "hmac"}, "provider must be"},
		{"bad auth", []string{"--provider", "generic", "--auth", "basic"}, "auth must be"},
		{"bad secret", []string{"--provider", "generic", "--auth", "hmac", "--secret", "hunter2"}, "whsec_"},
		{"secret with ip", []string{"--provider", "frankieone", "--auth", "ip", "--secret", "abcdefghij"}, "hmac and token only"},
		{"bad CIDR", []string{"--provider", "frankieone", "--auth", "ip", "--allow-ip", "10.0.0.0/33"}, "not a CIDR"},
		{"name taken", []string{"--provider", "generic", "--auth", "hmac", "--name", "frankie-au"}, "already exists"},
		{"missing key file", []string{"--provider", "frankieone", "--auth", "jwt", "--jwt-key", "/nonexistent.pem"}, "--jwt-key"},
		{"bad public url", []string{"--provider", "generic", "--auth", "hmac", "--public-url", "kyc.example.com"}, "--public-url"},
		{"unknown flag", []string{"--provider", "generic", "--auth", "hmac", "--colour", "red"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMain(t, "", nil, append([]string{"integration", "add", "--data", dir}, tt.args...)...)
			if code != 2 || out != "" || !strings.Contains(errOut, tt.msg) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", code, out, errOut, tt.msg)
			}
		})
	}
}

// freeAddr returns a loopback address nobody listens on (for a flag that needs a fixed port).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// serveInProcess runs `kycdesk serve` with cfg in this process until the test ends (it
// must then stop without error) and returns its base URL.
func serveInProcess(t *testing.T, cfg config.Config) string {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	started := make(chan string, 1)
	done := make(chan error, 1)
	srv := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	go func() { done <- srv.runServer(ctx, cfg, func(base string) { started <- base }) }()
	var base string
	select {
	case base = <-started:
	case err := <-done:
		stop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return base
}

// TestServeIngestion runs the server in-process: an integration added by the CLI while it
// runs is used within a second, and --metrics-addr moves /metrics to its own listener.
func TestServeIngestion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.MetricsAddr, cfg.NoWorker = "127.0.0.1:0", dir, freeAddr(t), true
	cfg.PublicURL = "http://" + cfg.Addr
	base := serveInProcess(t, cfg)

	code, out, errOut := runMain(t, "", nil, "integration", "add", "--data", dir, "--provider", "generic", "--auth", "hmac", "--name", "live", "--json")
	var reg map[string]string
	if err := json.Unmarshal([]byte(out), &reg); code != 0 || err != nil {
		t.Fatalf("integration add: %d %q %q", code, out, errOut)
	}
	key, _ := webhookauth.ParseSecret(reg["secret"])
	path := strings.TrimPrefix(reg["webhook_url"], "http://127.0.0.1:8080")
	gen := newLoadGen(base+path, key, "live", 1)
	start := time.Now()
	status, err := gen.sendID(context.Background(), "live-1")
	if err != nil || status != 202 {
		t.Fatalf("first delivery to the new integration: %d %v", status, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %s", d)
	}

	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if status, body := get("http://" + cfg.MetricsAddr + "/metrics"); status != 200 ||
		!strings.Contains(body, `kycdesk_webhook_deliveries_total{integration="live",outcome="accepted"} 1`) ||
		!strings.Contains(body, "kycdesk_inbox_depth 1") {
		t.Fatalf("metrics listener: %d\n%s", status, body)
	}
	if status, _ := get(base + "/metrics"); status != 404 {
		t.Fatalf("main listener /metrics with --metrics-addr: %d", status)
	}
}
