package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/views"
)

// adminUsers lists the accounts.
func (s *Server) adminUsers(c *fiber.Ctx) error {
	kind, msg, err := s.takeFlash(c)
	if err != nil {
		return err
	}
	return s.renderUsers(c, fiber.StatusOK, views.UserForm{Role: string(auth.Analyst)}, kind, msg)
}

func (s *Server) renderUsers(c *fiber.Ctx, status int, form views.UserForm, kind, msg string) error {
	users, err := s.Users.List(c.UserContext())
	if err != nil {
		return err
	}
	me := identityOf(c)
	rows := make([]views.UserRow, len(users))
	for i, u := range users {
		rows[i] = views.UserRow{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), MFAEnrolled: u.MFAEnabled,
			Status: u.Status(), LastSignIn: u.LastLoginAt, Self: u.ID == me.UserID}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, status, views.AdminUsersPage(viewer(c), rows, form, kind, msg))
}

// adminUserCreate adds an account; errors show the form again with what was typed
// (but the password).
func (s *Server) adminUserCreate(c *fiber.Ctx) error {
	form := views.UserForm{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role")}
	u, err := s.Users.Create(c.UserContext(), identityOf(c).Email, auth.NewUser{
		Email: form.Email, Name: form.Name, Role: auth.Role(form.Role), Password: c.FormValue("password")})
	if msg := errs.Message(err); msg != "" {
		return s.renderUsers(c, statusOf[errs.Code(err)], form, "error", msg)
	}
	if err != nil {
		return err
	}
	return s.redirectUsers(c, "ok", "Created "+string(u.Role)+" "+u.Email+". They set up two-step sign-in when they first sign in.")
}

// userAction runs one admin action on /admin/users/:id/... and reports it as a flash
// message on the list (Post/Redirect/Get); a refused action shows the list with the reason.
func (s *Server) userAction(c *fiber.Ctx, act func(by *auth.Identity, id int64) (auth.User, error), done func(auth.User) string) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.E(errs.NotFound, "There is no such user.")
	}
	u, err := act(identityOf(c), id)
	if errs.Code(err) == errs.NotFound {
		return err
	}
	if msg := errs.Message(err); msg != "" {
		return s.renderUsers(c, statusOf[errs.Code(err)], views.UserForm{Role: string(auth.Analyst)}, "error", msg)
	}
	if err != nil {
		return err
	}
	return s.redirectUsers(c, "ok", done(u))
}

func (s *Server) redirectUsers(c *fiber.Ctx, kind, msg string) error {
	if err := s.flash(c, kind, msg); err != nil {
		return err
	}
	return c.Redirect("/admin/users", fiber.StatusSeeOther)
}

func (s *Server) adminUserRole(c *fiber.Ctx) error {
	return s.userAction(c, func(by *auth.Identity, id int64) (auth.User, error) {
		return s.Users.SetRole(c.UserContext(), by, id, auth.Role(c.FormValue("role")))
	}, func(u auth.User) string { return u.Email + " is now " + string(u.Role) + "." })
}

func (s *Server) adminUserDisable(c *fiber.Ctx) error {
	return s.userAction(c, func(by *auth.Identity, id int64) (auth.User, error) {
		return s.Users.Disable(c.UserContext(), by, id)
	}, func(u auth.User) string { return "Disabled " + u.Email + "; their sessions have ended." })
}

func (s *Server) adminUserEnable(c *fiber.Ctx) error {
	return s.userAction(c, func(by *auth.Identity, id int64) (auth.User, error) {
		return s.Users.Enable(c.UserContext(), by, id)
	}, func(u auth.User) string { return "Enabled " + u.Email + "." })
}

func (s *Server) adminUserResetMFA(c *fiber.Ctx) error {
	return s.userAction(c, func(by *auth.Identity, id int64) (auth.User, error) {
		return s.Users.ResetMFA(c.UserContext(), by, id)
	}, func(u auth.User) string {
		return "Reset two-step sign-in for " + u.Email + "; they set it up again at their next sign-in."
	})
}

func (s *Server) adminUserUnlock(c *fiber.Ctx) error {
	return s.userAction(c, func(by *auth.Identity, id int64) (auth.User, error) {
		return s.Users.Unlock(c.UserContext(), by, id)
	}, func(u auth.User) string { return "Lifted the lock-out of " + u.Email + "." })
}
