package handlers

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/report"
	"github.com/kycdesk/kycdesk/views"
)

// reports is the page of the four CSV downloads for a range of days, with how many rows
// each would hold.
func (s *Server) reports(c *fiber.Ctx) error {
	r, err := report.ParseRange(c.Query("from"), c.Query("to"), s.Now())
	if err != nil {
		return err
	}
	counts, err := s.reporter().Counts(c.UserContext(), r)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, views.ReportsPage(viewer(c), r.FirstDay(), r.LastDay(), report.Names, counts))
}

func (s *Server) reporter() *report.Reporter {
	rp := &report.Reporter{Read: s.DB.Read, Now: s.Now}
	if s.Inbox != nil {
		rp.Busy = s.Inbox.Busy // an export rests while webhooks pour in
	}
	return rp
}

// reportCSV streams one report. The rows are read from the read pool and written as they
// are read (flushed every few thousand), so memory stays flat and the writer is never
// held. The export's audit entry (who, which report, the days, the rows) is written after
// the last row, when the count is known; an export cut short is audited with what went out.
func (s *Server) reportCSV(c *fiber.Ctx) error {
	name := strings.Clone(c.Params("name"))
	if !report.Valid(name) {
		return errs.E(errs.NotFound, "There is no report %q: choose one of %s.", name, strings.Join(report.Names, ", "))
	}
	r, err := report.ParseRange(c.Query("from"), c.Query("to"), s.Now())
	if err != nil {
		return err
	}
	actor := strings.Clone(viewer(c).Email)
	requestID := strings.Clone(requestIDOf(c))
	rp := s.reporter()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="kycdesk-%s-%s-to-%s.csv"`, name, r.FirstDay(), r.LastDay()))
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Status(fiber.StatusOK)
	// The stream runs after the handler returns, outside the request's context: it ends
	// when the rows end, or when a write fails because the client went away.
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		rows, err := rp.Write(ctx, name, r, w)
		if err != nil {
			s.Log.Warn("report export ended early", "request_id", requestID, "report", name, "rows", rows, "err", err)
		}
		if aerr := report.RecordExport(ctx, s.DB, actor, name, r, rows, err == nil, s.Now()); aerr != nil {
			s.Log.Error("report export not audited", "request_id", requestID, "report", name, "err", aerr)
		}
	})
	return nil
}
