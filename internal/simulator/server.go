package simulator

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kycdesk/kycdesk/internal/simulator/persona"
	"github.com/kycdesk/kycdesk/internal/simulator/picture"
)

// ServerConfig sets up the simulated provider API.
type ServerConfig struct {
	// APIKey and CustomerID are what the FrankieOne API expects in the api_key and
	// X-Frankie-CustomerID headers. Empty: random values are made; read them with APIKey and CustomerID.
	APIKey     string
	CustomerID string
	// CacheSize bounds the pictures kept in memory (default 512, about 40 MB).
	CacheSize int
	// Client sends the EntityStatusChanged notifications that follow a status override.
	Client *http.Client
	// Out gets a line per status override and per notification sent; nil is silent.
	Out io.Writer
}

// Server plays the providers' side of the API on loopback: FrankieOne's v2 individuals,
// executions and documents, and the image URLs that FPT.AI proxies and generic events point to.
type Server struct {
	cfg    ServerConfig
	client *http.Client

	mu        sync.Mutex
	images    map[string]imageSpec // by image ID
	entities  map[string]*entity   // FrankieOne, by entityId
	notifyURL string               // FrankieOne webhook URL (without the appended requestId)
	baseURL   string

	cache *imageCache

	srv      *http.Server
	notifies sync.WaitGroup
	ctx      context.Context // ends when the server closes: stops pending notifications
	cancel   context.CancelFunc
}

type imageSpec struct {
	person  persona.Person
	variant uint64
	spoof   bool
}

// entity is a FrankieOne individual: the scripted verification plus the overrides written to it.
type entity struct {
	v         *Verification
	overrides map[string]override // by workflowExecutionId
}

type override struct {
	status    string
	by        string
	at        time.Time
	requestID string
	comment   string
}

// NewServer makes a provider server; call Start to listen.
func NewServer(cfg ServerConfig) *Server {
	if cfg.APIKey == "" {
		cfg.APIKey = randomHex(16)
	}
	if cfg.CustomerID == "" {
		cfg.CustomerID = "sim-" + randomHex(4)
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 512
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, client: client, images: map[string]imageSpec{}, entities: map[string]*entity{},
		cache: newImageCache(cfg.CacheSize), ctx: ctx, cancel: cancel}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// APIKey is the FrankieOne api_key the server accepts.
func (s *Server) APIKey() string { return s.cfg.APIKey }

// CustomerID is the X-Frankie-CustomerID the server accepts.
func (s *Server) CustomerID() string { return s.cfg.CustomerID }

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background. It returns the base
// URL; FrankieOne's API base (kycdesk's --api-url) is that plus "/v2".
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("simulator: listen %s: %w", addr, err)
	}
	base := "http://" + ln.Addr().String()
	s.mu.Lock()
	s.baseURL = base
	s.mu.Unlock()
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("simulator: serve: %v", err)
		}
	}()
	return base, nil
}

// BaseURL is the URL Start returned ("" before Start).
func (s *Server) BaseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// Close stops serving and abandons pending notifications.
func (s *Server) Close() {
	s.cancel()
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
	}
	s.notifies.Wait()
}

// Handler serves the simulated APIs; Start uses it, tests may mount it elsewhere.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	exec := "/v2/individuals/{entityId}/serviceprofiles/{serviceName}/workflows/{workflowName}/executions/{executionId}"
	mux.Handle("GET "+exec, s.frankieAuth(http.HandlerFunc(s.getExecution)))
	mux.Handle("PATCH "+exec, s.frankieAuth(http.HandlerFunc(s.patchExecution)))
	mux.Handle("GET /v2/individuals/{entityId}", s.frankieAuth(http.HandlerFunc(s.getIndividual)))
	mux.Handle("GET /v2/individuals/{entityId}/documents/{documentId}", s.frankieAuth(http.HandlerFunc(s.getDocument)))
	mux.HandleFunc("GET /img/{kind}/{id}", s.getImage)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return mux
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Out != nil {
		fmt.Fprintf(s.cfg.Out, format+"\n", args...)
	}
}

// register makes v's pictures and (for FrankieOne) its entity available before any delivery
// that points at them goes out.
func (s *Server) register(v *Verification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range v.Sessions {
		s.images[v.ImageID(sess)] = imageSpec{person: v.Person, variant: sess.Variant, spoof: spoofed(v.Provider, sess)}
	}
	if v.Provider == FrankieOne {
		s.entities[v.Reference] = &entity{v: v, overrides: map[string]override{}}
	}
}

// attach tells the server where FrankieOne notifications go.
func (s *Server) attach(webhookURL string) {
	s.mu.Lock()
	s.notifyURL = strings.TrimRight(webhookURL, "/")
	s.mu.Unlock()
}

