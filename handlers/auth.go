package handlers

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/views"
)

// loginPage shows the sign-in form. It starts an anonymous pre-session for the form's
// CSRF token; signing in replaces that session with a new id.
func (s *Server) loginPage(c *fiber.Ctx) error {
	if id := identityOf(c); id != nil {
		return s.home(c) // already signed in, or half way: go on from there
	}
	if sess := sessionOf(c); ensureCSRF(c, sess) {
		if err := s.commitSession(c, sess); err != nil {
			return err
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, views.LoginPage(viewer(c), "", ""))
}

// login checks the password (the first factor) and sends the user on to the MFA step.
func (s *Server) login(c *fiber.Ctx) error {
	email, password := c.FormValue("email"), c.FormValue("password")
	if email == "" || password == "" {
		return render(c, fiber.StatusBadRequest, views.LoginPage(viewer(c), email, "Enter your email and password."))
	}
	u, err := s.Users.Authenticate(c.UserContext(), email, password, s.clientIP(c).String())
	switch errs.Code(err) {
	case errs.Unauthorized:
		return render(c, fiber.StatusUnauthorized, views.LoginPage(viewer(c), email, errs.Message(err)))
	case errs.TooMany: // the email is locked out, or the address throttled: say so on the form
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(auth.LockoutWindow.Seconds())))
		return render(c, fiber.StatusTooManyRequests, views.LoginPage(viewer(c), email, errs.Message(err)))
	}
	if err != nil {
		return err
	}
	if err := s.elevate(c, sessionOf(c), u.ID, false); err != nil {
		return err
	}
	if u.MFAEnabled {
		return c.Redirect("/mfa", fiber.StatusSeeOther)
	}
	return c.Redirect("/mfa/setup", fiber.StatusSeeOther)
}

// logout ends the session server-side and clears the cookie.
func (s *Server) logout(c *fiber.Ctx) error {
	sess := sessionOf(c)
	if err := s.Users.Logout(c.UserContext(), identityOf(c), sess.ID, s.clientIP(c).String()); err != nil {
		return err
	}
	s.Sessions.Destroy(sess)
	if err := s.commitSession(c, sess); err != nil {
		return err
	}
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// mfaStep sends a request that is not at its MFA step where it belongs; ok is true
// when the caller should go on. wantEnrolled says which step the caller is.
func (s *Server) mfaStep(c *fiber.Ctx, wantEnrolled bool) (bool, error) {
	id := identityOf(c)
	switch {
	case id.MFAPassed:
		return false, c.Redirect(landing(id.Role), fiber.StatusSeeOther)
	case id.HasMFA && !wantEnrolled:
		return false, c.Redirect("/mfa", fiber.StatusSeeOther)
	case !id.HasMFA && wantEnrolled:
		return false, c.Redirect("/mfa/setup", fiber.StatusSeeOther)
	}
	return true, nil
}

// pendingSecret returns the TOTP secret this session is enrolling, minting and keeping
// one (sealed in the session) on first use, so reloading the page or fetching the QR
// code shows the same secret until it is confirmed.
func (s *Server) pendingSecret(c *fiber.Ctx) (string, error) {
	id, sess := identityOf(c), sessionOf(c)
	if enc, _ := sess.Values[keyPendingTOTP].(string); enc != "" {
		if sealed, err := base64.StdEncoding.DecodeString(enc); err == nil {
			if secret, err := s.Users.OpenPendingTOTP(id.UserID, sealed); err == nil {
				return secret, nil
			}
		}
	}
	key, err := auth.NewTOTPKey(s.Users.Issuer, id.Email)
	if err != nil {
		return "", err
	}
	sess.Values[keyPendingTOTP] = base64.StdEncoding.EncodeToString(s.Users.SealPendingTOTP(id.UserID, key.Secret()))
	return key.Secret(), s.commitSession(c, sess)
}

func (s *Server) mfaSetupPage(c *fiber.Ctx) error {
	if ok, err := s.mfaStep(c, false); !ok {
		return err
	}
	secret, err := s.pendingSecret(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, views.MFASetupPage(viewer(c), secret, ""))
}

// mfaSetupQR serves the pending secret's QR code as a PNG from our own origin: the
// secret never goes to a third-party QR service.
func (s *Server) mfaSetupQR(c *fiber.Ctx) error {
	id := identityOf(c)
	if id.HasMFA {
		return errs.E(errs.NotFound, "Two-step sign-in is already set up.")
	}
	secret, err := s.pendingSecret(c)
	if err != nil {
		return err
	}
	key, err := auth.TOTPKey(s.Users.Issuer, id.Email, secret)
	if err != nil {
		return err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/png")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// mfaSetup confirms the pending secret with a code, then shows the recovery codes once.
func (s *Server) mfaSetup(c *fiber.Ctx) error {
	if ok, err := s.mfaStep(c, false); !ok {
		return err
	}
	secret, err := s.pendingSecret(c)
	if err != nil {
		return err
	}
	id := identityOf(c)
	codes, err := s.Users.EnrollTOTP(c.UserContext(), id.UserID, secret, c.FormValue("code"), s.clientIP(c).String())
	if errs.Code(err) == errs.Unauthorized {
		return render(c, fiber.StatusUnauthorized, views.MFASetupPage(viewer(c), secret,
			"That code is not right. Check the time on your phone and enter the code the app shows now."))
	}
	if err != nil {
		return err
	}
	if err := s.elevate(c, sessionOf(c), id.UserID, true); err != nil {
		return err
	}
	id.MFAPassed, id.HasMFA = true, true
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, views.RecoveryCodesPage(viewer(c), codes, landing(id.Role)))
}

func (s *Server) mfaPage(c *fiber.Ctx) error {
	if ok, err := s.mfaStep(c, true); !ok {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, views.MFAPage(viewer(c), ""))
}

// mfa checks a TOTP or recovery code and completes the sign-in with a new session id.
func (s *Server) mfa(c *fiber.Ctx) error {
	if ok, err := s.mfaStep(c, true); !ok {
		return err
	}
	id := identityOf(c)
	res, err := s.Users.VerifySecondFactor(c.UserContext(), id.UserID, c.FormValue("code"), s.clientIP(c).String())
	if errs.Code(err) == errs.Unauthorized {
		return render(c, fiber.StatusUnauthorized, views.MFAPage(viewer(c), errs.Message(err)))
	}
	if err != nil {
		return err
	}
	sess := sessionOf(c)
	if err := s.elevate(c, sess, id.UserID, true); err != nil {
		return err
	}
	if res.Method == "recovery_code" {
		kind := "info"
		if res.Remaining <= 3 {
			kind = "warn"
		}
		if err := s.flash(c, kind, recoveryLeft(res.Remaining)); err != nil {
			return err
		}
	}
	return c.Redirect(landing(id.Role), fiber.StatusSeeOther)
}

func recoveryLeft(n int) string {
	switch n {
	case 0:
		return "You used your last recovery code. Ask an administrator to reset two-step sign-in to get new ones."
	case 1:
		return "You signed in with a recovery code. 1 code is left."
	}
	return "You signed in with a recovery code. " + strconv.Itoa(n) + " codes are left."
}
