package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/views"
)

// adminAPITokens lists the API tokens.
func (s *Server) adminAPITokens(c *fiber.Ctx) error {
	kind, msg, err := s.takeFlash(c)
	if err != nil {
		return err
	}
	return s.renderAPITokens(c, fiber.StatusOK, nil, "", kind, msg)
}

func (s *Server) renderAPITokens(c *fiber.Ctx, status int, created *views.NewAPIToken, name, kind, msg string) error {
	tokens, err := s.apiTokens().List(c.UserContext())
	if err != nil {
		return err
	}
	rows := make([]views.APITokenRow, len(tokens))
	for i, t := range tokens {
		rows[i] = views.APITokenRow{ID: t.ID, Name: t.Name, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt,
			LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
	}
	// The page may hold a new token: no cache, no back-button copy of it.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, status, views.AdminAPITokensPage(viewer(c), rows, created, name, kind, msg))
}

// adminAPITokenCreate makes a token and shows it on the page it answers with, once: it is
// not put in a redirect, the session or a log.
func (s *Server) adminAPITokenCreate(c *fiber.Ctx) error {
	name := c.FormValue("name")
	tok, secret, err := s.apiTokens().Create(c.UserContext(), name, identityOf(c).Email)
	if msg := errs.Message(err); msg != "" {
		return s.renderAPITokens(c, statusOf[errs.Code(err)], nil, name, "error", msg)
	}
	if err != nil {
		return err
	}
	s.Log.Info("api token created", "request_id", requestIDOf(c), "token_id", tok.ID)
	return s.renderAPITokens(c, fiber.StatusOK, &views.NewAPIToken{Name: tok.Name, Token: secret}, "", "", "")
}

// adminAPITokenRevoke ends a token at once and reports it on the list (Post/Redirect/Get).
func (s *Server) adminAPITokenRevoke(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.E(errs.NotFound, "There is no API token with this id.")
	}
	tok, err := s.apiTokens().Revoke(c.UserContext(), id, identityOf(c).Email)
	if err != nil {
		return err
	}
	s.Log.Info("api token revoked", "request_id", requestIDOf(c), "token_id", tok.ID)
	if err := s.flash(c, "ok", "Revoked the API token “"+tok.Name+"”: it no longer opens the API."); err != nil {
		return err
	}
	return c.Redirect("/admin/api-tokens", fiber.StatusSeeOther)
}