// --- images ----------------------------------------------------------------------------------

func (s *Server) imageURL(kind, imageID string) string {
	return s.BaseURL() + "/img/" + kind + "/" + imageID
}

// image returns the picture of kind (front, back, selfie) for an image ID, drawing it on first
// use. Cards are cached per person (a person's card is the same in every session), selfies per session.
func (s *Server) image(kind, imageID string) ([]byte, string, error) {
	s.mu.Lock()
	spec, ok := s.images[imageID]
	s.mu.Unlock()
	if !ok {
		return nil, "", errNotFound
	}
	var key string
	var draw func() ([]byte, error)
	switch kind {
	case picture.Front, picture.Back:
		key = "card/" + kind + "/" + spec.person.Key()
		draw = func() ([]byte, error) { return picture.IDCard(spec.person, kind) }
	case "selfie":
		key = "selfie/" + imageID
		draw = func() ([]byte, error) {
			return picture.SelfieWith(spec.person, picture.SelfieOptions{Variant: spec.variant, Spoof: spec.spoof})
		}
	default:
		return nil, "", errNotFound
	}
	b, err := s.cache.get(key, draw)
	if err != nil {
		return nil, "", err
	}
	return b, picture.Sniff(b), nil
}

var errNotFound = errors.New("not found")

func (s *Server) getImage(w http.ResponseWriter, r *http.Request) {
	b, ct, err := s.image(r.PathValue("kind"), r.PathValue("id"))
	if errors.Is(err, errNotFound) {
		http.Error(w, "no such image", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "drawing failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// imageCache keeps the most recently used pictures and draws each missing one once, however many
// requests ask for it at the same time.
type imageCache struct {
	mu      sync.Mutex
	max     int
	order   *list.List // front = most recent; values are cache keys
	entries map[string]*cacheEntry
}

type cacheEntry struct {
	elem *list.Element
	done chan struct{} // closed when b/err are set
	b    []byte
	err  error
}

func newImageCache(max int) *imageCache {
	return &imageCache{max: max, order: list.New(), entries: map[string]*cacheEntry{}}
}

func (c *imageCache) get(key string, draw func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		c.order.MoveToFront(e.elem)
		c.mu.Unlock()
		<-e.done
		return e.b, e.err
	}
	e := &cacheEntry{done: make(chan struct{})}
	e.elem = c.order.PushFront(key)
	c.entries[key] = e
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.entries, old.Value.(string))
	}
	c.mu.Unlock()

	e.b, e.err = draw()
	close(e.done)
	if e.err != nil { // do not keep failures
		c.mu.Lock()
		if cur, ok := c.entries[key]; ok && cur == e {
			c.order.Remove(e.elem)
			delete(c.entries, key)
		}
		c.mu.Unlock()
	}
	return e.b, e.err
}

// --- FrankieOne API --------------------------------------------------------------------------

