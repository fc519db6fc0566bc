package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/sessions"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/crypto"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "kycdesk_session"

// Session value keys with a meaning to the store or the sign-in flow.
const (
	// KeyUserID holds the signed-in user's id (int64); the store keeps it in its own
	// column so that disabling a user or resetting MFA can delete that user's sessions.
	KeyUserID = "user_id"
)

// sessionIDBytes is the randomness in a session id: 256 bits.
const sessionIDBytes = 32

// touchEvery bounds how often a request writes last_seen_at: the idle timeout is
// 30 minutes, so a minute of slack costs nothing and saves a write per request.
const touchEvery = time.Minute

// pruneEvery bounds how often expired rows are swept, on the back of a new session.
const pruneEvery = 10 * time.Minute

// SessionConfig sets the lifetimes and the cookie's Secure flag.
type SessionConfig struct {
	Idle     time.Duration // a session unused this long is over
	Lifetime time.Duration // a session this old is over, however busy
	Secure   bool          // cookie only over HTTPS; off for the plain-HTTP demo
}

// SessionStore keeps sessions server-side in the sessions table. The cookie carries
// only a random id; the table holds its SHA-256, so a leaked database does not hand
// out live sessions, and deleting a row ends the session at once.
//
// It implements gorilla's sessions.Store for net/http callers, and offers Load and
// Commit, which work on a cookie value and return the cookie to send, for Fiber
// (fasthttp), where there is no *http.Request to hand gorilla.
type SessionStore struct {
	db        *db.DB
	now       func() time.Time
	cfg       SessionConfig
	lastPrune atomic.Int64 // unix ms of the last sweep
}

var _ sessions.Store = (*SessionStore)(nil)

// NewSessionStore returns a store on d; now is the clock expiry is measured with.
func NewSessionStore(d *db.DB, now func() time.Time, cfg SessionConfig) *SessionStore {
	if now == nil {
		now = time.Now
	}
	return &SessionStore{db: d, now: now, cfg: cfg}
}

// options is the cookie template: a browser-session cookie (no Max-Age: the server
// decides expiry), HttpOnly, SameSite=Lax, Secure unless the demo runs on plain HTTP.
func (st *SessionStore) options() *sessions.Options {
	return &sessions.Options{Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: st.cfg.Secure}
}

// metaKey is the Values key of the store's own bookkeeping; not a string, so it is
// never serialised with the session's data.
type metaKey struct{}

type sessionMeta struct {
	storedHash string    // id hash of the row this session was loaded from or saved to
	rotateFrom string    // id hash of a row to delete when the new id is saved
	createdAt  time.Time // start of the absolute lifetime
}

func metaOf(s *sessions.Session) *sessionMeta {
	m, ok := s.Values[metaKey{}].(*sessionMeta)
	if !ok {
		m = &sessionMeta{}
		s.Values[metaKey{}] = m
	}
	return m
}

// Get returns the session for name from the request, cached per request by gorilla's registry.
func (st *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(st, name)
}

// New loads the session named by the request's cookie, or returns a new empty one
// (IsNew) when there is no cookie or it names no live session.
func (st *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	value := ""
	if c, err := r.Cookie(name); err == nil {
		value = c.Value
	}
	return st.load(r.Context(), name, value)
}

// Save writes the session and sets its cookie; a session with Options.MaxAge < 0 is
// deleted and its cookie cleared.
func (st *SessionStore) Save(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	c, err := st.Commit(r.Context(), s)
	if err != nil {
		return err
	}
	http.SetCookie(w, c)
	return nil
}

// Load is New for callers that hold the cookie value rather than an *http.Request.
func (st *SessionStore) Load(ctx context.Context, cookieValue string) (*sessions.Session, error) {
	return st.load(ctx, SessionCookie, cookieValue)
}

func (st *SessionStore) fresh(name string) *sessions.Session {
	s := sessions.NewSession(st, name)
	s.Options = st.options()
	s.IsNew = true
	metaOf(s).createdAt = st.now()
	return s
}

func (st *SessionStore) load(ctx context.Context, name, value string) (*sessions.Session, error) {
	s := st.fresh(name)
	if value == "" || len(value) > 64 {
		return s, nil
	}
	h := crypto.HashToken(value)
	var userID sql.NullInt64
	var data string
	var createdMs, seenMs int64
	err := st.db.Read.QueryRowContext(ctx, `SELECT user_id, data, created_at, last_seen_at FROM sessions WHERE id_hash = ?`, h).
		Scan(&userID, &data, &createdMs, &seenMs)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("session: load: %w", err)
	}
	now := st.now()
	created, seen := db.Time(createdMs), db.Time(seenMs)
	if now.Sub(seen) >= st.cfg.Idle || now.Sub(created) >= st.cfg.Lifetime {
		if _, err := st.db.Write.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, h); err != nil {
			return s, fmt.Errorf("session: delete expired: %w", err)
		}
		return s, nil
	}
	values := map[string]any{}
	if err := json.Unmarshal([]byte(data), &values); err != nil {
		return s, fmt.Errorf("session: decode: %w", err)
	}
	for k, v := range values {
		s.Values[k] = v
	}
	if userID.Valid {
		s.Values[KeyUserID] = userID.Int64
	}
	s.ID, s.IsNew = value, false
	m := metaOf(s)
	m.storedHash, m.createdAt = h, created
	if now.Sub(seen) >= touchEvery {
		if _, err := st.db.Write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, db.Millis(now), h); err != nil {
			return s, fmt.Errorf("session: touch: %w", err)
		}
	}
	return s, nil
}

