package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/consistency"
	"github.com/kycdesk/kycdesk/views"
)

// localPIIRevealed marks a request whose case page shows the ID number and date of birth.
const localPIIRevealed = "pii_revealed"

// duplicatesShown is how many other cases with the same ID number the case page lists.
const duplicatesShown = 20

// caseReveal shows the case page once with the ID number and date of birth unmasked, after
// recording the view in the audit trail. It answers the POST with the page itself, never a
// redirect: the unmasked page has no URL to land in the history, and reloading asks before
// sending the form again (another audited view). The page is never cached (caseWorkspace).
func (s *Server) caseReveal(c *fiber.Ctx) error {
	id := identityOf(c)
	if err := s.caseStore().RevealPII(c.UserContext(), c.Params("id"), id.Email); err != nil {
		return err
	}
	s.Log.Info("personal data revealed", "request_id", requestIDOf(c), "case_id", c.Params("id"), "user_id", id.UserID)
	c.Locals(localPIIRevealed, true)
	return s.caseWorkspace(c)
}

// caseReviewAids fills what the case page shows beside the stored case: consistency checks,
// duplicates, the watermark, and the personal data masked unless this request revealed it.
func (s *Server) caseReviewAids(c *fiber.Ctx, v *views.CaseView) error {
	now := s.Now()
	x := &v.Extra
	x.Revealed, _ = c.Locals(localPIIRevealed).(bool)
	if id := identityOf(c); id != nil {
		x.WatermarkEmail = id.Email
	}
	x.WatermarkAt = now
	x.Consistency = consistency.Run(consistency.FromCase(v.Applicant, v.Fields), now)
	x.HasIDNumber = cases.NormaliseIDNumber(v.Applicant.IDNumber) != ""
	var err error
	x.Duplicates, x.DuplicatesMore, err = s.caseStore().Duplicates(c.UserContext(), v.Case.ID, v.Applicant.IDNumber, duplicatesShown)
	if err != nil {
		return err
	}
	if s.Integrations != nil && len(x.Duplicates) > 0 {
		x.IntegrationNames = map[string]string{}
		for _, d := range x.Duplicates {
			x.IntegrationNames[d.IntegrationID] = s.Integrations.Name(d.IntegrationID)
		}
	}
	v.MaskPII()
	return nil
}
