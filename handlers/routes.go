package handlers

import (
	"github.com/gofiber/fiber/v2"
)

// routes is the map of the application: every route, top to bottom, by area.
// Who may call each one is in policy.go.
func (s *Server) routes(app *fiber.App) {
	// System
	s.handle(app, "GET", "/healthz", s.healthz)
	s.handle(app, "GET", "/readyz", s.readyz)
	s.handle(app, "GET", "/favicon.ico", s.favicon)
	s.handle(app, "GET", "/static/*", s.static)
	s.handle(app, "GET", "/", s.home)

	// Sign-in (auth.go): password, then TOTP enrolment or check, then the role's landing page
	s.handle(app, "GET", "/login", s.loginPage)
	s.handle(app, "POST", "/login", s.login)
	s.handle(app, "GET", "/mfa/setup", s.mfaSetupPage)
	s.handle(app, "GET", "/mfa/setup/qr.png", s.mfaSetupQR)
	s.handle(app, "POST", "/mfa/setup", s.mfaSetup)
	s.handle(app, "GET", "/mfa", s.mfaPage)
	s.handle(app, "POST", "/mfa", s.mfa)
	s.handle(app, "POST", "/logout", s.logout)

	// Audit trail (audit.go)
	s.handle(app, "GET", "/audit", s.auditTrail)
	s.handle(app, "GET", "/audit/verify", s.auditVerify)

	// Dashboard (dashboard.go): the home page of leads and auditors
	s.handle(app, "GET", "/dashboard", s.dashboardPage)

	// Reports (reports.go): CSV downloads for a range of days
	s.handle(app, "GET", "/reports", s.reports)
	s.handle(app, "GET", "/reports/:name.csv", s.reportCSV)

	// Review workspace (queues.go, cases.go, documents.go)
	s.handle(app, "GET", "/queues", s.queues)
	s.handle(app, "GET", "/cases/:id", s.caseWorkspace)
	s.handle(app, "GET", "/cases/:id/documents/:doc", s.caseDocument)
	s.handle(app, "POST", "/cases/:id/reveal", s.caseReveal) // case_review_aids.go: unmask PII once, audited

	// Review actions (case_actions.go): assignment, notes, decisions, escalation, four-eyes
	s.handle(app, "POST", "/queues/next", s.queueNext)
	s.handle(app, "POST", "/queues/assign", s.queueAssign)
	s.handle(app, "POST", "/me/availability", s.meAvailability)
	s.handle(app, "POST", "/cases/:id/claim", s.caseClaim)
	s.handle(app, "POST", "/cases/:id/release", s.caseRelease)
	s.handle(app, "POST", "/cases/:id/assign", s.caseAssign)
	s.handle(app, "POST", "/cases/:id/notes", s.caseNote)
	s.handle(app, "POST", "/cases/:id/decision", s.caseDecision)
	s.handle(app, "POST", "/cases/:id/escalate", s.caseEscalate)
	s.handle(app, "POST", "/cases/:id/second-approval", s.caseSecondApproval)
	s.handle(app, "POST", "/cases/:id/documents/:doc/review", s.caseDocumentReview)

	// Reason codes of decisions (admin_reason_codes.go)
	s.handle(app, "GET", "/admin/reason-codes", s.adminReasonCodes)
	s.handle(app, "POST", "/admin/reason-codes", s.adminReasonCodeCreate)
	s.handle(app, "POST", "/admin/reason-codes/:action/:code/retire", s.adminReasonCodeRetire)

	// User administration (admin_users.go)
	s.handle(app, "GET", "/admin/users", s.adminUsers)
	s.handle(app, "POST", "/admin/users", s.adminUserCreate)
	s.handle(app, "POST", "/admin/users/:id/role", s.adminUserRole)
	s.handle(app, "POST", "/admin/users/:id/disable", s.adminUserDisable)
	s.handle(app, "POST", "/admin/users/:id/enable", s.adminUserEnable)
	s.handle(app, "POST", "/admin/users/:id/reset-mfa", s.adminUserResetMFA)
	s.handle(app, "POST", "/admin/users/:id/unlock", s.adminUserUnlock)

	// Integrations (admin_integrations.go): webhook URLs, secrets, API settings, health
	s.handle(app, "GET", "/admin/integrations", s.adminIntegrations)
	s.handle(app, "POST", "/admin/integrations", s.adminIntegrationCreate)
	s.handle(app, "POST", "/admin/integrations/:id/rotate", s.adminIntegrationRotate)
	s.handle(app, "POST", "/admin/integrations/:id/allowlist", s.adminIntegrationAllowlist)
	s.handle(app, "POST", "/admin/integrations/:id/api", s.adminIntegrationAPI)
	s.handle(app, "POST", "/admin/integrations/:id/healthy", s.adminIntegrationHealthy)
	s.handle(app, "POST", "/admin/integrations/:id/dead/:inboxID/replay", s.adminIntegrationReplay)
	// Decisions going out (admin_outbox.go): decision URL, its signing secret, replay of failed deliveries
	s.handle(app, "POST", "/admin/integrations/:id/decision-url", s.adminIntegrationDecisionURL)
	s.handle(app, "POST", "/admin/integrations/:id/decision-secret", s.adminIntegrationDecisionSecret)
	s.handle(app, "POST", "/admin/integrations/:id/outbox/:deliveryID/replay", s.adminOutboxReplay)

	// Webhooks (webhooks.go): each integration's sender is verified by the handler
	s.handle(app, "POST", "/webhooks/frankieone/:integrationID/:requestID", s.webhookFrankieOne)
	s.handle(app, "POST", "/webhooks/fptai/:integrationID", s.webhookFPTAI)
	s.handle(app, "POST", "/webhooks/generic/:integrationID", s.webhookGeneric)

	// Metrics (metrics.go): here unless --metrics-addr moves them to their own listener
	s.handle(app, "GET", "/metrics", s.metrics)

	// JSON API for customer backends (api.go): read-only; handle() puts apiAuth in front of {APIToken: true} routes
	app.Use("/api/v1", s.apiMethods)
	s.handle(app, "GET", "/api/v1/openapi.json", s.apiOpenAPI)
	s.handle(app, "GET", "/api/v1/cases", s.apiCases)
	s.handle(app, "GET", "/api/v1/cases/:id", s.apiCase)

	// API tokens (admin_api_tokens.go)
	s.handle(app, "GET", "/admin/api-tokens", s.adminAPITokens)
	s.handle(app, "POST", "/admin/api-tokens", s.adminAPITokenCreate)
	s.handle(app, "POST", "/admin/api-tokens/:id/revoke", s.adminAPITokenRevoke)
}
