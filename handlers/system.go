package handlers

import (
	"context"
	"io/fs"
	"mime"
	"path"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/static"
)

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	check := s.Ready
	if check == nil {
		check = s.DB.Ping
	}
	if err := check(ctx); err != nil {
		s.Log.Warn("not ready", "request_id", requestIDOf(c), "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable"})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// favicon is served without a session: browsers fetch it on their own after every
// page, and redirecting it to /login would replace the session being built.
func (s *Server) favicon(c *fiber.Ctx) error {
	b, err := fs.ReadFile(static.FS, "favicon.ico")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	c.Set(fiber.HeaderContentType, "image/x-icon")
	return c.Send(b)
}

func (s *Server) static(c *fiber.Ctx) error {
	name := path.Clean(c.Params("*"))
	b, err := fs.ReadFile(static.FS, name)
	if err != nil || name == "." {
		return errs.E(errs.NotFound, "There is no file at this address.")
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(b)
}

// home sends each visitor where they belong.
func (s *Server) home(c *fiber.Ctx) error {
	id := identityOf(c)
	switch {
	case id == nil:
		return c.Redirect("/login", fiber.StatusSeeOther)
	case !id.MFAPassed:
		return s.deny(c)
	}
	return c.Redirect(landing(id.Role), fiber.StatusSeeOther)
}

// landing is the first page a role sees after signing in.
func landing(r auth.Role) string {
	switch r {
	case auth.Admin:
		return "/admin/users"
	case auth.Lead, auth.Auditor:
		return "/dashboard"
	case auth.Analyst:
		return "/queues"
	}
	return "/login"
}
