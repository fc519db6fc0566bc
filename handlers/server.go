// Package handlers is kycdesk's HTTP layer: Fiber routes, one policy table, middleware
// and thin handlers that parse, authorize, call internal/ and render views/.
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/ingest"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/metrics"
	"github.com/kycdesk/kycdesk/views"
)

// Server holds what the handlers need; main builds it once.
type Server struct {
	Config config.Config
	DB     *db.DB
	Sealer *crypto.Sealer
	Log    *slog.Logger
	Now    func() time.Time
	// Ready reports whether the server should take traffic (database answers, worker started).
	Ready func(ctx context.Context) error
	// Ingestion (started by the caller, see cmd/kycdesk/background.go): the integration
	// cache the webhook endpoints verify against, the durable inbox, the metrics registry.
	Integrations *integration.Registry
	Inbox        *ingest.Inbox
	Metrics      *metrics.Metrics
	// Sign-in: App builds any of these left nil (see initAuth in session.go).
	Hasher   *auth.Hasher
	Users    *auth.Users
	Sessions *auth.SessionStore
	// Search is the in-memory queue index of DB (pages and searches); App makes one when
	// nil, built by the first queue page (or by the caller's Start).
	Search *cases.SearchIndex
}

// App builds the Fiber application with every route of routes.go.
func (s *Server) App() *fiber.App {
	if s.Now == nil {
		s.Now = time.Now
	}
	s.initAuth()
	if s.Search == nil {
		s.Search = cases.NewSearchIndex(s.DB)
	}
	app := fiber.New(fiber.Config{
		AppName:               "kycdesk",
		BodyLimit:             s.Config.BodyLimit,
		DisableStartupMessage: true,
		ErrorHandler:          s.errorHandler,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		// Immutable makes c.Params, c.Query and c.FormValue return copies, so a value can
		// safely outlive the request. c.Body() is still the request buffer: copy it.
		Immutable: true,
		// Fiber's proxy header support would trust X-Forwarded-For from anyone; the
		// client address is decided by clientIP with the --trusted-proxy list instead.
		EnableTrustedProxyCheck: false,
	})
	app.Use(s.requestID, s.recoverPanic, s.accessLog, s.securityHeaders, s.loadSession, s.checkCrossOrigin, s.checkCSRF)
	s.routes(app)
	app.Use(func(c *fiber.Ctx) error { return errs.E(errs.NotFound, "There is no page at this address.") })
	return app
}

// render writes a templ component as an HTML page with the given status.
func render(c *fiber.Ctx, status int, comp templ.Component) error {
	c.Status(status)
	c.Set(fiber.HeaderContentType, "text/html; charset=utf-8")
	return comp.Render(c.UserContext(), c.Response().BodyWriter())
}

// machinePath reports whether path is called by machines that authenticate every request
// themselves (webhook signatures, API bearer tokens): no session, no CSRF token (they
// carry no cookie to abuse), and errors answered as JSON.
func machinePath(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/webhooks/") || path == "/api"
}

var statusOf = map[string]int{
	errs.Invalid:      fiber.StatusBadRequest,
	errs.Unauthorized: fiber.StatusUnauthorized,
	errs.Forbidden:    fiber.StatusForbidden,
	errs.NotFound:     fiber.StatusNotFound,
	errs.Conflict:     fiber.StatusConflict,
	errs.TooLarge:     fiber.StatusRequestEntityTooLarge,
	errs.TooMany:      fiber.StatusTooManyRequests,
	errs.Unavailable:  fiber.StatusServiceUnavailable,
	errs.Internal:     fiber.StatusInternalServerError,
}

var titleOf = map[int]string{
	400: "That request could not be used",
	401: "Please sign in",
	403: "Not available to your role",
	404: "Page not found",
	405: "Method not allowed",
	409: "Something changed",
	413: "Too large",
	429: "Too many attempts",
	503: "Temporarily unavailable",
	500: "Something went wrong",
}

// errorHandler is the one place errors become responses: domain errors show their
// message; anything else shows a generic page with the request id and goes to the log.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	status, msg := fiber.StatusInternalServerError, ""
	var fe *fiber.Error
	var de *errs.Error
	switch {
	case errors.As(err, &de):
		status, msg = statusOf[de.Code], de.Message
	case errors.As(err, &fe):
		status, msg = fe.Code, fe.Message
		if status == fiber.StatusRequestEntityTooLarge {
			msg = "The request body is larger than this server accepts."
			s.refuseTooLarge(c) // refused before routing: counted (webhooks) and drained here
		}
	}
	if status == 0 {
		status = fiber.StatusInternalServerError
	}
	rid := requestIDOf(c)
	if rid == "" {
		// Refused by the HTTP layer before any middleware ran (body limit, oversized headers,
		// an unparsable request): the answer still gets its request id and the security
		// headers, and never the parser's message, which quotes the raw request back.
		rid = newRequestID(c)
		setSecurityHeaders(c)
		if de == nil && status != fiber.StatusRequestEntityTooLarge {
			msg = ""
		}
	}
	if status >= 500 {
		s.Log.Error("request failed", "request_id", rid, "method", c.Method(), "route", c.Route().Path, "err", err)
		if status == fiber.StatusInternalServerError {
			msg = "" // internal detail never reaches the user
		}
	}
	if status == fiber.StatusServiceUnavailable && c.GetRespHeader(fiber.HeaderRetryAfter) == "" {
		c.Set(fiber.HeaderRetryAfter, "1")
	}
	if msg == "" {
		msg = defaultMessage(status)
	}
	if machinePath(c.Path()) {
		return c.Status(status).JSON(fiber.Map{"error": msg, "request_id": rid})
	}
	title := titleOf[status]
	if title == "" {
		title = http.StatusText(status)
	}
	return render(c, status, views.ErrorPage(viewer(c), status, title, msg, rid))
}

func defaultMessage(status int) string {
	switch status {
	case 400:
		return "The request could not be read. Check it and try again."
	case 401:
		return "Sign in to continue."
	case 403:
		return "Your role does not give access to this page. If you need it, ask an administrator."
	case 404:
		return "There is no page at this address."
	case 405:
		return "This address does not accept that method."
	case 413:
		return "The request body is larger than this server accepts."
	case 429:
		return "Too many attempts. Wait a moment and try again."
	case 503:
		return "The server is busy. Try again in a moment."
	}
	return "Something went wrong on our side. The error has been logged; quote the request id if you contact support."
}
