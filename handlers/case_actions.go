package handlers

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/views"
)

// The review actions of the case workspace and the queues (DESIGN.md, "Routes"). Each one
// parses the form, calls the case store (which checks the lifecycle, the version and who
// may act, all in one transaction) and redirects back with a message (Post/Redirect/Get);
// a refusal renders the case page again with the reason and what was typed.

// actorOf is the signed-in user as the case store sees them.
func actorOf(c *fiber.Ctx) cases.Actor {
	id := identityOf(c)
	return cases.Actor{ID: id.UserID, Email: id.Email, Role: string(id.Role)}
}

// formVersion is the case version the page showed (hidden field version). Decisions need
// it; claim, release and assign from a queue carry none (0: not checked).
func formVersion(c *fiber.Ctx, required bool) (int64, error) {
	v := strings.TrimSpace(c.FormValue("version"))
	if v == "" && !required {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, errs.E(errs.Invalid, "version: missing or not a number. Reload the case page and try again.")
	}
	return n, nil
}

// caseAction runs one review action on /cases/:id/... A refusal with a message shows the
// case page again with it (400, 403 or 409); an unknown case is the 404 page.
func (s *Server) caseAction(c *fiber.Ctx, act func(ctx context.Context, caseID string) (*cases.Case, error),
	done func(*cases.Case) string) error {
	caseID := c.Params("id")
	cs, err := act(c.UserContext(), caseID)
	if err != nil {
		if msg := errs.Message(err); msg != "" && errs.Code(err) != errs.NotFound {
			return s.renderCase(c, statusOf[errs.Code(err)], "error", msg)
		}
		return err
	}
	if err := s.flash(c, "ok", done(cs)); err != nil {
		return err
	}
	return c.Redirect("/cases/"+url.PathEscape(cs.ID), fiber.StatusSeeOther)
}

// caseClaim claims the case; with take_over=1 a lead takes it over from its holder.
func (s *Server) caseClaim(c *fiber.Ctx) error {
	return s.caseAction(c, func(ctx context.Context, caseID string) (*cases.Case, error) {
		v, err := formVersion(c, false)
		if err != nil {
			return nil, err
		}
		if c.FormValue("take_over") == "1" {
			return s.caseStore().TakeOver(ctx, caseID, v, actorOf(c))
		}
		return s.caseStore().Claim(ctx, caseID, v, actorOf(c))
	}, func(cs *cases.Case) string { return "You hold " + cs.Reference + " now." })
}

func (s *Server) caseRelease(c *fiber.Ctx) error {
	return s.caseAction(c, func(ctx context.Context, caseID string) (*cases.Case, error) {
		v, err := formVersion(c, false)
		if err != nil {
			return nil, err
		}
		return s.caseStore().Release(ctx, caseID, v, actorOf(c))
	}, func(cs *cases.Case) string { return "Released " + cs.Reference + "." })
}

func (s *Server) caseAssign(c *fiber.Ctx) error {
	return s.caseAction(c, func(ctx context.Context, caseID string) (*cases.Case, error) {
		v, err := formVersion(c, false)
		if err != nil {
			return nil, err
		}
		return s.caseStore().Assign(ctx, caseID, v, actorOf(c), c.FormValue("assignee"))
	}, func(cs *cases.Case) string { return "Assigned " + cs.Reference + "." })
}

func (s *Server) caseNote(c *fiber.Ctx) error {
	return s.caseAction(c, func(ctx context.Context, caseID string) (*cases.Case, error) {
		return s.caseStore().Note(ctx, caseID, actorOf(c), c.FormValue("body"))
	}, func(*cases.Case) string { return "Note added." })
}

func (s *Server) caseDecision(c *fiber.Ctx) error {
	return s.caseAction(c, func(ctx context.Context, caseID string) (*cases.Case, error) {
		v, err := formVersion(c, true)
		if err != nil {
			return nil, err
		}
		return s.caseStore().Decide(ctx, cases.DecisionInput{CaseID: caseID, Version: v, By: actorOf(c),
			Decision: c.FormValue("decision"), ReasonCode: c.FormValue("reason_code"), Comment: c.FormValue("comment")})
	}, func(cs *cases.Case) string { return outcomeText(cs) })
}

