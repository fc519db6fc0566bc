package handlers

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/views"
)

// checkCrossOrigin refuses a state-changing request that a browser says came from another
// site, with the rules of Go's net/http CrossOriginProtection (Fiber runs on fasthttp, so
// the net/http type cannot wrap it): safe methods pass; Sec-Fetch-Site "same-origin" or
// "none" (typed by the user) passes and any other value is refused; without it, an Origin
// whose host is the request's Host, or the configured public URL's origin (a proxy may
// rewrite Host), passes and any other Origin is refused; a request with neither header is
// not from a modern browser and passes. It is defence in depth behind the CSRF token.
// Machine paths (webhooks, API) carry no cookies to abuse and are exempt.
func (s *Server) checkCrossOrigin(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if machinePath(c.Path()) {
		return c.Next()
	}
	switch c.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return c.Next()
	case "":
	default:
		return s.refuseCrossOrigin(c, "sec-fetch-site")
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return c.Next()
	}
	if o, err := url.Parse(origin); err == nil && o.Host != "" && o.Host == string(c.Request().Host()) {
		return c.Next()
	}
	if s.trustedOrigin(origin) {
		return c.Next()
	}
	return s.refuseCrossOrigin(c, "origin")
}

// trustedOrigin: the origin of the public URL (scheme and host), the address people reach
// kycdesk at when a proxy sits in front of it.
func (s *Server) trustedOrigin(origin string) bool {
	u, err := url.Parse(s.Config.PublicURL)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(origin, u.Scheme+"://"+u.Host)
}

func (s *Server) refuseCrossOrigin(c *fiber.Ctx, by string) error {
	// The Origin is a site name, not personal data; it helps tell an attack from a proxy set-up.
	s.Log.Info("cross-origin request refused", "request_id", requestIDOf(c), "method", c.Method(), "path", c.Path(),
		"by", by, "origin", truncate(c.Get(fiber.HeaderOrigin), 100))
	return render(c, fiber.StatusForbidden, views.ErrorPage(viewer(c), fiber.StatusForbidden, "Refused: another site sent this",
		"This request came from another site, so kycdesk refused it. Open kycdesk itself and try again.", requestIDOf(c)))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
