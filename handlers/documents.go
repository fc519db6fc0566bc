package handlers

import (
	"database/sql"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/audit"
)

// caseDocument serves a document or selfie image of a case to a reviewer. The document
// must belong to the case in the URL (else 404, like an unknown one). Every view is one
// audit entry, committed before a byte is sent: an image nobody can account for is never
// shown. The response is never cached and never sniffed into another type.
func (s *Server) caseDocument(c *fiber.Ctx) error {
	id := identityOf(c)
	ctx, store := c.UserContext(), s.caseStore()
	cs, err := store.Get(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	doc, data, err := store.OpenDocument(ctx, cs.ID, c.Params("doc"))
	if err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.Now(), Actor: id.Email, Action: "document.viewed",
			Subject: cs.Reference, Details: map[string]any{"case_id": cs.ID, "document_id": doc.ID, "kind": doc.Kind,
				"round": doc.Round}})
		return err
	})
	if err != nil {
		return err
	}
	s.Log.Info("document viewed", "request_id", requestIDOf(c), "case_id", cs.ID, "document_id", doc.ID, "user_id", id.UserID)
	c.Set(fiber.HeaderContentType, doc.ContentType)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentDisposition, "inline")
	// Only our own pages may embed it.
	c.Set("Cross-Origin-Resource-Policy", "same-origin")
	return c.Send(data)
}
