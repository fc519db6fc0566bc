package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/views"
)

// caseStore is the case store on the server's database. It holds no state of its own (the
// queue index is the server's, shared), so a value per request costs nothing.
func (s *Server) caseStore() *cases.Store {
	return &cases.Store{DB: s.DB, Sealer: s.Sealer, Now: s.Now, Routing: cases.Routing{SLA: s.Config.SLA}, Search: s.Search}
}

// caseWorkspace is the read-only review workspace of one case: header, applicant,
// documents beside the selfie, OCR fields, checks, risk and the timeline. An unknown or
// malformed id is the 404 page (the store says NotFound for both).
func (s *Server) caseWorkspace(c *fiber.Ctx) error {
	kind, msg, err := s.takeFlash(c)
	if err != nil {
		return err
	}
	return s.renderCase(c, fiber.StatusOK, kind, msg)
}

// renderCase renders the workspace of the case :id with a message in its action bar: the
// page itself, or the page again after a refused review action (case_actions.go).
func (s *Server) renderCase(c *fiber.Ctx, status int, flashKind, flashMsg string) error {
	ctx, store := c.UserContext(), s.caseStore()
	cs, err := store.Get(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	view := views.CaseView{Case: cs, Now: s.Now()}
	if view.Applicant, err = store.Applicant(ctx, cs.ID); err != nil {
		return err
	}
	if view.Fields, err = store.Fields(ctx, cs.ID); err != nil {
		return err
	}
	if view.Checks, err = store.Checks(ctx, cs.ID); err != nil {
		return err
	}
	if view.Documents, err = store.Documents(ctx, cs.ID); err != nil {
		return err
	}
	if view.Timeline, err = store.Timeline(ctx, cs.ID); err != nil {
		return err
	}
	if s.Integrations != nil {
		view.IntegrationName = s.Integrations.Name(cs.IntegrationID)
	}
	if cs.AssigneeID != 0 {
		u, err := s.Users.Get(ctx, cs.AssigneeID)
		if err != nil {
			return err
		}
		view.AssigneeEmail = u.Email
	}
	if err := s.caseReviewAids(c, &view); err != nil { // case_review_aids.go
		return err
	}
	if view.Review, err = s.reviewView(c, cs, view.Documents, flashKind, flashMsg); err != nil {
		return err
	}
	// The page carries personal data: never kept by the browser or a proxy.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, status, views.CasePage(viewer(c), view))
}

// canBeAssigned reports whether a role works cases (and so has a "mine" queue).
func canBeAssigned(r auth.Role) bool { return r == auth.Analyst || r == auth.Lead }
