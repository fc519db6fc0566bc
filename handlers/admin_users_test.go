package handlers

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/auth"
)

func userPath(id int64, action string) string { return fmt.Sprintf("/admin/users/%d/%s", id, action) }

func TestAdminUserActions(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)
	ctx := context.Background()

	resp, body := admin.postForm("/admin/users", url.Values{"email": {"Ana@Example.com"}, "name": {"Ana Lê"}, "role": {"analyst"}, "password": {testPassword}})
	wantStatus(t, "create", resp, 303, "/admin/users")
	ana, err := env.srv.Users.ByEmail(ctx, "ana@example.com")
	if err != nil || ana.Role != auth.Analyst || ana.Name != "Ana Lê" || ana.Email != "ana@example.com" {
		t.Fatalf("created user: %+v %v", ana, err)
	}
	_, body = admin.get("/admin/users")
	if !strings.Contains(body, "Created analyst ana@example.com") {
		t.Error("no flash message after create")
	}
	if _, body = admin.get("/admin/users"); strings.Contains(body, "Created analyst") {
		t.Error("flash message shown twice")
	}

	tests := []struct {
		name   string
		path   string
		form   url.Values
		check  func(u auth.User) bool
		action string
	}{
		{"change role", userPath(ana.ID, "role"), url.Values{"role": {"lead"}}, func(u auth.User) bool { return u.Role == auth.Lead }, "user.role_changed"},
		{"disable", userPath(ana.ID, "disable"), nil, func(u auth.User) bool { return u.Status() == "disabled" }, "user.disabled"},
		{"enable", userPath(ana.ID, "enable"), nil, func(u auth.User) bool { return u.Status() == "active" }, "user.enabled"},
		{"reset MFA", userPath(ana.ID, "reset-mfa"), nil, func(u auth.User) bool { return !u.MFAEnabled }, "user.mfa_reset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := admin.postForm(tt.path, tt.form)
			wantStatus(t, tt.name, resp, 303, "/admin/users")
			u, _ := env.srv.Users.Get(ctx, ana.ID)
			if !tt.check(u) {
				t.Errorf("no effect: %+v %s", u, body)
			}
			got := env.auditEntries(ana.Email, tt.action)
			if len(got) != 1 || got[0].Actor != admin.user.Email {
				t.Errorf("audit %s: %+v", tt.action, got)
			}
		})
	}
	if d := env.auditEntries(ana.Email, "user.role_changed"); len(d) == 1 && (d[0].Details["from"] != "analyst" || d[0].Details["to"] != "lead") {
		t.Errorf("role change details %v", d[0].Details)
	}

	refusals := []struct {
		name, path string
		form       url.Values
		status     int
		msg        string
	}{
		{"disable self", userPath(admin.user.ID, "disable"), nil, 403, "You cannot disable your own account"},
		{"demote self", userPath(admin.user.ID, "role"), url.Values{"role": {"analyst"}}, 403, "You cannot change your own role"},
		{"bad role", userPath(ana.ID, "role"), url.Values{"role": {"root"}}, 400, "Choose a role"},
		{"unlock a user not locked", userPath(ana.ID, "unlock"), nil, 400, "is not locked out"},
		{"no such user", userPath(99999, "disable"), nil, 404, "There is no such user"},
		{"bad id", "/admin/users/abc/disable", nil, 404, "There is no such user"},
		{"weak password", "/admin/users", url.Values{"email": {"bo@example.com"}, "role": {"lead"}, "password": {"password1234"}}, 400, "too common"},
		{"short password", "/admin/users", url.Values{"email": {"bo@example.com"}, "role": {"lead"}, "password": {"short"}}, 400, "at least 12 characters"},
		{"duplicate email", "/admin/users", url.Values{"email": {"ANA@example.com"}, "role": {"lead"}, "password": {testPassword}}, 409, "already exists"},
		{"bad email", "/admin/users", url.Values{"email": {"not an email"}, "role": {"lead"}, "password": {testPassword}}, 400, "valid email"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := admin.postForm(tt.path, tt.form)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.msg) {
				t.Errorf("%d, want %d with %q", resp.StatusCode, tt.status, tt.msg)
			}
		})
	}
	if u, _ := env.srv.Users.Get(ctx, admin.user.ID); u.Role != auth.Admin || u.Status() != "active" {
		t.Errorf("admin changed themselves: %+v", u)
	}
	// The create form keeps what was typed, but never the password.
	_, body = admin.postForm("/admin/users", url.Values{"email": {"cy@example.com"}, "name": {"Cy"}, "role": {"auditor"}, "password": {"password1234"}})
	if !strings.Contains(body, `value="cy@example.com"`) || strings.Contains(body, "password1234") || !strings.Contains(body, `value="auditor" selected`) {
		t.Error("create form not kept (or kept the password)")
	}
}

func TestAdminUsersListAndConfirm(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)
	lead := env.signIn(auth.Lead)
	resp, body := admin.get("/admin/users")
	wantStatus(t, "list", resp, 200, "")
	for _, want := range []string{lead.user.Email, admin.user.Email, "enrolled", `data-status="active"`, "data-confirm=", "Last sign-in", "2026-11-20 08:00 UTC"} {
		if !strings.Contains(body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	// One disable button: for the lead, not for the admin themselves.
	if n := strings.Count(body, `name="disable"`); n != 1 {
		t.Errorf("%d disable buttons, want 1", n)
	}
	resp, _ = lead.get("/admin/users")
	if resp.StatusCode != 403 {
		t.Errorf("lead on /admin/users: %d", resp.StatusCode)
	}
}
