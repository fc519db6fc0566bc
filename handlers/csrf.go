package handlers

import (
	"crypto/subtle"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/views"
)

// checkCSRF refuses an unsafe request whose _csrf field (or X-CSRF-Token header, for
// scripts) does not match the session's synchronizer token. The anonymous sign-in form
// has a token too: GET /login starts a pre-session that holds one, and signing in
// replaces both the session id and the token.
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return c.Next()
	}
	if machinePath(c.Path()) {
		return c.Next()
	}
	want, _ := c.Locals(localCSRF).(string)
	got := c.FormValue("_csrf")
	if got == "" {
		got = c.Get("X-CSRF-Token")
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		s.Log.Info("csrf refused", "request_id", requestIDOf(c), "method", c.Method(), "path", c.Path(), "had_session", want != "")
		return render(c, fiber.StatusForbidden, views.ErrorPage(viewer(c), fiber.StatusForbidden,
			"Your form expired", "Your form expired, reload and try again.", requestIDOf(c)))
	}
	return c.Next()
}