// Rotate gives s a new id, to be written by the next Commit, which also deletes the
// row under the old id: call it when the privilege of a session changes (password
// verified, second factor verified), so an id planted before sign-in is worthless after.
// The absolute lifetime starts again, as for a new sign-in.
func (st *SessionStore) Rotate(s *sessions.Session) {
	m := metaOf(s)
	if m.storedHash != "" {
		m.rotateFrom = m.storedHash
	}
	m.storedHash = ""
	m.createdAt = st.now()
	s.ID = ""
}

// Destroy marks s to be deleted by the next Commit, which also clears the cookie.
func (st *SessionStore) Destroy(s *sessions.Session) {
	s.Options.MaxAge = -1
}

// Commit writes s (a new row for a new or rotated id, else an update) and returns
// the cookie to send. Values must be JSON-encodable and keyed by strings, apart from
// KeyUserID, which is an int64.
func (st *SessionStore) Commit(ctx context.Context, s *sessions.Session) (*http.Cookie, error) {
	m := metaOf(s)
	if s.Options == nil {
		s.Options = st.options()
	}
	now := st.now()
	if s.Options.MaxAge < 0 {
		var err error
		for _, h := range []string{m.storedHash, m.rotateFrom} {
			if h != "" && err == nil {
				_, err = st.db.Write.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, h)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("session: delete: %w", err)
		}
		m.storedHash, m.rotateFrom = "", ""
		return sessions.NewCookie(s.Name(), "", s.Options), nil
	}

	values := map[string]any{}
	var userID sql.NullInt64
	for k, v := range s.Values {
		switch k := k.(type) {
		case metaKey:
		case string:
			if k == KeyUserID {
				id, ok := v.(int64)
				if !ok {
					return nil, fmt.Errorf("session: %s is %T, want int64", KeyUserID, v)
				}
				userID = sql.NullInt64{Int64: id, Valid: true}
				continue
			}
			values[k] = v
		default:
			return nil, fmt.Errorf("session: value key %v is not a string", k)
		}
	}
	data, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("session: encode: %w", err)
	}

	if s.ID == "" {
		s.ID = crypto.RandomToken(sessionIDBytes)
	}
	h := crypto.HashToken(s.ID)
	err = st.db.Tx(ctx, func(tx *sql.Tx) error {
		if m.rotateFrom != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, m.rotateFrom); err != nil {
				return err
			}
		}
		if m.storedHash == h {
			res, err := tx.ExecContext(ctx, `UPDATE sessions SET user_id = ?, data = ?, last_seen_at = ? WHERE id_hash = ?`,
				userID, string(data), db.Millis(now), h)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return nil
			}
			// The row is gone (logged out elsewhere, user disabled): do not bring it back.
			return errSessionGone
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, data, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)`,
			h, userID, string(data), db.Millis(m.createdAt), db.Millis(now))
		return err
	})
	if errors.Is(err, errSessionGone) {
		s.Options.MaxAge = -1
		m.storedHash = ""
		return sessions.NewCookie(s.Name(), "", s.Options), nil
	}
	if err != nil {
		return nil, fmt.Errorf("session: save: %w", err)
	}
	inserted := m.storedHash != h
	m.storedHash, m.rotateFrom = h, ""
	s.IsNew = false
	if inserted {
		st.maybePrune(ctx, now)
	}
	return sessions.NewCookie(s.Name(), s.ID, s.Options), nil
}

var errSessionGone = errors.New("session: row deleted meanwhile")

// maybePrune deletes expired rows at most once per pruneEvery; new sessions (anonymous
// sign-in forms among them) are what makes the table grow, so they pay for the sweep.
func (st *SessionStore) maybePrune(ctx context.Context, now time.Time) {
	last := st.lastPrune.Load()
	if now.UnixMilli()-last < pruneEvery.Milliseconds() || !st.lastPrune.CompareAndSwap(last, now.UnixMilli()) {
		return
	}
	_, _ = st.PruneExpired(ctx)
}

// PruneExpired deletes every session past its idle timeout or lifetime and returns how many.
func (st *SessionStore) PruneExpired(ctx context.Context) (int64, error) {
	now := st.now()
	res, err := st.db.Write.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at <= ? OR created_at <= ?`,
		db.Millis(now.Add(-st.cfg.Idle)), db.Millis(now.Add(-st.cfg.Lifetime)))
	if err != nil {
		return 0, fmt.Errorf("session: prune: %w", err)
	}
	return res.RowsAffected()
}

// UserIDOf returns the session's user id, 0 for an anonymous session.
func UserIDOf(s *sessions.Session) int64 {
	id, _ := s.Values[KeyUserID].(int64)
	return id
}
