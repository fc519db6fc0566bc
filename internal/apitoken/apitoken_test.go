package apitoken

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

type fixture struct {
	store *Store
	db    *db.DB
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d := testkit.DB(t)
	f := &fixture{db: d, now: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)}
	f.store = &Store{DB: d, Now: func() time.Time { return f.now }}
	return f
}

func (f *fixture) lastUsed(t *testing.T, id int64) sql.NullInt64 {
	t.Helper()
	var v sql.NullInt64
	if err := f.db.Read.QueryRow(`SELECT last_used_at FROM api_tokens WHERE id = ?`, id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCreateStoresOnlyAHash(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, secret, err := f.store.Create(ctx, "  crm backend ", "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, Prefix) || len(secret) != len(Prefix)+43 {
		t.Errorf("token %q: want %s + 43 base64url characters (256 bits)", secret, Prefix)
	}
	if tok.Name != "crm backend" || tok.CreatedBy != "admin@example.com" || !tok.CreatedAt.Equal(f.now) || !tok.Active() {
		t.Errorf("record %+v", tok)
	}
	// Nothing in the database holds the token itself.
	var dump string
	if err := f.db.Read.QueryRow(`SELECT group_concat(name || token_hash || created_by, '|') FROM api_tokens`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, secret) || strings.Contains(dump, secret[len(Prefix):]) {
		t.Error("the token is stored in clear")
	}
	entries, err := audit.List(ctx, f.db.Read, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Action != "apitoken.create" || entries[0].Actor != "admin@example.com" || entries[0].Subject != "crm backend" {
		t.Fatalf("audit %+v", entries)
	}
	if strings.Contains(entries[0].DetailsJSON(), secret[len(Prefix):]) {
		t.Error("the audit entry holds the token")
	}
	_, second, err := f.store.Create(ctx, "crm backend", "cli")
	if err != nil || second == secret {
		t.Errorf("second token: %v, same=%v", err, second == secret)
	}
}

func TestCreateRefusesBadNames(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"", "   ", strings.Repeat("x", MaxNameLen+1), "line\nbreak", "bad\xffutf8"} {
		_, _, err := f.store.Create(context.Background(), name, "cli")
		if errs.Code(err) != errs.Invalid {
			t.Errorf("name %q: err %v, want invalid", name, err)
		}
	}
	if _, _, err := f.store.Create(context.Background(), strings.Repeat("é", MaxNameLen), "cli"); err != nil {
		t.Errorf("a %d-character name: %v", MaxNameLen, err)
	}
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, secret, err := f.store.Create(ctx, "erp", "cli")
	if err != nil {
		t.Fatal(err)
	}
	_, other, _ := f.store.Create(ctx, "other", "cli")
	tests := []struct {
		name   string
		secret string
		ok     bool
	}{
		{"the token", secret, true},
		{"another live token", other, true},
		{"empty", "", false},
		{"without prefix", secret[len(Prefix):], false},
		{"one character changed", secret[:len(secret)-1] + flip(secret[len(secret)-1]), false},
		{"truncated", secret[:len(secret)-1], false},
		{"extended", secret + "A", false},
		{"the stored hash itself", hashOf(t, f, tok.ID), false},
		{"random well-formed", Prefix + strings.Repeat("A", 43), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.store.Authenticate(ctx, tt.secret)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok && !errors.Is(err, ErrRefused) {
				t.Errorf("err = %v, want ErrRefused", err)
			}
			if !tt.ok && errs.Code(err) != errs.Unauthorized {
				t.Errorf("code %s", errs.Code(err))
			}
			if tt.ok && got.ID == 0 {
				t.Errorf("no token record")
			}
		})
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func hashOf(t *testing.T, f *fixture, id int64) string {
	var h string
	if err := f.db.Read.QueryRow(`SELECT token_hash FROM api_tokens WHERE id = ?`, id).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRevokeTakesEffectAtOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, secret, _ := f.store.Create(ctx, "erp", "cli")
	_, keep, _ := f.store.Create(ctx, "keep", "cli")
	if _, err := f.store.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Second)
	got, err := f.store.Revoke(ctx, tok.ID, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.Active() || !got.RevokedAt.Equal(f.now) {
		t.Errorf("revoked record %+v", got)
	}
	if _, err := f.store.Authenticate(ctx, secret); !errors.Is(err, ErrRefused) {
		t.Errorf("revoked token: err %v", err)
	}
	if _, err := f.store.Authenticate(ctx, keep); err != nil {
		t.Errorf("other token after revoke: %v", err)
	}
	// Revoking again changes nothing and writes no second audit entry.
	f.now = f.now.Add(time.Hour)
	again, err := f.store.Revoke(ctx, tok.ID, "admin@example.com")
	if err != nil || !again.RevokedAt.Equal(got.RevokedAt) {
		t.Errorf("second revoke: %+v %v", again, err)
	}
	if _, err := f.store.Revoke(ctx, 999, "admin@example.com"); errs.Code(err) != errs.NotFound {
		t.Errorf("unknown id: %v", err)
	}
	entries, _ := audit.List(ctx, f.db.Read, audit.Filter{Action: "apitoken.revoke"})
	if len(entries) != 1 || entries[0].Actor != "admin@example.com" || entries[0].Subject != "erp" {
		t.Errorf("audit %+v", entries)
	}
	if n, err := audit.Verify(ctx, f.db.Read); err != nil || n != 3 {
		t.Errorf("audit chain: %d %v", n, err)
	}
}

func TestLastUsedAtMostOnceAMinute(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, secret, _ := f.store.Create(ctx, "erp", "cli")
	if v := f.lastUsed(t, tok.ID); v.Valid {
		t.Fatalf("new token has last_used_at %d", v.Int64)
	}
	start := f.now
	steps := []struct {
		advance time.Duration
		want    time.Time // the stored last use after the request
	}{
		{0, start},
		{10 * time.Second, start},
		{49 * time.Second, start},
		{time.Second, start.Add(time.Minute)}, // a minute after the recorded use
		{30 * time.Second, start.Add(time.Minute)},
		{time.Hour, start.Add(time.Hour + 90*time.Second)},
	}
	for i, st := range steps {
		f.now = f.now.Add(st.advance)
		got, err := f.store.Authenticate(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		stored := f.lastUsed(t, tok.ID)
		if !stored.Valid || !db.Time(stored.Int64).Equal(st.want) {
			t.Errorf("step %d: stored last use %v, want %v", i, db.Time(stored.Int64), st.want)
		}
		if !got.LastUsedAt.Equal(st.want) {
			t.Errorf("step %d: returned last use %v, want %v", i, got.LastUsedAt, st.want)
		}
	}
	list, err := f.store.List(ctx)
	if err != nil || len(list) != 1 || !list[0].LastUsedAt.Equal(start.Add(time.Hour+90*time.Second)) {
		t.Errorf("list %+v %v", list, err)
	}
}

func TestListOrder(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, _, _ := f.store.Create(ctx, "a", "cli")
	f.now = f.now.Add(time.Minute)
	b, _, _ := f.store.Create(ctx, "b", "cli")
	f.now = f.now.Add(time.Minute)
	c, _, _ := f.store.Create(ctx, "c", "cli")
	if _, err := f.store.Revoke(ctx, c.ID, "cli"); err != nil {
		t.Fatal(err)
	}
	list, err := f.store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, tk := range list {
		got = append(got, tk.ID)
	}
	want := []int64{b.ID, a.ID, c.ID} // active newest first, then revoked
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("order %v, want %v", got, want)
	}
}
