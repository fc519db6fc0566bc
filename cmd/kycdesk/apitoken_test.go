package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/apitoken"
	"github.com/kycdesk/kycdesk/internal/audit"
)

func TestAPITokenCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	code, out, errOut := runMain(t, "", nil, "apitoken", "create", "--name", "erp backend", "--data", dir)
	if code != 0 || errOut != "" || !regexp.MustCompile(`^token: kyc_[A-Za-z0-9_-]{43}\n$`).MatchString(out) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	token := strings.TrimSuffix(strings.TrimPrefix(out, "token: "), "\n")
	// KYCDESK_DATA stands in for --data; each token is new.
	code, out2, _ := runMain(t, "", map[string]string{"KYCDESK_DATA": dir}, "apitoken", "create", "--name", "erp backend")
	if code != 0 || out2 == out {
		t.Fatalf("second token: exit %d %q", code, out2)
	}

	ctx := context.Background()
	d, err := db.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tok, err := (&apitoken.Store{DB: d}).Authenticate(ctx, token)
	if err != nil || tok.Name != "erp backend" || tok.CreatedBy != "cli" {
		t.Fatalf("token does not open the API: %+v %v", tok, err)
	}
	entries, err := audit.List(ctx, d.Read, audit.Filter{Action: "apitoken.create", Asc: true})
	if err != nil || len(entries) != 2 || entries[0].Actor != "cli" || entries[0].Subject != "erp backend" {
		t.Fatalf("audit %+v %v", entries, err)
	}
	if strings.Contains(entries[0].DetailsJSON(), strings.TrimPrefix(token, apitoken.Prefix)) {
		t.Error("the audit trail holds the token")
	}

	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no name", []string{"--data", dir}, "--name is required"},
		{"empty name", []string{"--data", dir, "--name", ""}, "--name is required"},
		{"blank name", []string{"--data", dir, "--name", "   "}, "name of 1 to 80 characters"},
		{"long name", []string{"--data", dir, "--name", strings.Repeat("n", 81)}, "name of 1 to 80 characters"},
		{"unknown flag", []string{"--data", dir, "--name", "x", "--role", "admin"}, "flag provided but not defined"},
		{"data dir is a file", []string{"--data", notDir, "--name", "x"}, "is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMain(t, "", nil, append([]string{"apitoken", "create"}, tt.args...)...)
			if code != 2 || out != "" || !strings.Contains(errOut, tt.msg) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", code, out, errOut, tt.msg)
			}
		})
	}
	if code, _, errOut := runMain(t, "", nil, "apitoken", "list"); code != 2 || !strings.Contains(errOut, "usage: kycdesk apitoken create") {
		t.Errorf("unknown subcommand: %d %q", code, errOut)
	}
}