func (s *Server) caseEscalate(c *fiber.Ctx) error {
	return s.caseAction(c, func(ctx context.Context, caseID string) (*cases.Case, error) {
		v, err := formVersion(c, true)
		if err != nil {
			return nil, err
		}
		return s.caseStore().Escalate(ctx, caseID, v, actorOf(c), c.FormValue("comment"))
	}, func(cs *cases.Case) string { return cs.Reference + " is escalated: a lead decides it now." })
}

func (s *Server) caseSecondApproval(c *fiber.Ctx) error {
	return s.caseAction(c, func(ctx context.Context, caseID string) (*cases.Case, error) {
		v, err := formVersion(c, true)
		if err != nil {
			return nil, err
		}
		return s.caseStore().SecondApproval(ctx, caseID, v, actorOf(c), c.FormValue("decision"), c.FormValue("comment"))
	}, func(cs *cases.Case) string { return outcomeText(cs) })
}

func (s *Server) caseDocumentReview(c *fiber.Ctx) error {
	return s.caseAction(c, func(ctx context.Context, caseID string) (*cases.Case, error) {
		v, err := formVersion(c, true)
		if err != nil {
			return nil, err
		}
		return s.caseStore().ReviewDocument(ctx, caseID, c.Params("doc"), v, actorOf(c), c.FormValue("verdict"), c.FormValue("reason"))
	}, func(*cases.Case) string { return "Document review saved." })
}

// outcomeText says where a decision left the case.
func outcomeText(cs *cases.Case) string {
	switch cs.Status {
	case cases.StatusApproved:
		return cs.Reference + " is approved."
	case cases.StatusRejected:
		return cs.Reference + " is rejected."
	case cases.StatusPendingInfo:
		return "Information requested for " + cs.Reference + ": the SLA is paused until a new result arrives."
	case cases.StatusAwaitingSecondApproval:
		return cs.Reference + " is approved once: it now waits for a second approval by another lead."
	case cases.StatusInReview:
		return cs.Reference + " is back in review."
	}
	return cs.Reference + " is " + cs.Status + "."
}

// queueNext claims the most urgent case the user may work and opens it.
func (s *Server) queueNext(c *fiber.Ctx) error {
	cs, err := s.caseStore().Next(c.UserContext(), actorOf(c))
	if err != nil {
		return err
	}
	if cs == nil {
		if err := s.flash(c, "info", "No case is waiting for you right now."); err != nil {
			return err
		}
		return c.Redirect("/queues", fiber.StatusSeeOther)
	}
	if err := s.flash(c, "ok", "You hold "+cs.Reference+" now (the most urgent case you may work)."); err != nil {
		return err
	}
	return c.Redirect("/cases/"+url.PathEscape(cs.ID), fiber.StatusSeeOther)
}

