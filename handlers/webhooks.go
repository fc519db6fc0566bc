package handlers

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/ingest"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/metrics"
	"github.com/kycdesk/kycdesk/internal/provider"
	"github.com/kycdesk/kycdesk/internal/provider/fptai"
	"github.com/kycdesk/kycdesk/internal/provider/frankieone"
	"github.com/kycdesk/kycdesk/internal/provider/generic"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// Webhook endpoints: find the integration, verify the sender, check and parse the body
// with the provider's adapter, store it in the inbox deduplicated by the provider's
// delivery identity, and acknowledge only once it is committed.

func (s *Server) webhookGeneric(c *fiber.Ctx) error    { return s.webhook(c, integration.Generic) }
func (s *Server) webhookFPTAI(c *fiber.Ctx) error      { return s.webhook(c, integration.FPTAI) }
func (s *Server) webhookFrankieOne(c *fiber.Ctx) error { return s.webhook(c, integration.FrankieOne) }

// delivery is what a provider's parser tells the inbox about a body.
type delivery struct {
	key       string // the provider's delivery identity
	sensitive bool   // carries personal data: sealed at rest
}

func (s *Server) webhook(c *fiber.Ctx, providerName string) error {
	ctx := c.UserContext()
	iid := c.Params("integrationID")
	ep, err := s.Integrations.Lookup(ctx, iid)
	if err != nil {
		if errs.Code(err) == errs.NotFound {
			return err
		}
		// A passing fault (the database did not answer): 503, so the provider retries.
		// FrankieOne would stop retrying on a 400, and a 500 says nothing useful.
		return errs.Wrap(err, errs.Unavailable, "The server could not take this delivery now. Retry later.")
	}
	in := ep.Integration
	if in.Provider != providerName {
		return errs.E(errs.NotFound, "There is no integration at this address.")
	}
	// Built only on the paths that log: the accepted path is the hot one.
	log := func() *slog.Logger {
		return s.Log.With("request_id", requestIDOf(c), "integration", in.Name, "provider", in.Provider)
	}

	body := c.Body() // the server's buffer: the inbox copies it before keeping it
	req := integration.Request{Header: func(k string) string { return c.Get(k) }, Body: body, ClientIP: s.clientIP(c)}
	if err := ep.Verify(req, s.Now()); err != nil {
		var ae *webhookauth.AuthError
		reason := "refused"
		if errors.As(err, &ae) {
			reason = ae.Reason
		}
		s.Inbox.Count(in.ID, in.Name, metrics.AuthFailed)
		log().Warn("webhook refused", "reason", reason)
		return errs.E(errs.Unauthorized, "The sender could not be authenticated.")
	}
	if !isJSON(c.Get(fiber.HeaderContentType)) {
		s.Inbox.Count(in.ID, in.Name, metrics.Malformed)
		return fiber.NewError(fiber.StatusUnsupportedMediaType, "The body must be JSON (Content-Type: application/json).")
	}
	d, err := parseDelivery(providerName, in, body, c)
	if err != nil {
		s.Inbox.Count(in.ID, in.Name, metrics.Malformed)
		var shape *provider.ShapeError
		if errors.As(err, &shape) {
			log().Info("webhook malformed", "reason", shape.Reason)
			return errs.E(errs.Invalid, "%s", shape.Reason)
		}
		return err
	}
	receipt, err := s.Inbox.Submit(ctx, ingest.Delivery{
		IntegrationID: in.ID, Integration: in.Name, Provider: in.Provider,
		DeliveryKey: d.key, PathParam: c.Params("requestID"), Payload: body, Sensitive: d.sensitive,
	})
	if err != nil {
		if errors.Is(err, ingest.ErrBusy) {
			c.Set(fiber.HeaderRetryAfter, "1")
			log().Warn("webhook not acknowledged: inbox busy")
		}
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	if receipt.Duplicate {
		return c.Status(fiber.StatusOK).SendString(`{"status":"duplicate"}`)
	}
	return c.Status(fiber.StatusAccepted).SendString(`{"status":"accepted","id":` + strconv.FormatInt(receipt.ID, 10) + `}`)
}

// parseDelivery reads the body with the provider's adapter: what cannot be processed is a
// *provider.ShapeError (400, nothing stored; FrankieOne stops retrying on 400).
func parseDelivery(providerName string, in *integration.Integration, body []byte, c *fiber.Ctx) (delivery, error) {
	var d delivery
	switch providerName {
	case integration.Generic:
		if _, err := generic.Parse(body); err != nil {
			return d, err
		}
		d = delivery{key: c.Get("webhook-id"), sensitive: true}
		if d.key == "" {
			return d, provider.Shapef("the webhook-id header is required")
		}
	case integration.FPTAI:
		cb, err := fptai.Parse(body, in.DataKey)
		if err != nil {
			return d, err
		}
		d = delivery{key: cb.DeliveryID(), sensitive: true} // the callback is the whole result, with the person's data
	case integration.FrankieOne:
		n, err := frankieone.ParseNotification(body)
		if err != nil {
			return d, err
		}
		// A notification names entities and executions, never the person: stored plain.
		d = delivery{key: n.DeliveryID()}
		if d.key == "" {
			d.key = c.Params("requestID")
		}
	}
	if len(d.key) > ingest.MaxDeliveryKeyLen {
		return d, provider.Shapef("the delivery identity is longer than %d bytes", ingest.MaxDeliveryKeyLen)
	}
	return d, nil
}

// isJSON accepts application/json and application/*+json, with parameters such as charset.
func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == fiber.MIMEApplicationJSON || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// refuseTooLarge runs for every 413 of the body limit, which Fiber answers before routing
// (so the server's error handler calls it). It counts the refusal against the webhook's
// integration (only integrations already in the cache: refusing random URLs costs no
// memory) and drains what is left of the body, so the sender reads the answer.
func (s *Server) refuseTooLarge(c *fiber.Ctx) {
	drainRefusedBody(c)
	if s.Inbox == nil || s.Integrations == nil {
		return
	}
	rest, ok := strings.CutPrefix(c.Path(), "/webhooks/")
	if !ok {
		return
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) < 2 {
		return
	}
	if name := s.Integrations.Name(parts[1]); name != "" {
		s.Inbox.Count(parts[1], name, metrics.TooLarge)
	}
}

// Draining bounds: beyond them the connection is simply closed.
const (
	maxDrainBytes = 64 << 20
	maxDrainTime  = 5 * time.Second
)

// drainRefusedBody reads and drops the rest of an oversized body. The server closes the
// connection after a 413, and closing a socket with unread data sends a TCP reset, which
// can destroy the answer before the sender reads it: the sender would then retry a body
// that can never be accepted, instead of learning why.
func drainRefusedBody(c *fiber.Ctx) {
	conn := c.Context().Conn()
	if conn == nil {
		return
	}
	length := int64(c.Request().Header.ContentLength()) // -1 chunked, -2 unknown
	if length > maxDrainBytes {
		return
	}
	end := time.Now().Add(maxDrainTime)
	buf := make([]byte, 32<<10)
	var read int64
	for read < maxDrainBytes {
		// The server's read buffer already holds the start of the body, so the count never
		// quite reaches Content-Length: near the end (or without a length) stop once idle.
		idle := 200 * time.Millisecond
		if length >= 0 && read >= length-64<<10 {
			idle = 20 * time.Millisecond
		}
		deadline := time.Now().Add(idle)
		if deadline.After(end) {
			deadline = end
		}
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		read += int64(n)
		if err != nil {
			break
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
}
