package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/views"
)

// adminReasonCodes lists the decisions' reason codes, retired ones too, with a form to add one.
func (s *Server) adminReasonCodes(c *fiber.Ctx) error {
	kind, msg, err := s.takeFlash(c)
	if err != nil {
		return err
	}
	return s.renderReasonCodes(c, fiber.StatusOK, views.ReasonCodeForm{Action: "reject"}, kind, msg)
}

func (s *Server) renderReasonCodes(c *fiber.Ctx, status int, form views.ReasonCodeForm, kind, msg string) error {
	codes, err := s.caseStore().ReasonCodes(c.UserContext(), true)
	if err != nil {
		return err
	}
	return render(c, status, views.AdminReasonCodesPage(viewer(c), codes, form, kind, msg))
}

// adminReasonCodeCreate adds a code (audited); a refusal shows the form again with what was typed.
func (s *Server) adminReasonCodeCreate(c *fiber.Ctx) error {
	form := views.ReasonCodeForm{Action: c.FormValue("action"), Code: c.FormValue("code"), Label: c.FormValue("label")}
	err := s.caseStore().AddReasonCode(c.UserContext(), identityOf(c).Email, form.Action, form.Code, form.Label)
	if msg := errs.Message(err); msg != "" {
		return s.renderReasonCodes(c, statusOf[errs.Code(err)], form, "error", msg)
	}
	if err != nil {
		return err
	}
	if err := s.flash(c, "ok", "Added the "+form.Action+" code "+form.Code+"."); err != nil {
		return err
	}
	return c.Redirect("/admin/reason-codes", fiber.StatusSeeOther)
}

// adminReasonCodeRetire stops offering a code (audited); decisions that used it keep it.
func (s *Server) adminReasonCodeRetire(c *fiber.Ctx) error {
	action, code := c.Params("action"), c.Params("code")
	err := s.caseStore().RetireReasonCode(c.UserContext(), identityOf(c).Email, action, code)
	if errs.Code(err) == errs.NotFound {
		return err
	}
	if msg := errs.Message(err); msg != "" {
		return s.renderReasonCodes(c, statusOf[errs.Code(err)], views.ReasonCodeForm{Action: "reject"}, "error", msg)
	}
	if err != nil {
		return err
	}
	if err := s.flash(c, "ok", "Retired the "+action+" code "+code+": it is no longer offered."); err != nil {
		return err
	}
	return c.Redirect("/admin/reason-codes", fiber.StatusSeeOther)
}
