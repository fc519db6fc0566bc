package handlers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/views"
)

// maxDeadLettersShown bounds each integration's dead-letter list on the page.
const maxDeadLettersShown = 20

// adminIntegrations shows every integration with its webhook URL, health and settings.
func (s *Server) adminIntegrations(c *fiber.Ctx) error {
	kind, msg, err := s.takeFlash(c)
	if err != nil {
		return err
	}
	return s.renderIntegrations(c, fiber.StatusOK, views.IntegrationForm{Provider: integration.Generic, AuthMode: integration.AuthHMAC}, nil, kind, msg)
}

func (s *Server) renderIntegrations(c *fiber.Ctx, status int, form views.IntegrationForm, shown *views.ShownSecret, kind, msg string) error {
	ctx := c.UserContext()
	store := s.Integrations.Store()
	list, err := store.List(ctx)
	if err != nil {
		return err
	}
	now := s.Now()
	rows := make([]views.IntegrationRow, 0, len(list))
	for _, in := range list {
		row, err := s.integrationRow(ctx, in, now)
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	// The page can carry a secret shown once: never cached, never stored by the browser.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, status, views.AdminIntegrationsPage(viewer(c), rows, form, shown, kind, msg))
}

func (s *Server) integrationRow(ctx context.Context, in *integration.Integration, now time.Time) (views.IntegrationRow, error) {
	row := views.IntegrationRow{
		ID: in.ID, Name: in.Name, Provider: in.Provider, AuthMode: in.AuthMode, WebhookURL: s.webhookURL(in),
		TokenHeader: in.TokenHeader, AllowIPs: in.AllowIPs, JWTIssuer: in.JWTIssuer, HasJWTKey: in.JWTKeyPEM != "",
		APIURL: in.APIURL, HasAPIKey: in.HasAPIKey, CustomerID: in.CustomerID, DataKey: in.DataKey,
		UnhealthyReason: in.UnhealthyReason, UnhealthyUntil: in.UnhealthyUntil, Now: now,
	}
	secrets, err := s.Integrations.Store().Secrets(ctx, in.ID)
	if err != nil {
		return row, err
	}
	for _, sec := range secrets {
		row.Secrets = append(row.Secrets, views.SecretRow{CreatedAt: sec.CreatedAt, ExpiresAt: sec.ExpiresAt, Active: sec.Active(now)})
	}
	h, err := s.Inbox.Health(ctx, in.ID)
	if err != nil {
		return row, err
	}
	row.LastDelivery, row.Deliveries24h, row.AuthFailures24h, row.Malformed24h = h.LastDelivery, h.Deliveries24h, h.AuthFailures24h, h.Malformed24h
	row.Pending, row.OldestPending, row.Dead = h.Pending, h.OldestPending, h.Dead
	if h.Dead > 0 {
		dead, err := s.Inbox.DeadLetters(ctx, in.ID, maxDeadLettersShown)
		if err != nil {
			return row, err
		}
		for _, d := range dead {
			row.DeadLetters = append(row.DeadLetters, views.DeadLetterRow{ID: d.ID, DeliveryKey: d.DeliveryKey,
				Reason: d.Reason, Attempts: d.Attempts, ReceivedAt: d.ReceivedAt})
		}
	}
	if row.Outbox, err = s.outboxInfo(ctx, in); err != nil {
		return row, err
	}
	return row, nil
}

// webhookURL is the URL a provider is given: the public URL setting and the integration's path.
func (s *Server) webhookURL(in *integration.Integration) string {
	return strings.TrimRight(s.Config.PublicURL, "/") + in.WebhookPath()
}

// adminIntegrationCreate adds an integration and shows its secret once; a refused form is
// shown again with what was typed (but secrets and keys).
func (s *Server) adminIntegrationCreate(c *fiber.Ctx) error {
	form := views.IntegrationForm{Name: c.FormValue("name"), Provider: c.FormValue("provider"), AuthMode: c.FormValue("auth"),
		TokenHeader: strings.TrimSpace(c.FormValue("token_header")), AllowIPs: c.FormValue("allow_ips"),
		APIURL: strings.TrimSpace(c.FormValue("api_url")), CustomerID: strings.TrimSpace(c.FormValue("customer_id")),
		DataKey: strings.TrimSpace(c.FormValue("data_key"))}
	spec := integration.Spec{Name: form.Name, Provider: form.Provider, AuthMode: form.AuthMode, Secret: strings.TrimSpace(c.FormValue("secret")),
		TokenHeader: form.TokenHeader, AllowIPs: []string{form.AllowIPs}, JWTKeyPEM: strings.TrimSpace(c.FormValue("jwt_key")),
		APIURL: form.APIURL, APIKey: strings.TrimSpace(c.FormValue("api_key")), CustomerID: form.CustomerID, DataKey: form.DataKey}
	in, secret, err := s.Integrations.Store().Create(c.UserContext(), identityOf(c).Email, spec)
	if msg := errs.Message(err); msg != "" {
		return s.renderIntegrations(c, statusOf[errs.Code(err)], form, nil, "error", msg)
	}
	if err != nil {
		return err
	}
	s.refreshIntegrations(c)
	var shown *views.ShownSecret
	if secret != "" {
		shown = &views.ShownSecret{Integration: in.Name, WebhookURL: s.webhookURL(in), Secret: secret, AuthMode: in.AuthMode}
	}
	return s.renderIntegrations(c, fiber.StatusOK, views.IntegrationForm{Provider: integration.Generic, AuthMode: integration.AuthHMAC},
		shown, "ok", "Added "+in.Name+". Give the provider its webhook URL"+map[bool]string{true: " and the secret below.", false: "."}[shown != nil])
}

// overlaps are the rotation choices the page offers (views.Overlaps).
var overlaps = map[string]time.Duration{"0s": 0, "1h": time.Hour, "24h": 24 * time.Hour, "168h": 7 * 24 * time.Hour}

// adminIntegrationRotate makes a new secret or token, shown once; the old one stays valid
// for the overlap the admin chose.
func (s *Server) adminIntegrationRotate(c *fiber.Ctx) error {
	overlap, ok := overlaps[c.FormValue("overlap")]
	if !ok {
		return errs.E(errs.Invalid, "Choose how long the current secret stays valid.")
	}
	in, err := s.integrationParam(c)
	if err != nil {
		return err
	}
	secret, err := s.Integrations.Store().RotateSecret(c.UserContext(), identityOf(c).Email, in.ID, overlap)
	if msg := errs.Message(err); msg != "" && errs.Code(err) != errs.NotFound {
		return s.renderIntegrations(c, statusOf[errs.Code(err)], views.IntegrationForm{Provider: integration.Generic, AuthMode: integration.AuthHMAC}, nil, "error", msg)
	}
	if err != nil {
		return err
	}
	s.refreshIntegrations(c)
	note := "The previous one stopped working now."
	if overlap > 0 {
		note = "The previous one stays valid until " + s.Now().Add(overlap).UTC().Format("2006-01-02 15:04 UTC") + "."
	}
	return s.renderIntegrations(c, fiber.StatusOK, views.IntegrationForm{Provider: integration.Generic, AuthMode: integration.AuthHMAC},
		&views.ShownSecret{Integration: in.Name, WebhookURL: s.webhookURL(in), Secret: secret, AuthMode: in.AuthMode, Note: note},
		"ok", "Rotated the webhook "+map[bool]string{true: "token", false: "secret"}[in.AuthMode == integration.AuthToken]+" of "+in.Name+".")
}

func (s *Server) adminIntegrationAllowlist(c *fiber.Ctx) error {
	return s.integrationAction(c, func(ctx context.Context, actor string, in *integration.Integration) (string, error) {
		err := s.Integrations.Store().SetAllowlist(ctx, actor, in.ID, []string{c.FormValue("allow_ips")})
		return "Saved the allowlist of " + in.Name + ".", err
	})
}

func (s *Server) adminIntegrationAPI(c *fiber.Ctx) error {
	return s.integrationAction(c, func(ctx context.Context, actor string, in *integration.Integration) (string, error) {
		set := integration.APISettings{APIURL: strings.TrimSpace(c.FormValue("api_url")), APIKey: strings.TrimSpace(c.FormValue("api_key")),
			CustomerID: in.CustomerID, DataKey: in.DataKey, TokenHeader: strings.TrimSpace(c.FormValue("token_header")),
			JWTKeyPEM: strings.TrimSpace(c.FormValue("jwt_key"))}
		// Only the fields the provider's form shows are changed.
		if in.Provider == integration.FrankieOne {
			set.CustomerID = strings.TrimSpace(c.FormValue("customer_id"))
		}
		if in.Provider == integration.FPTAI {
			set.DataKey = strings.TrimSpace(c.FormValue("data_key"))
		}
		return "Saved the API settings of " + in.Name + ".", s.Integrations.Store().UpdateAPI(ctx, actor, in.ID, set)
	})
}

func (s *Server) adminIntegrationHealthy(c *fiber.Ctx) error {
	return s.integrationAction(c, func(ctx context.Context, actor string, in *integration.Integration) (string, error) {
		return in.Name + " is marked healthy: the worker fetches from its API again.", s.Integrations.Store().MarkHealthyBy(ctx, actor, in.ID)
	})
}

func (s *Server) adminIntegrationReplay(c *fiber.Ctx) error {
	inboxID, err := strconv.ParseInt(c.Params("inboxID"), 10, 64)
	if err != nil || inboxID <= 0 {
		return errs.E(errs.NotFound, "There is no such dead letter.")
	}
	return s.integrationAction(c, func(ctx context.Context, actor string, in *integration.Integration) (string, error) {
		return "Delivery " + strconv.FormatInt(inboxID, 10) + " of " + in.Name + " is back in the queue.", s.Inbox.Replay(ctx, actor, in.ID, inboxID)
	})
}

// integrationAction runs one change on /admin/integrations/:id/... and reports it as a
// flash message on the page (Post/Redirect/Get); a refused change shows the page with the reason.
func (s *Server) integrationAction(c *fiber.Ctx, act func(ctx context.Context, actor string, in *integration.Integration) (string, error)) error {
	in, err := s.integrationParam(c)
	if err != nil {
		return err
	}
	done, err := act(c.UserContext(), identityOf(c).Email, in)
	if errs.Code(err) == errs.NotFound {
		return err
	}
	if msg := errs.Message(err); msg != "" {
		return s.renderIntegrations(c, statusOf[errs.Code(err)], views.IntegrationForm{Provider: integration.Generic, AuthMode: integration.AuthHMAC}, nil, "error", msg)
	}
	if err != nil {
		return err
	}
	s.refreshIntegrations(c)
	if err := s.flash(c, "ok", done); err != nil {
		return err
	}
	return c.Redirect("/admin/integrations#integration-"+in.ID, fiber.StatusSeeOther)
}

func (s *Server) integrationParam(c *fiber.Ctx) (*integration.Integration, error) {
	return s.Integrations.Store().Get(c.UserContext(), c.Params("id"))
}

// refreshIntegrations makes the webhook endpoints use a change at once, rather than at the
// next poll; a failure only delays it until then.
func (s *Server) refreshIntegrations(c *fiber.Ctx) {
	if err := s.Integrations.Refresh(c.UserContext()); err != nil {
		s.Log.Warn("integration reload failed", "request_id", requestIDOf(c), "err", err)
	}
}