// queueAssign is the queue page's bulk assignment: several case fields and one assignee.
func (s *Server) queueAssign(c *fiber.Ctx) error {
	var ids []string
	for _, v := range c.Request().PostArgs().PeekMulti("case") {
		ids = append(ids, string(v)) // copied: the request buffer is reused
	}
	res, err := s.caseStore().AssignMany(c.UserContext(), ids, actorOf(c), c.FormValue("assignee"))
	kind, msg := "ok", ""
	switch {
	case errs.Message(err) != "":
		kind, msg = "error", errs.Message(err)
	case err != nil:
		return err
	default:
		msg = fmt.Sprintf("Assigned %d case(s).", len(res.Assigned))
		if len(res.Refused) > 0 {
			kind = "warn"
			var parts []string
			for ref, why := range res.Refused {
				parts = append(parts, ref+": "+why)
			}
			msg += " Not assigned: " + strings.Join(parts, " ")
		}
	}
	if err := s.flash(c, kind, msg); err != nil {
		return err
	}
	back := "/queues"
	if q := c.FormValue("queue"); q != "" && len(q) < 40 {
		back += "?queue=" + url.QueryEscape(q)
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

// availabilityLayouts are what the availability form's `until` may look like: the
// browser's datetime-local (read as UTC, which the form says) or RFC 3339.
var availabilityLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339}

// meAvailability marks the user unavailable until a time (empty: available now).
func (s *Server) meAvailability(c *fiber.Ctx) error {
	raw := strings.TrimSpace(c.FormValue("until"))
	var until time.Time
	if raw != "" {
		var err error
		for _, layout := range availabilityLayouts {
			if until, err = time.ParseInLocation(layout, raw, time.UTC); err == nil {
				break
			}
		}
		if err != nil {
			return s.flashBack(c, "error", "until: not a date and time (YYYY-MM-DDTHH:MM, UTC).")
		}
	}
	err := s.caseStore().SetAvailability(c.UserContext(), actorOf(c), until)
	if msg := errs.Message(err); msg != "" {
		return s.flashBack(c, "error", msg)
	}
	if err != nil {
		return err
	}
	if until.IsZero() {
		return s.flashBack(c, "ok", "You are available: auto-assignment may give you cases.")
	}
	return s.flashBack(c, "ok", "You are unavailable until "+until.UTC().Format("2006-01-02 15:04")+" UTC: auto-assignment skips you.")
}

func (s *Server) flashBack(c *fiber.Ctx, kind, msg string) error {
	if err := s.flash(c, kind, msg); err != nil {
		return err
	}
	return c.Redirect("/queues", fiber.StatusSeeOther)
}

// reviewView is what the case page's action bar needs: what this user may do now (from the
// lifecycle table), the reason codes, the documents' verdicts and the people to assign to.
func (s *Server) reviewView(c *fiber.Ctx, cs *cases.Case, docs []cases.Document, kind, msg string) (views.ReviewView, error) {
	ctx, store := c.UserContext(), s.caseStore()
	by := actorOf(c)
	rv := views.ReviewView{FlashKind: kind, FlashMsg: msg, Version: cs.Version, Status: cs.Status, Works: canBeAssigned(identityOf(c).Role),
		Lead: by.Role == cases.RoleLead, Perms: map[cases.Action]cases.Permission{}, Reasons: map[string][]cases.ReasonCode{}}
	if c.Method() == fiber.MethodPost { // a refused action: show what was typed (never the query string's text)
		path := c.Path()
		rv.Form = views.ReviewForm{Route: path[strings.LastIndexByte(path, '/')+1:], Decision: c.FormValue("decision"),
			ReasonCode: c.FormValue("reason_code"), Comment: c.FormValue("comment"), Body: c.FormValue("body")}
	}
	if !rv.Works {
		return rv, nil
	}
	for _, a := range cases.Actions {
		rv.Perms[a] = cases.PermitCase(cs, by, a)
	}
	var err error
	if rv.FirstApprover, err = store.UserEmail(ctx, cs.FirstApproverID); err != nil {
		return rv, err
	}
	if rv.EscalatedBy, err = store.UserEmail(ctx, cs.EscalatedBy); err != nil {
		return rv, err
	}
	codes, err := store.ReasonCodes(ctx, false)
	if err != nil {
		return rv, err
	}
	for _, rc := range codes {
		rv.Reasons[rc.Action] = append(rv.Reasons[rc.Action], rc)
	}
	for _, d := range docs {
		if d.Round == cs.Round {
			rv.Documents = append(rv.Documents, d)
		}
	}
	if rv.DocReviews, err = store.DocumentReviews(ctx, cs.ID, cs.Round); err != nil {
		return rv, err
	}
	if rv.Lead {
		if rv.Workers, err = store.Workers(ctx); err != nil {
			return rv, err
		}
	}
	return rv, nil
}

// queueReview is the queue page's part of the review work: Next, availability, bulk assign.
func (s *Server) queueReview(c *fiber.Ctx) (views.QueueReview, error) {
	id := identityOf(c)
	qr := views.QueueReview{Works: canBeAssigned(id.Role), CanAssign: id.Role == auth.Lead}
	if !qr.Works {
		return qr, nil
	}
	store := s.caseStore()
	var err error
	if qr.UnavailableUntil, err = store.UnavailableUntil(c.UserContext(), id.UserID); err != nil {
		return qr, err
	}
	if qr.CanAssign {
		if qr.Workers, err = store.Workers(c.UserContext()); err != nil {
			return qr, err
		}
	}
	return qr, nil
}
