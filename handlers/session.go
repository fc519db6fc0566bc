package handlers

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/sessions"
	"github.com/valyala/fasthttp"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
)

const localSession = "session"

// Session value keys of the sign-in flow (auth.KeyUserID holds the user).
const (
	keyMFA         = "mfa"          // bool: the second factor was verified in this session
	keyCSRF        = "csrf"         // the session's synchronizer token
	keyPendingTOTP = "totp_pending" // sealed TOTP secret shown at /mfa/setup, until confirmed
	keyFlashKind   = "flash_kind"   // a message for the next page (Post/Redirect/Get)
	keyFlashMsg    = "flash_msg"
)

// initAuth builds the sign-in services the caller did not provide.
func (s *Server) initAuth() {
	if s.Hasher == nil {
		s.Hasher = auth.NewHasher(0)
	}
	if s.Users == nil {
		s.Users = auth.NewUsers(s.DB, s.Hasher, s.Sealer, s.Now)
	}
	if s.Sessions == nil {
		s.Sessions = auth.NewSessionStore(s.DB, s.Now, auth.SessionConfig{
			Idle: s.Config.SessionIdle, Lifetime: s.Config.SessionLifetime, Secure: !s.Config.InsecureCookies})
	}
}

// sessionless paths never read or write the session: machine callers authenticate
// otherwise, and assets must not touch the session a page is building.
func sessionless(path string) bool {
	if machinePath(path) || strings.HasPrefix(path, "/static/") {
		return true
	}
	switch path {
	case "/healthz", "/readyz", "/metrics", "/favicon.ico":
		return true
	}
	return false
}

// loadSession finds the request's session and, when it belongs to a user, sets the
// identity. The user row is read on every request, so a disabled account is out at
// once; a password-only session of a locked account ends too.
func (s *Server) loadSession(c *fiber.Ctx) error {
	if sessionless(c.Path()) {
		return c.Next()
	}
	ctx := c.UserContext()
	cookie := c.Cookies(auth.SessionCookie)
	sess, err := s.Sessions.Load(ctx, cookie)
	if err != nil {
		return err
	}
	if cookie != "" && sess.IsNew {
		s.Sessions.Destroy(sess) // expired or unknown: tell the browser to drop it
		if err := s.commitSession(c, sess); err != nil {
			return err
		}
		sess, _ = s.Sessions.Load(ctx, "")
	}
	if uid := auth.UserIDOf(sess); uid != 0 {
		u, err := s.Users.Current(ctx, uid)
		if err != nil && errs.Code(err) != errs.NotFound {
			return err
		}
		mfa, _ := sess.Values[keyMFA].(bool)
		if err != nil || !u.DisabledAt.IsZero() || (!mfa && !u.LockedAt.IsZero()) || (mfa && !u.MFAEnabled) {
			s.Sessions.Destroy(sess)
			if err := s.commitSession(c, sess); err != nil {
				return err
			}
			sess, _ = s.Sessions.Load(ctx, "")
		} else {
			c.Locals(localIdentity, &auth.Identity{UserID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role,
				MFAPassed: mfa, HasMFA: u.MFAEnabled})
		}
	}
	c.Locals(localSession, sess)
	if token, _ := sess.Values[keyCSRF].(string); token != "" {
		c.Locals(localCSRF, token)
	}
	return c.Next()
}

// sessionOf is the request's session (never nil behind loadSession).
func sessionOf(c *fiber.Ctx) *sessions.Session {
	sess, _ := c.Locals(localSession).(*sessions.Session)
	return sess
}

// commitSession saves sess and sends its cookie.
func (s *Server) commitSession(c *fiber.Ctx, sess *sessions.Session) error {
	cookie, err := s.Sessions.Commit(c.UserContext(), sess)
	if err != nil {
		return err
	}
	setCookie(c, cookie)
	return nil
}

// setCookie sends cookie, replacing one of the same name set earlier in this response
// (a stale cookie cleared by loadSession, then a new session made by the handler).
func setCookie(c *fiber.Ctx, cookie *http.Cookie) {
	fc := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(fc)
	if err := fc.Parse(cookie.String()); err != nil {
		return // cannot happen: net/http wrote it from our own values
	}
	c.Response().Header.SetCookie(fc)
}

// ensureCSRF gives sess a token if it has none, reporting whether it had to.
func ensureCSRF(c *fiber.Ctx, sess *sessions.Session) bool {
	if token, _ := sess.Values[keyCSRF].(string); token != "" {
		return false
	}
	token := crypto.RandomToken(32)
	sess.Values[keyCSRF] = token
	c.Locals(localCSRF, token)
	return true
}

// elevate starts a new session id for a change of privilege (password verified, second
// factor verified): the old row is deleted and the CSRF token replaced, so neither an id
// nor a token known before sign-in is of use after it.
func (s *Server) elevate(c *fiber.Ctx, sess *sessions.Session, userID int64, mfa bool) error {
	s.Sessions.Rotate(sess)
	for k := range sess.Values {
		if _, ok := k.(string); ok {
			delete(sess.Values, k)
		}
	}
	sess.Values[auth.KeyUserID] = userID
	sess.Values[keyMFA] = mfa
	ensureCSRF(c, sess)
	return s.commitSession(c, sess)
}

// flash keeps a message for the next page the session sees.
func (s *Server) flash(c *fiber.Ctx, kind, msg string) error {
	sess := sessionOf(c)
	sess.Values[keyFlashKind], sess.Values[keyFlashMsg] = kind, msg
	return s.commitSession(c, sess)
}

// takeFlash returns and forgets the session's message, if any.
func (s *Server) takeFlash(c *fiber.Ctx) (kind, msg string, err error) {
	sess := sessionOf(c)
	msg, _ = sess.Values[keyFlashMsg].(string)
	if msg == "" {
		return "", "", nil
	}
	kind, _ = sess.Values[keyFlashKind].(string)
	delete(sess.Values, keyFlashKind)
	delete(sess.Values, keyFlashMsg)
	return kind, msg, s.commitSession(c, sess)
}