func (s *Server) frankieAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, cust := r.Header.Get("api_key"), r.Header.Get("X-Frankie-CustomerID")
		if key == "" || key != s.cfg.APIKey || cust != s.cfg.CustomerID {
			issue := "Invalid Authentication provided. Access denied."
			code := "AUTH-0002"
			if key == "" {
				issue, code = "No api key provided. Access denied.", "AUTH-0401"
			}
			writeJSON(w, http.StatusUnauthorized, frankieError(code, "Unauthorized", issue, "request"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func frankieError(code, msg, issue, location string) map[string]any {
	return map[string]any{
		"errorCode": code, "errorMsg": msg,
		"details":   []map[string]string{{"issue": issue, "issueLocation": location}},
		"requestId": newRequestID(),
	}
}

func newRequestID() string {
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	r := randFromBytes(seed[:])
	return ulid(r, time.Now())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// lookup finds the entity and, when executionID is given, its session; it also checks that
// the service and workflow in the path are the ones the execution belongs to.
func (s *Server) lookup(r *http.Request, withExecution bool) (*entity, Session, bool) {
	s.mu.Lock()
	e, ok := s.entities[r.PathValue("entityId")]
	s.mu.Unlock()
	if !ok {
		return nil, Session{}, false
	}
	if !withExecution {
		return e, Session{}, true
	}
	if r.PathValue("serviceName") != frankieService || r.PathValue("workflowName") != frankieWorkflow(e.v.Person) {
		return nil, Session{}, false
	}
	for _, sess := range e.v.Sessions {
		if sess.ID == r.PathValue("executionId") {
			return e, sess, true
		}
	}
	return nil, Session{}, false
}

func notFound(w http.ResponseWriter, what string) {
	writeJSON(w, http.StatusNotFound, frankieError("API-0404", "Not Found", what+" not found", "path"))
}

func (s *Server) getExecution(w http.ResponseWriter, r *http.Request) {
	e, sess, ok := s.lookup(r, true)
	if !ok {
		notFound(w, "workflow execution")
		return
	}
	s.mu.Lock()
	ov := e.overrides[sess.ID]
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"requestId":      newRequestID(),
		"workflowResult": executionResult(e.v, sess, ov),
		"individual":     individual(e.v),
	})
}

// overrideStatuses are the statuses a manual override may set.
var overrideStatuses = map[string]bool{"APPROVED": true, "REJECTED": true, "PASS": true, "FAIL": true,
	"REVIEW": true, "CLEAR": true, "BLOCKED": true, "URGENT": true, "MONITOR": true, "NEEDS_APPROVAL": true}

func (s *Server) patchExecution(w http.ResponseWriter, r *http.Request) {
	e, sess, ok := s.lookup(r, true)
	if !ok {
		notFound(w, "workflow execution")
		return
	}
	var body struct {
		Status  string `json:"status"`
		Comment struct {
			Text string `json:"text"`
		} `json:"comment"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || !overrideStatuses[body.Status] {
		writeJSON(w, http.StatusBadRequest, frankieError("API-0400", "Bad request", "status must be one of APPROVED, REJECTED, …", "body.status"))
		return
	}
	rid := newRequestID()
	by := r.Header.Get("X-Frankie-Username")
	if by == "" {
		by = "api"
	}
	s.mu.Lock()
	e.overrides[sess.ID] = override{status: body.Status, by: by, at: time.Now().UTC(), requestID: rid, comment: body.Comment.Text}
	notify := s.notifyURL
	s.mu.Unlock()
	s.logf("frankieone: %s execution %s status override %s (requestId %s)", e.v.Reference, sess.ID, body.Status, rid)
	writeJSON(w, http.StatusOK, map[string]any{"requestId": rid})

	// FrankieOne follows every status change with an entity notification, our own included.
	if notify != "" {
		s.notifies.Add(1)
		go func() {
			defer s.notifies.Done()
			s.sendEntityNotice(notify, e.v.Reference, rid)
		}()
	}
}

func (s *Server) sendEntityNotice(webhookURL, entityID, requestID string) {
	body, err := frankieEntityNotice(entityID, "EntityStatusChanged", "Entity status changed", requestID)
	if err != nil {
		return
	}
	// A short pause, as the provider's notification pipeline would take.
	select {
	case <-time.After(50 * time.Millisecond):
	case <-s.ctx.Done():
		return
	}
	d := &delivery{url: webhookURL + "/" + requestID, body: body, id: requestID}
	status, err := postWithRetry(s.ctx, s.client, d, nil, 5)
	if err != nil {
		s.logf("frankieone: EntityStatusChanged %s for %s not delivered: %v", requestID, entityID, err)
		return
	}
	s.logf("frankieone: EntityStatusChanged %s for %s → %d", requestID, entityID, status)
}

func (s *Server) getIndividual(w http.ResponseWriter, r *http.Request) {
	e, _, ok := s.lookup(r, false)
	if !ok {
		notFound(w, "entity")
		return
	}
	s.mu.Lock()
	profiles := serviceProfiles(e.v, e.overrides)
	s.mu.Unlock()
	ind := individual(e.v)
	// The profiles are given both inside the individual and beside it, so a client reading
	// either place of FrankieOne's response finds them.
	ind["serviceProfiles"] = profiles
	writeJSON(w, http.StatusOK, map[string]any{"requestId": newRequestID(), "individual": ind, "serviceProfiles": profiles})
}

func (s *Server) getDocument(w http.ResponseWriter, r *http.Request) {
	e, _, ok := s.lookup(r, false)
	if !ok {
		notFound(w, "entity")
		return
	}
	docID := r.PathValue("documentId")
	var doc map[string]any
	var kinds []string
	switch docID {
	case e.v.DocumentID:
		doc, kinds = identityDocument(e.v), []string{picture.Front, picture.Back}
	case e.v.SelfieDocumentID:
		doc, kinds = selfieDocument(e.v), []string{"selfie"}
	default:
		notFound(w, "document")
		return
	}
	if r.URL.Query().Get("level") == "base64" {
		atts := doc["attachments"].([]map[string]any)
		for i, kind := range kinds {
			b, ct, err := s.image(kind, e.v.Reference)
			if err != nil {
				writeJSON(w, http.StatusInternalServerError, frankieError("SYS-1063", "Internal Server Error", "attachment unavailable", "document"))
				return
			}
			atts[i]["mimeType"] = ct
			atts[i]["data"] = map[string]string{"base64": encodeBase64(b)}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"requestId": newRequestID(), "document": doc})
}
