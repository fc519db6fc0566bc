package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/views"
)

// queuePageSize is how many cases one page of a queue lists.
const queuePageSize = 50

// queues lists one work queue (?queue=, default unassigned), filtered by risk, provider
// and a search text, one keyset page at a time (?after=), with every queue's count in the
// tabs. A bad parameter is the 400 page naming it.
func (s *Server) queues(c *fiber.Ctx) error {
	id := identityOf(c)
	ctx, store := c.UserContext(), s.caseStore()
	f, err := store.ParseQueueFilter(cases.QueueParams{Queue: c.Query("queue"), Risk: c.Query("risk"),
		Provider: c.Query("provider"), Q: c.Query("q"), After: c.Query("after")}, id.UserID)
	if err != nil {
		return err
	}
	page, err := store.ListQueue(ctx, f, queuePageSize)
	if err != nil {
		return err
	}
	counts, err := store.QueueCounts(ctx, f)
	if err != nil {
		return err
	}
	kind, msg, err := s.takeFlash(c)
	if err != nil {
		return err
	}
	review, err := s.queueReview(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, views.QueuesPage(viewer(c), views.QueueView{
		Queue: f.Queue, Risk: f.Risk, Provider: f.Provider, Q: f.Search, Counts: counts, Items: page.Items,
		Next: page.Next, Paged: f.Paged(), Partial: page.Partial, Now: s.Now(), ShowMine: canBeAssigned(id.Role), FlashKind: kind, FlashMsg: msg,
		Review: review,
	}))
}
