package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestStore(t *testing.T) (*SessionStore, *clock, *db.DB) {
	d := testkit.DB(t)
	clk := &clock{t: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)}
	// Sessions reference users: ids 1 to 9 exist.
	for id := 1; id <= 9; id++ {
		if _, err := d.Write.Exec(`INSERT INTO users (id, email, role, password_hash, created_at, updated_at) VALUES (?, ?, 'analyst', 'x', 0, 0)`,
			id, "user"+string(rune('0'+id))+"@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	return NewSessionStore(d, clk.now, SessionConfig{Idle: 30 * time.Minute, Lifetime: 12 * time.Hour, Secure: true}), clk, d
}

// roundTrip plays one request through gorilla's API: the store reads the cookie from
// the request, fn changes the session, Save writes the Set-Cookie header.
func roundTrip(t *testing.T, st sessions.Store, cookie *http.Cookie, fn func(s *sessions.Session)) (*sessions.Session, *http.Cookie) {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	s, err := st.Get(r, SessionCookie)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := st.Get(r, SessionCookie); again != s {
		t.Error("Get did not return the request's cached session")
	}
	if fn == nil {
		return s, cookie
	}
	fn(s)
	w := httptest.NewRecorder()
	if err := s.Save(r, w); err != nil {
		t.Fatal(err)
	}
	res := w.Result()
	if len(res.Cookies()) != 1 {
		t.Fatalf("Save set %d cookies", len(res.Cookies()))
	}
	return s, res.Cookies()[0]
}

func TestSessionStoreThroughGorilla(t *testing.T) {
	st, clk, d := newTestStore(t)
	s, _ := roundTrip(t, st, nil, nil)
	if !s.IsNew || len(s.Values) != 1 { // only the store's own bookkeeping
		t.Fatalf("no cookie: IsNew=%v values=%v", s.IsNew, s.Values)
	}
	_, ck := roundTrip(t, st, nil, func(s *sessions.Session) {
		s.Values["csrf"] = "token-1"
		s.Values[KeyUserID] = int64(7)
	})
	if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge != 0 || len(ck.Value) != 43 {
		t.Errorf("cookie %+v", ck)
	}
	var stored string
	var uid int64
	d.Read.QueryRow(`SELECT id_hash, user_id FROM sessions`).Scan(&stored, &uid)
	if stored == ck.Value || len(stored) != 64 || uid != 7 {
		t.Errorf("row holds %q for user %d; want the id's hash", stored, uid)
	}

	clk.advance(10 * time.Minute)
	s, _ = roundTrip(t, st, ck, nil)
	if s.IsNew || s.Values["csrf"] != "token-1" || UserIDOf(s) != 7 || s.ID != ck.Value {
		t.Fatalf("reloaded session: IsNew=%v %v", s.IsNew, s.Values)
	}

	// Deleting through gorilla's MaxAge < 0 ends it server-side and clears the cookie.
	_, cleared := roundTrip(t, st, ck, func(s *sessions.Session) { s.Options.MaxAge = -1 })
	if cleared.MaxAge >= 0 || cleared.Value != "" {
		t.Errorf("clearing cookie %+v", cleared)
	}
	if s, _ := roundTrip(t, st, ck, nil); !s.IsNew {
		t.Error("deleted session still loads")
	}
}

func TestSessionRotate(t *testing.T) {
	st, _, d := newTestStore(t)
	ctx := context.Background()
	s, _ := st.Load(ctx, "")
	s.Values["csrf"] = "x"
	c1, err := st.Commit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	st.Rotate(s)
	s.Values[KeyUserID] = int64(3)
	c2, err := st.Commit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if c1.Value == c2.Value {
		t.Fatal("Rotate kept the id")
	}
	if old, _ := st.Load(ctx, c1.Value); !old.IsNew {
		t.Error("the pre-rotation id still loads")
	}
	if cur, _ := st.Load(ctx, c2.Value); cur.IsNew || UserIDOf(cur) != 3 || cur.Values["csrf"] != "x" {
		t.Errorf("rotated session: %v", cur.Values)
	}
	var n int
	d.Read.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&n)
	if n != 1 {
		t.Errorf("%d rows after rotation, want 1", n)
	}
}

func TestSessionExpiryAndTouch(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		steps []time.Duration // time between requests
		alive bool
	}{
		{"used within the idle timeout", []time.Duration{29 * time.Minute}, true},
		{"idle 30 minutes", []time.Duration{30 * time.Minute}, false},
		{"kept alive by use", []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, true},
		{"touch is at most once a minute, so idle counts from the last write", []time.Duration{59 * time.Second, 29*time.Minute + 30*time.Second}, false},
		{"absolute lifetime", append(repeat(25*time.Minute, 28), 25*time.Minute), false}, // 12 h 5 min of activity
		{"just under the lifetime", repeat(25*time.Minute, 28), true},                    // 11 h 40 min
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, clk, _ := newTestStore(t)
			s, _ := st.Load(ctx, "")
			s.Values["k"] = "v"
			ck, err := st.Commit(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			var got *sessions.Session
			for _, d := range tt.steps {
				clk.advance(d)
				if got, err = st.Load(ctx, ck.Value); err != nil {
					t.Fatal(err)
				}
			}
			if alive := !got.IsNew; alive != tt.alive {
				t.Errorf("alive = %v, want %v", alive, tt.alive)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestSessionForgedAndGoneRows(t *testing.T) {
	st, clk, d := newTestStore(t)
	ctx := context.Background()
	for _, forged := range []string{"", "abc", "not-a-session-id-but-43-characters-long-xxx", string(make([]byte, 5000))} {
		if s, err := st.Load(ctx, forged); err != nil || !s.IsNew {
			t.Errorf("forged %q: IsNew=%v err=%v", forged, s.IsNew, err)
		}
	}
	// A session deleted meanwhile (user disabled) is not brought back by a later save.
	s, _ := st.Load(ctx, "")
	s.Values[KeyUserID] = int64(1)
	ck, _ := st.Commit(ctx, s)
	loaded, _ := st.Load(ctx, ck.Value)
	d.Write.Exec(`DELETE FROM sessions`)
	loaded.Values["flash"] = "hello"
	c, err := st.Commit(ctx, loaded)
	if err != nil || c.MaxAge >= 0 {
		t.Fatalf("save of a deleted session: %+v %v", c, err)
	}
	var n int
	d.Read.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&n)
	if n != 0 {
		t.Error("a deleted session came back")
	}
	// Expired rows are swept.
	s, _ = st.Load(ctx, "")
	st.Commit(ctx, s)
	clk.advance(31 * time.Minute)
	if pruned, err := st.PruneExpired(ctx); pruned != 1 || err != nil {
		t.Errorf("PruneExpired = %d, %v", pruned, err)
	}
	// Values must have string keys (apart from the store's own).
	s, _ = st.Load(ctx, "")
	s.Values[42] = "x"
	if _, err := st.Commit(ctx, s); err == nil {
		t.Error("a non-string key was accepted")
	}
}
