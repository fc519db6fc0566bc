package handlers

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/views"
)

// auditPageSize is how many entries one page of the trail shows.
const auditPageSize = 50

// auditTrail shows the trail newest first, filtered by actor, action prefix and
// subject, one page at a time (keyset: ?before=<seq>).
func (s *Server) auditTrail(c *fiber.Ctx) error {
	f := views.AuditFilter{Actor: c.Query("actor"), Action: c.Query("action"), Subject: c.Query("subject")}
	var before int64
	if b := c.Query("before"); b != "" {
		var err error
		if before, err = strconv.ParseInt(b, 10, 64); err != nil || before <= 0 {
			return errs.E(errs.Invalid, "The page position (before) must be a positive number.")
		}
	}
	// One more than a page tells whether an older page exists.
	entries, err := audit.List(c.UserContext(), s.DB.Read, audit.Filter{Actor: f.Actor, Action: f.Action, Subject: f.Subject,
		Before: before, Limit: auditPageSize + 1})
	if err != nil {
		return err
	}
	var next int64
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		next = entries[len(entries)-1].Seq
	}
	rows := make([]views.AuditRow, len(entries))
	for i, e := range entries {
		rows[i] = views.AuditRow{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Subject: e.Subject, Details: e.DetailsJSON()}
	}
	kind, msg, err := s.takeFlash(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, views.AuditPage(viewer(c), rows, f, next, before > 0, kind, msg))
}

// auditVerify walks the whole chain, as `kycdesk audit verify` does.
func (s *Server) auditVerify(c *fiber.Ctx) error {
	n, err := audit.Verify(c.UserContext(), s.DB.Read)
	var broken *audit.BrokenError
	switch {
	case errors.As(err, &broken):
		return render(c, fiber.StatusOK, views.AuditVerifyPage(viewer(c), false, n, broken.Seq, broken.Reason))
	case err != nil:
		return err
	}
	return render(c, fiber.StatusOK, views.AuditVerifyPage(viewer(c), true, n, 0, ""))
}
