package handlers

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/outbox"
	"github.com/kycdesk/kycdesk/views"
)

// maxOutboxProblemsShown bounds each integration's list of failed decision deliveries.
const maxOutboxProblemsShown = 20

// outboxStore reads the outbox's health and replays deliveries (no state of its own).
func (s *Server) outboxStore() *outbox.Store { return &outbox.Store{DB: s.DB, Now: s.Now} }

// outboxInfo is the "Decisions going out" part of an integration's row.
func (s *Server) outboxInfo(ctx context.Context, in *integration.Integration) (views.OutboxInfo, error) {
	info := views.OutboxInfo{FrankieWriteBack: in.Provider == integration.FrankieOne && in.APIURL != "" && in.HasAPIKey}
	target, err := s.Integrations.Store().DecisionTarget(ctx, in.ID)
	if err != nil {
		return info, err
	}
	if target != nil {
		info.DecisionURL, info.SecretCreatedAt, info.PrevSecretUntil = target.URL, target.SecretCreatedAt, target.PrevExpiresAt
	}
	st := s.outboxStore()
	h, err := st.Health(ctx, in.ID)
	if err != nil {
		return info, err
	}
	info.Pending, info.OldestPending, info.Failed, info.Dead, info.Delivered24h = h.Pending, h.OldestPending, h.Failed, h.Dead, h.Delivered24h
	if h.Failed+h.Dead > 0 {
		probs, err := st.Problems(ctx, in.ID, maxOutboxProblemsShown)
		if err != nil {
			return info, err
		}
		for _, p := range probs {
			info.Problems = append(info.Problems, views.OutboxProblemRow{ID: p.ID, CaseID: p.CaseID, Reference: p.Reference,
				Destination: p.Destination, State: p.State, Attempts: p.Attempts, LastStatus: p.LastStatus,
				LastError: p.LastError, CreatedAt: p.CreatedAt, FinishedAt: p.FinishedAt})
		}
	}
	return info, nil
}

// adminIntegrationDecisionURL sets, changes or removes the decision URL. The first URL comes
// with a new signing secret, shown once on the page; otherwise the page reports the change.
func (s *Server) adminIntegrationDecisionURL(c *fiber.Ctx) error {
	in, err := s.integrationParam(c)
	if err != nil {
		return err
	}
	rawURL := strings.TrimSpace(c.FormValue("decision_url"))
	secret, err := s.Integrations.Store().SetDecisionURL(c.UserContext(), identityOf(c).Email, in.ID, rawURL)
	if msg := errs.Message(err); msg != "" && errs.Code(err) != errs.NotFound {
		return s.renderIntegrations(c, statusOf[errs.Code(err)], views.IntegrationForm{Provider: integration.Generic, AuthMode: integration.AuthHMAC}, nil, "error", msg)
	}
	if err != nil {
		return err
	}
	if secret != "" {
		return s.renderIntegrations(c, fiber.StatusOK, views.IntegrationForm{Provider: integration.Generic, AuthMode: integration.AuthHMAC},
			&views.ShownSecret{Integration: in.Name, WebhookURL: rawURL, Secret: secret, AuthMode: integration.AuthHMAC, Decision: true},
			"ok", "Decisions of "+in.Name+" now go to the decision URL. Give the customer backend the signing secret below.")
	}
	done := "Decisions of " + in.Name + " go to the new decision URL."
	if rawURL == "" {
		done = in.Name + " has no decision URL now: decisions are no longer sent to one."
	}
	if err := s.flash(c, "ok", done); err != nil {
		return err
	}
	return c.Redirect("/admin/integrations#integration-"+in.ID, fiber.StatusSeeOther)
}

// adminIntegrationDecisionSecret rotates the decision signing secret, shown once; the
// previous one signs too for the overlap chosen.
func (s *Server) adminIntegrationDecisionSecret(c *fiber.Ctx) error {
	overlap, ok := overlaps[c.FormValue("overlap")]
	if !ok {
		return errs.E(errs.Invalid, "Choose how long the current secret keeps signing.")
	}
	in, err := s.integrationParam(c)
	if err != nil {
		return err
	}
	secret, err := s.Integrations.Store().RotateDecisionSecret(c.UserContext(), identityOf(c).Email, in.ID, overlap)
	if msg := errs.Message(err); msg != "" && errs.Code(err) != errs.NotFound {
		return s.renderIntegrations(c, statusOf[errs.Code(err)], views.IntegrationForm{Provider: integration.Generic, AuthMode: integration.AuthHMAC}, nil, "error", msg)
	}
	if err != nil {
		return err
	}
	target, err := s.Integrations.Store().DecisionTarget(c.UserContext(), in.ID)
	if err != nil {
		return err
	}
	note := "The previous one stopped signing now."
	if overlap > 0 {
		note = "The previous one also signs until " + s.Now().Add(overlap).UTC().Format("2006-01-02 15:04 UTC") + "."
	}
	decisionURL := ""
	if target != nil {
		decisionURL = target.URL
	}
	return s.renderIntegrations(c, fiber.StatusOK, views.IntegrationForm{Provider: integration.Generic, AuthMode: integration.AuthHMAC},
		&views.ShownSecret{Integration: in.Name, WebhookURL: decisionURL, Secret: secret, AuthMode: integration.AuthHMAC, Decision: true, Note: note},
		"ok", "Rotated the decision signing secret of "+in.Name+".")
}

// adminOutboxReplay sends a failed or dead decision delivery again (audited: outbox.replay).
func (s *Server) adminOutboxReplay(c *fiber.Ctx) error {
	deliveryID, err := strconv.ParseInt(c.Params("deliveryID"), 10, 64)
	if err != nil || deliveryID <= 0 {
		return errs.E(errs.NotFound, "There is no such failed delivery.")
	}
	return s.integrationAction(c, func(ctx context.Context, actor string, in *integration.Integration) (string, error) {
		return "The decision delivery " + strconv.FormatInt(deliveryID, 10) + " of " + in.Name + " will be sent again.",
			s.outboxStore().Replay(ctx, actor, in.ID, deliveryID)
	})
}
