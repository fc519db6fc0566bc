package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/audit"
)

func runMain(t *testing.T, stdin string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return env[k] }}
	code := exitCode(&errOut, m.Run(context.Background()))
	return code, out.String(), errOut.String()
}

func TestUserCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	const pw = "Quiet-Harbor-Lantern-77\n"
	code, out, errOut := runMain(t, pw, nil, "user", "create", "--email", "Ana@Example.com", "--role", "analyst", "--name", "Ana Lê", "--data", dir)
	if code != 0 || out != "ok: created analyst ana@example.com (id 1)\n" || errOut != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// KYCDESK_DATA stands in for --data.
	code, out, _ = runMain(t, "Another-Good-Passphrase-9\r\n", map[string]string{"KYCDESK_DATA": dir}, "user", "create", "--email", "lee@example.com", "--role", "lead")
	if code != 0 || out != "ok: created lead lee@example.com (id 2)\n" {
		t.Fatalf("with KYCDESK_DATA: exit %d, %q", code, out)
	}

	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"missing email", pw, []string{"--role", "lead"}, 2, "--email is required"},
		{"missing role", pw, []string{"--email", "b@example.com"}, 2, "--role is required"},
		{"bad role", pw, []string{"--email", "b@example.com", "--role", "root"}, 2, `bad --role "root"`},
		{"unknown flag", pw, []string{"--email", "b@example.com", "--role", "lead", "--admin"}, 2, "flag provided but not defined"},
		{"no password", "", []string{"--email", "b@example.com", "--role", "lead"}, 2, "no password on standard input"},
		{"weak password", "password1234\n", []string{"--email", "b@example.com", "--role", "lead"}, 1, "too common"},
		{"short password", "short\n", []string{"--email", "b@example.com", "--role", "lead"}, 1, "at least 12 characters"},
		{"duplicate", pw, []string{"--email", "ANA@example.com", "--role", "lead"}, 1, "already exists"},
		{"bad email", pw, []string{"--email", "not-an-email", "--role", "lead"}, 1, "valid email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMain(t, tt.stdin, nil, append([]string{"user", "create", "--data", dir}, tt.args...)...)
			if code != tt.code || out != "" || !strings.Contains(errOut, tt.msg) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and one line with %q", code, out, errOut, tt.code, tt.msg)
			}
		})
	}

	st, err := openStore(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, _ := audit.List(context.Background(), st.db.Read, audit.Filter{Action: "user.created", Asc: true})
	if len(entries) != 2 || entries[0].Actor != "cli" || entries[0].Subject != "ana@example.com" {
		t.Errorf("audit entries %+v", entries)
	}
}
