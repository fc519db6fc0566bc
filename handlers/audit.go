package handlers

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/views"
)

// auditPageSize is how many entries one page of the trail shows.
const auditPageSize = 50

// auditTrail shows the trail newest first, filtered by actor, action (exact, or an area
// such as "case."), subject (a case reference or an email) and a range of days, one page
// at a time (keyset: ?before=<seq>). Each entry links to its case or user.
func (s *Server) auditTrail(c *fiber.Ctx) error {
	f := views.AuditFilter{Actor: c.Query("actor"), Action: c.Query("action"), Subject: c.Query("subject"), From: c.Query("from"), To: c.Query("to")}
	filter := audit.Filter{Actor: f.Actor, Action: f.Action, Subject: f.Subject, Limit: auditPageSize + 1}
	if b := c.Query("before"); b != "" {
		var err error
		if filter.Before, err = strconv.ParseInt(b, 10, 64); err != nil || filter.Before <= 0 {
			return errs.E(errs.Invalid, "The page position (before) must be a positive number.")
		}
	}
	var err error
	if filter.From, err = auditDay("from", f.From); err != nil {
		return err
	}
	if filter.To, err = auditDay("to", f.To); err != nil {
		return err
	}
	if !filter.To.IsZero() {
		filter.To = filter.To.AddDate(0, 0, 1) // the last day is included
	}
	if !filter.From.IsZero() && !filter.To.IsZero() && !filter.From.Before(filter.To) {
		return errs.E(errs.Invalid, "The from date (%s) is after the to date (%s).", f.From, f.To)
	}
	// One more than a page tells whether an older page exists.
	entries, err := audit.List(c.UserContext(), s.DB.Read, filter)
	if err != nil {
		return err
	}
	var next int64
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		next = entries[len(entries)-1].Seq
	}
	subjects := make([]string, len(entries))
	for i, e := range entries {
		subjects[i] = e.Subject
	}
	known, err := audit.ResolveSubjects(c.UserContext(), s.DB.Read, subjects)
	if err != nil {
		return err
	}
	actions, err := audit.Actions(c.UserContext(), s.DB.Read)
	if err != nil {
		return err
	}
	rows := make([]views.AuditRow, len(entries))
	for i, e := range entries {
		rows[i] = views.AuditRow{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Subject: e.Subject, Details: e.Details,
			ActorIsUser: strings.Contains(e.Actor, "@")}
		if id, ok := e.Details["case_id"].(string); ok && id != "" {
			rows[i].CaseID = id
		} else if id := known.Cases[e.Subject]; id != "" {
			rows[i].CaseID = id
		}
		rows[i].SubjectIsUser = rows[i].CaseID == "" && known.Users[strings.ToLower(e.Subject)]
	}
	kind, msg, err := s.takeFlash(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, views.AuditPage(viewer(c), rows, f, actions, next, filter.Before > 0, kind, msg))
}

// auditDay reads an optional YYYY-MM-DD (a UTC day).
func auditDay(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return t, errs.E(errs.Invalid, "The %s date must be a date as YYYY-MM-DD.", name)
	}
	return t, nil
}

// auditVerify walks the whole chain, as `kycdesk audit verify` does.
func (s *Server) auditVerify(c *fiber.Ctx) error {
	// The last checkpoints taken are checked too: the chain must still hold each of them.
	cps, err := audit.RecentCheckpoints(c.UserContext(), s.DB.Read, 10)
	if err != nil {
		return err
	}
	n, err := audit.VerifyAgainst(c.UserContext(), s.DB.Read, cps...)
	var broken *audit.BrokenError
	switch {
	case errors.As(err, &broken):
		return render(c, fiber.StatusOK, views.AuditVerifyPage(viewer(c), false, n, broken.Seq, broken.Reason, cps))
	case err != nil:
		return err
	}
	return render(c, fiber.StatusOK, views.AuditVerifyPage(viewer(c), true, n, 0, "", cps))
}
