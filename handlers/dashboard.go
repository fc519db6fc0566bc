package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/dashboard"
	"github.com/kycdesk/kycdesk/views"
)

// dashboardPage shows the figures of a range of UTC days (?from=&to=, YYYY-MM-DD; the last
// 30 days by default), read from the rollups, never from a scan of the cases.
func (s *Server) dashboardPage(c *fiber.Ctx) error {
	now := s.Now()
	r, err := dashboard.ParseRange(c.Query("from"), c.Query("to"), now)
	if err != nil {
		return err
	}
	f, err := dashboard.Load(c.UserContext(), s.DB.Read, r, now)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, views.DashboardPage(viewer(c), f))
}
