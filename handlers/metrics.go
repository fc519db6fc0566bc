package handlers

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/kycdesk/kycdesk/internal/errs"
)

// metrics serves the Prometheus registry. With --metrics-addr the metrics live on their
// own listener (cmd/kycdesk starts it) and the main one answers 404, as for any unknown page.
func (s *Server) metrics(c *fiber.Ctx) error {
	if s.Config.MetricsAddr != "" || s.Metrics == nil {
		return errs.E(errs.NotFound, "There is no page at this address.")
	}
	// Scrapes are rare: wrapping the handler each time keeps Server free of lazily set state.
	return adaptor.HTTPHandler(s.Metrics.Handler())(c)
}
