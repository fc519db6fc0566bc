package handlers

import (
	"fmt"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
	"github.com/kycdesk/kycdesk/views"
)

const (
	localRequestID = "request_id"
	localIdentity  = "identity"
	localCSRF      = "csrf"
)

func (s *Server) requestID(c *fiber.Ctx) error {
	newRequestID(c)
	return c.Next()
}

// newRequestID gives the request its id, in Locals and in the X-Request-Id header.
func newRequestID(c *fiber.Ctx) string {
	rid := crypto.RandomToken(9)
	c.Locals(localRequestID, rid)
	c.Set("X-Request-Id", rid)
	return rid
}

func requestIDOf(c *fiber.Ctx) string {
	rid, _ := c.Locals(localRequestID).(string)
	return rid
}

func (s *Server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.Log.Error("panic", "request_id", requestIDOf(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

// accessLog writes one structured line per request: never the query string, body,
// form values or cookies, which may carry passwords, codes or personal data.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			s.Log.Error("error handler failed", "request_id", requestIDOf(c), "err", herr)
		}
		err = nil
	}
	// A streamed body (a CSV report) is written after this line: asking its size would read
	// the whole stream into memory here, before the first byte went out.
	size := -1
	if !c.Response().IsBodyStream() {
		size = len(c.Response().Body())
	}
	attrs := []any{
		"request_id", requestIDOf(c),
		"method", c.Method(),
		"route", c.Route().Path,
		"status", c.Response().StatusCode(),
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		"bytes", size, // -1: streamed
	}
	if id := identityOf(c); id != nil {
		attrs = append(attrs, "user_id", id.UserID)
	}
	if tokenID, ok := c.Locals(localAPIToken).(int64); ok {
		attrs = append(attrs, "api_token_id", tokenID)
	}
	s.Log.Info("http", attrs...)
	return err
}

// securityHeaders: no inline script anywhere, no framing, no MIME sniffing.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	setSecurityHeaders(c)
	return c.Next()
}

func setSecurityHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// clientIP is the TCP peer, or the X-Forwarded-For hop that a trusted proxy vouches for.
func (s *Server) clientIP(c *fiber.Ctx) netip.Addr {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	peer = peer.Unmap()
	if len(s.Config.TrustedProxies) == 0 {
		return peer
	}
	return webhookauth.ClientIP(peer, c.Get(fiber.HeaderXForwardedFor), s.Config.TrustedProxies)
}

func identityOf(c *fiber.Ctx) *auth.Identity {
	id, _ := c.Locals(localIdentity).(*auth.Identity)
	return id
}

// viewer is what every page's layout needs to know about the request.
func viewer(c *fiber.Ctx) views.Viewer {
	v := views.Viewer{RequestID: requestIDOf(c), Path: c.Path()}
	v.CSRF, _ = c.Locals(localCSRF).(string)
	if id := identityOf(c); id != nil {
		v.Email, v.Name, v.Role, v.SignedIn = id.Email, id.Name, string(id.Role), id.MFAPassed
	}
	return v
}
