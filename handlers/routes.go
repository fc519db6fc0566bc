package handlers

import (
	"github.com/gofiber/fiber/v2"
)

// routes is the map of the application: every route, top to bottom, by area.
// Who may call each one is in policy.go.
func (s *Server) routes(app *fiber.App) {
	// System
	s.handle(app, "GET", "/healthz", s.healthz)
	s.handle(app, "GET", "/readyz", s.readyz)
	s.handle(app, "GET", "/favicon.ico", s.favicon)
	s.handle(app, "GET", "/static/*", s.static)
	s.handle(app, "GET", "/", s.home)
}
