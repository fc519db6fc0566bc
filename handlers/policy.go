package handlers

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/errs"
)

// access says who may call a route. Exactly one of the booleans is set, or Roles is.
type access struct {
	Public   bool        // anyone, no session needed
	Webhook  bool        // anyone; the handler authenticates the sender per integration
	APIToken bool        // a bearer token of /admin/api-tokens; handle() puts apiAuth in front
	Password bool        // a session whose password was verified, MFA done or not
	Roles    []auth.Role // a fully signed-in user with one of these roles
}

func public() access              { return access{Public: true} }
func roles(r ...auth.Role) access { return access{Roles: r} }
func (a access) allows(id *auth.Identity) bool {
	switch {
	case a.Public || a.Webhook || a.APIToken:
		return true
	case a.Password:
		return id != nil
	}
	return id.SignedIn() && slices.Contains(a.Roles, id.Role)
}

var (
	analyst = auth.Analyst
	lead    = auth.Lead
	admin   = auth.Admin
	auditor = auth.Auditor
)

// policy is the one table of who may call what, keyed by "METHOD /route/pattern".
// Every registered route must have an entry: handle() refuses to register one
// without, and TestEveryRouteHasPolicy walks the router to be sure.
var policy = map[string]access{
	"GET /healthz":     public(),
	"GET /readyz":      public(),
	"GET /favicon.ico": public(),
	"GET /static/*":    public(),
	"GET /":            public(), // home redirects by session state

	"GET /login":            public(),
	"POST /login":           public(),
	"GET /mfa/setup":        {Password: true},
	"GET /mfa/setup/qr.png": {Password: true},
	"POST /mfa/setup":       {Password: true},
	"GET /mfa":              {Password: true},
	"POST /mfa":             {Password: true},
	"POST /logout":          {Password: true},

	"POST /webhooks/frankieone/:integrationID/:requestID": {Webhook: true},
	"POST /webhooks/fptai/:integrationID":                 {Webhook: true},
	"POST /webhooks/generic/:integrationID":               {Webhook: true},
	"GET /metrics":                                        public(),

	"GET /queues":                   roles(analyst, lead, auditor),
	"GET /cases/:id":                roles(analyst, lead, auditor),
	"GET /cases/:id/documents/:doc": roles(analyst, lead, auditor),
	"POST /cases/:id/reveal":        roles(analyst, lead, auditor),

	// Review actions: the store checks who may act on which case (the lifecycle table).
	"POST /queues/next":                             roles(analyst, lead),
	"POST /queues/assign":                           roles(lead),
	"POST /me/availability":                         roles(analyst, lead),
	"POST /cases/:id/claim":                         roles(analyst, lead),
	"POST /cases/:id/release":                       roles(analyst, lead),
	"POST /cases/:id/assign":                        roles(lead),
	"POST /cases/:id/notes":                         roles(analyst, lead),
	"POST /cases/:id/decision":                      roles(analyst, lead),
	"POST /cases/:id/escalate":                      roles(analyst, lead),
	"POST /cases/:id/second-approval":               roles(lead),
	"POST /cases/:id/documents/:doc/review":         roles(analyst, lead),
	"GET /admin/reason-codes":                       roles(admin),
	"POST /admin/reason-codes":                      roles(admin),
	"POST /admin/reason-codes/:action/:code/retire": roles(admin),

	"GET /audit":        roles(lead, auditor, admin),
	"GET /audit/verify": roles(lead, auditor, admin),

	"GET /dashboard": roles(lead, auditor),

	"GET /reports":           roles(lead, auditor),
	"GET /reports/:name.csv": roles(lead, auditor),

	"GET /admin/users":                roles(admin),
	"POST /admin/users":               roles(admin),
	"POST /admin/users/:id/role":      roles(admin),
	"POST /admin/users/:id/disable":   roles(admin),
	"POST /admin/users/:id/enable":    roles(admin),
	"POST /admin/users/:id/reset-mfa": roles(admin),
	"POST /admin/users/:id/unlock":    roles(admin),

	"GET /admin/integrations":                           roles(admin),
	"POST /admin/integrations":                          roles(admin),
	"POST /admin/integrations/:id/rotate":               roles(admin),
	"POST /admin/integrations/:id/allowlist":            roles(admin),
	"POST /admin/integrations/:id/api":                  roles(admin),
	"POST /admin/integrations/:id/healthy":              roles(admin),
	"POST /admin/integrations/:id/dead/:inboxID/replay": roles(admin),
	// Decisions going out (admin_outbox.go)
	"POST /admin/integrations/:id/decision-url":              roles(admin),
	"POST /admin/integrations/:id/decision-secret":           roles(admin),
	"POST /admin/integrations/:id/outbox/:deliveryID/replay": roles(admin),

	"GET /api/v1/openapi.json": public(),
	"GET /api/v1/cases":        {APIToken: true},
	"GET /api/v1/cases/:id":    {APIToken: true},

	"GET /admin/api-tokens":             roles(admin),
	"POST /admin/api-tokens":            roles(admin),
	"POST /admin/api-tokens/:id/revoke": roles(admin),
}

// handle registers a route behind its policy entry. A route missing from the table
// is a programming error: fail at start, never serve it unguarded.
func (s *Server) handle(app *fiber.App, method, path string, handlers ...fiber.Handler) {
	key := method + " " + path
	a, ok := policy[key]
	if !ok {
		panic("handlers: no policy entry for " + key)
	}
	guard := func(c *fiber.Ctx) error {
		if a.allows(identityOf(c)) {
			return c.Next()
		}
		return s.deny(c)
	}
	all := []fiber.Handler{guard}
	if a.APIToken {
		// The table, not each route line, decides that a token is checked: a new API
		// route cannot be registered without it.
		all = append(all, s.apiAuth)
	}
	all = append(all, handlers...)
	if method == fiber.MethodGet {
		app.Get(path, all...) // and HEAD, under the same policy entry
		return
	}
	app.Add(method, path, all...)
}

// deny answers a request the policy refuses: a password-only session goes on to
// its MFA step, a visitor to the sign-in page, a signed-in user gets the 403 page.
func (s *Server) deny(c *fiber.Ctx) error {
	id := identityOf(c)
	read := c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead
	switch {
	case id == nil && read && !machinePath(c.Path()):
		return c.Redirect("/login", fiber.StatusSeeOther)
	case id == nil:
		return errs.E(errs.Unauthorized, "Sign in to continue.")
	case !id.MFAPassed && read:
		if id.HasMFA {
			return c.Redirect("/mfa", fiber.StatusSeeOther)
		}
		return c.Redirect("/mfa/setup", fiber.StatusSeeOther)
	}
	return errs.E(errs.Forbidden, "Your role does not give access to this page. If you need it, ask an administrator.")
}
