package handlers

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/internal/apitoken"
	"github.com/kycdesk/kycdesk/internal/caseapi"
	"github.com/kycdesk/kycdesk/internal/errs"
)

// The read-only JSON API for customer backends (DESIGN.md, "The JSON API"). Every answer
// is JSON, errors included (errorHandler answers JSON under /api/).

const localAPIToken = "api_token_id"

func (s *Server) apiTokens() *apitoken.Store {
	return &apitoken.Store{DB: s.DB, Now: s.Now, Log: s.Log}
}

func (s *Server) caseReader() *caseapi.Reader {
	return &caseapi.Reader{DB: s.DB, Sealer: s.Sealer}
}

// apiMethods answers 405 (with Allow) for any method but GET under /api/v1, where every
// resource is read-only, before routing could answer with a 404.
func (s *Server) apiMethods(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodGet {
		return c.Next()
	}
	c.Set(fiber.HeaderAllow, fiber.MethodGet)
	return fiber.NewError(fiber.StatusMethodNotAllowed, "The API is read-only: use GET.")
}

// apiAuth lets a request through only with a live API token in Authorization: Bearer.
func (s *Server) apiAuth(c *fiber.Ctx) error {
	token, ok := bearerToken(c.Get(fiber.HeaderAuthorization))
	if !ok {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="kycdesk"`)
		return errs.E(errs.Unauthorized, "Send an API token in the header Authorization: Bearer <token>.")
	}
	tok, err := s.apiTokens().Authenticate(c.UserContext(), token)
	if errs.Code(err) == errs.Unauthorized {
		// The token itself is never logged, not even in part.
		s.Log.Info("api token refused", "request_id", requestIDOf(c), "ip", s.clientIP(c).String())
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="kycdesk", error="invalid_token"`)
		return err
	}
	if err != nil {
		return err
	}
	c.Locals(localAPIToken, tok.ID)
	return c.Next()
}

// bearerToken reads "Bearer <token>" (the scheme is case-insensitive, RFC 7235).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// apiCase answers GET /api/v1/cases/:id with the case object.
func (s *Server) apiCase(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	body, err := s.caseReader().Get(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	apiJSONHeaders(c)
	return c.Send(body)
}

// apiCases answers GET /api/v1/cases with one page of the filtered list.
func (s *Server) apiCases(c *fiber.Ctx) error {
	r := s.caseReader()
	q, err := r.ParseQuery(queryValues(c))
	if err != nil {
		return err
	}
	page, err := r.List(c.UserContext(), q)
	if err != nil {
		return err
	}
	apiJSONHeaders(c)
	return page.WriteJSON(c.Response().BodyWriter())
}

// noQuery refuses query parameters on an endpoint that takes none, so a filter meant for
// the list is not silently ignored.
func noQuery(c *fiber.Ctx) error {
	var name string
	c.Context().QueryArgs().VisitAll(func(k, _ []byte) {
		if name == "" {
			name = string(k)
		}
	})
	if name != "" {
		return errs.E(errs.Invalid, "%q: unknown parameter (this endpoint takes none)", name)
	}
	return nil
}

func queryValues(c *fiber.Ctx) url.Values {
	v := url.Values{}
	c.Context().QueryArgs().VisitAll(func(k, val []byte) { v.Add(string(k), string(val)) })
	return v
}

// apiJSONHeaders marks an answer as JSON that must not be cached anywhere: it is about people.
func apiJSONHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
}

// apiOpenAPI serves the OpenAPI 3.1 document of /api/v1.
func (s *Server) apiOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(caseapi.OpenAPI)
}
