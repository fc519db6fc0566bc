package simulator

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// Options configure a simulation run.
type Options struct {
	Target     string  // kycdesk's base URL; probed at /healthz before sending (optional)
	Provider   string  // Generic, FPTAI or FrankieOne
	Rate       float64 // deliveries per second, all kinds together; 0 or less: as fast as the workers go
	Count      int     // distinct verifications, hence new cases
	Duplicates float64 // probability (0..1) that a verification's first delivery is sent again
	OutOfOrder float64 // probability (0..1) that a verification has an older result delivered late
	Mix        string  // outcome mix, see ParseMix
	Linger     time.Duration
	Seed       int64 // 0: a seed from the clock (printed, so a run can be replayed)
	Auth       Auth
	Out        io.Writer // progress lines; nil is silent
}

// Auth is how deliveries reach and authenticate to kycdesk.
type Auth struct {
	WebhookURL  string // full URL incl. /webhooks/{provider}/{integrationID}
	Secret      string // generic: Standard Webhooks secret, "whsec_<base64>"
	Token       string // fptai: the fixed token
	TokenHeader string // fptai: header carrying Token (default X-Webhook-Token)
	DataKey     string // fptai: wrap each callback under this key
}

// Stats count what a run did. Sent counts deliveries (each once, however many retries it took);
// Duplicates and OutOfOrder are the redeliveries among them.
type Stats struct {
	Sent, Acked, Duplicates, OutOfOrder, Rejected4xx, Failed int
	Elapsed                                                  time.Duration
}

// workers bounds concurrent deliveries: enough that a slow target does not pull the offered
// rate down, few enough not to swamp it.
const workers = 32

// trickleGrace is how long a stopped trickle lets in-flight deliveries finish.
const trickleGrace = 5 * time.Second

// maxAttempts is how often one delivery is tried on 429/502/503/504 or a network error.
const maxAttempts = 8

type stepKind int

const (
	stepOriginal stepKind = iota
	stepDuplicate
	stepOutOfOrder
)

// delivery is one webhook POST. Its body is built once, so a duplicate is the same bytes.
type delivery struct {
	url  string
	id   string // webhook-id / uuid / requestId: the provider's identity of the delivery
	body []byte

	once  sync.Once
	build func() ([]byte, error)
	err   error
}

func (d *delivery) payload() ([]byte, error) {
	d.once.Do(func() {
		if d.build != nil {
			d.body, d.err = d.build()
		}
	})
	return d.body, d.err
}

type step struct {
	kind stepKind
	d    *delivery
}

// plan is a verification's deliveries, sent one after the other with a pause between.
type plan struct {
	steps []step
}

// Run sends opts.Count verifications to kycdesk as opts.Provider would, serving their results
// and pictures from srv (which must be started), then keeps srv up for opts.Linger.
func Run(ctx context.Context, opts Options, srv *Server) (Stats, error) {
	e, err := newEngine(opts, srv)
	if err != nil {
		return Stats{}, err
	}
	st, err := e.run(ctx, opts.Count, 0)
	if err != nil {
		return st, err
	}
	if opts.Linger > 0 {
		e.printf("simulate %s: serving the provider API at %s for %s more", opts.Provider, srv.BaseURL(), opts.Linger)
		select {
		case <-time.After(opts.Linger):
		case <-ctx.Done():
		}
	}
	return st, nil
}

// RunTrickle starts one new verification every `every` until ctx ends, for the demo's steady
// stream of cases. Duplicates and out-of-order redeliveries follow as in Run. Ending ctx is the
// normal way to stop it, so it returns a nil error then.
func RunTrickle(ctx context.Context, opts Options, srv *Server, every time.Duration) (Stats, error) {
	if every <= 0 {
		return Stats{}, errors.New("simulator: trickle interval must be positive")
	}
	e, err := newEngine(opts, srv)
	if err != nil {
		return Stats{}, err
	}
	st, err := e.run(ctx, -1, every)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	return st, err
}

type engine struct {
	opts    Options
	srv     *Server
	gen     *generator
	client  *http.Client
	secret  []byte
	started time.Time

	sent, acked, dups, ooo, rejected, failed atomic.Int64
	verifications                            atomic.Int64
	outMu                                    sync.Mutex
}

func newEngine(opts Options, srv *Server) (*engine, error) {
	mix, err := ParseMix(opts.Provider, opts.Mix)
	if err != nil {
		return nil, err
	}
	if srv == nil || srv.BaseURL() == "" {
		return nil, errors.New("simulator: the provider server must be started first")
	}
	if opts.Auth.WebhookURL == "" {
		return nil, errors.New("simulator: no webhook URL")
	}
	if opts.Duplicates < 0 || opts.Duplicates > 1 || opts.OutOfOrder < 0 || opts.OutOfOrder > 1 {
		return nil, errors.New("simulator: --duplicates and --out-of-order are probabilities between 0 and 1")
	}
	e := &engine{opts: opts, srv: srv}
	switch opts.Provider {
	case Generic:
		if opts.Auth.Secret != "" {
			if e.secret, err = webhookauth.ParseSecret(opts.Auth.Secret); err != nil {
				return nil, err
			}
		}
	case FPTAI:
		if e.opts.Auth.TokenHeader == "" {
			e.opts.Auth.TokenHeader = "X-Webhook-Token"
		}
	}
	if e.opts.Seed == 0 {
		e.opts.Seed = time.Now().UnixNano()
	}
	e.gen = newGenerator(e.opts.Seed, opts.Provider, mix, opts.Duplicates, opts.OutOfOrder, time.Now())
	e.client = &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: workers * 2, MaxIdleConnsPerHost: workers * 2, IdleConnTimeout: 30 * time.Second,
		},
	}
	srv.attach(opts.Auth.WebhookURL)
	e.printf("simulate %s: seed %d, mix %s, provider API %s", opts.Provider, e.opts.Seed, mix, srv.BaseURL())
	return e, nil
}

func (e *engine) printf(format string, args ...any) {
	if e.opts.Out == nil {
		return
	}
	e.outMu.Lock()
	defer e.outMu.Unlock()
	fmt.Fprintf(e.opts.Out, format+"\n", args...)
}

func (e *engine) stats() Stats {
	return Stats{Sent: int(e.sent.Load()), Acked: int(e.acked.Load()), Duplicates: int(e.dups.Load()),
		OutOfOrder: int(e.ooo.Load()), Rejected4xx: int(e.rejected.Load()), Failed: int(e.failed.Load()),
		Elapsed: time.Since(e.started)}
}

func (e *engine) progress(final bool) {
	st := e.stats()
	rate := float64(st.Sent) / st.Elapsed.Seconds()
	word := ""
	if final {
		word = "done in " + st.Elapsed.Round(10*time.Millisecond).String() + ": "
	}
	e.printf("simulate %s: %s%d verifications, %d deliveries sent, %d acked, %d duplicates, %d out of order, %d rejected (4xx), %d failed, %.1f/s",
		e.opts.Provider, word, e.verifications.Load(), st.Sent, st.Acked, st.Duplicates, st.OutOfOrder, st.Rejected4xx, st.Failed, rate)
}

// probeTarget waits briefly for kycdesk to answer, so a simulator started beside the server
// does not burn its first deliveries on connection refusals.
func (e *engine) probeTarget(ctx context.Context) {
	if e.opts.Target == "" {
		return
	}
	url := strings.TrimRight(e.opts.Target, "/") + "/healthz"
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return
		}
		if resp, err := e.client.Do(req); err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	e.printf("simulate %s: %s does not answer; sending anyway", e.opts.Provider, url)
}

// planFor turns a verification into its deliveries.
func (e *engine) planFor(v *Verification) *plan {
	p := &plan{}
	add := func(kind stepKind, d *delivery) { p.steps = append(p.steps, step{kind, d}) }
	sess := v.Sessions
	switch v.Provider {
	case Generic:
		mk := func(s Session, typ string) *delivery {
			return &delivery{url: e.opts.Auth.WebhookURL, id: s.ID, build: func() ([]byte, error) { return genericEvent(v, s, typ, e.srv) }}
		}
		if v.OutOfOrder {
			// The newer result first; the older one (earlier occurred_at) arrives last.
			add(stepOriginal, mk(sess[1], "verification.updated"))
			add(stepOutOfOrder, mk(sess[0], "verification.completed"))
		} else {
			add(stepOriginal, mk(sess[0], "verification.completed"))
		}
	case FPTAI:
		mk := func(s Session) *delivery {
			return &delivery{url: e.opts.Auth.WebhookURL, id: s.ID, build: func() ([]byte, error) { return fptaiCallback(v, s, e.srv, e.opts.Auth.DataKey) }}
		}
		if v.OutOfOrder {
			// FPT.AI callbacks carry no time; a late older one is the earlier session re-sent after the newer.
			older := mk(sess[0])
			add(stepOriginal, older)
			add(stepOriginal, mk(sess[1]))
			add(stepOutOfOrder, older)
		} else {
			add(stepOriginal, mk(sess[0]))
		}
	case FrankieOne:
		base := strings.TrimRight(e.opts.Auth.WebhookURL, "/")
		mk := func(s Session) *delivery {
			return &delivery{url: base + "/" + s.RequestID, id: s.RequestID, build: func() ([]byte, error) { return frankieWorkflowNotice(v, s) }}
		}
		if v.OutOfOrder {
			// The newer execution's notification first; the older execution's arrives late.
			add(stepOriginal, mk(sess[1]))
			add(stepOutOfOrder, mk(sess[0]))
		} else {
			add(stepOriginal, mk(sess[0]))
		}
		if v.EntityNotice {
			rid := ulid(rand.New(rand.NewPCG(v.Latest().Variant, 0xe7)), v.Latest().At.Add(time.Second))
			add(stepOriginal, &delivery{url: base + "/" + rid, id: rid, build: func() ([]byte, error) {
				return frankieEntityNotice(v.Reference, "EntityRiskChanged", "Entity risk changed", rid)
			}})
		}
	}
	if v.Duplicate {
		add(stepDuplicate, p.steps[0].d)
	}
	return p
}

// followup is the rest of a plan, due again at `at`.
type followup struct {
	at   time.Time
	plan *plan
}

type followups []followup

func (f followups) Len() int           { return len(f) }
func (f followups) Less(i, j int) bool { return f[i].at.Before(f[j].at) }
func (f followups) Swap(i, j int)      { f[i], f[j] = f[j], f[i] }
func (f *followups) Push(x any)        { *f = append(*f, x.(followup)) }
func (f *followups) Pop() any {
	old := *f
	x := old[len(old)-1]
	*f = old[:len(old)-1]
	return x
}

// run drives the deliveries: a single dispatcher paces them (a token bucket at opts.Rate) and
// hands them to a fixed pool of workers. A verification's later steps go back into a time-ordered
// queue when the earlier step is done, so a redelivery always follows what it repeats.
// count < 0 means until ctx ends; every > 0 spaces new verifications (trickle mode).
func (e *engine) run(ctx context.Context, count int, every time.Duration) (Stats, error) {
	e.started = time.Now()
	e.probeTarget(ctx)
	e.started = time.Now()

	// Deliveries run under dctx. A trickle ends by its ctx ending, which is no reason to cut off
	// the deliveries already on the wire: they get a few seconds' grace to finish.
	dctx := ctx
	if count < 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		stop := context.AfterFunc(ctx, func() { time.AfterFunc(trickleGrace, cancel) })
		defer stop()
	}
	jobs := make(chan *plan)
	done := make(chan *plan, workers+1)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				e.deliver(dctx, p.steps[0])
				p.steps = p.steps[1:]
				done <- p
			}
		}()
	}
	stopProgress := make(chan struct{})
	var progressDone sync.WaitGroup
	progressDone.Add(1)
	go func() {
		defer progressDone.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				e.progress(false)
			case <-stopProgress:
				return
			}
		}
	}()

	var (
		pending   followups
		inflight  int
		next      int
		interval  time.Duration
		nextSend  = time.Now()
		nextFresh = time.Now()
		timer     = time.NewTimer(time.Hour)
	)
	if e.opts.Rate > 0 {
		interval = time.Duration(float64(time.Second) / e.opts.Rate)
	}
	finished := func(p *plan) {
		inflight--
		if len(p.steps) > 0 {
			heap.Push(&pending, followup{at: time.Now().Add(e.followupDelay()), plan: p})
		}
	}
	var runErr error
loop:
	for {
		if ctx.Err() != nil {
			runErr = ctx.Err()
			break
		}
		now := time.Now()
		var p *plan
		switch {
		case len(pending) > 0 && !pending[0].at.After(now):
			p = heap.Pop(&pending).(followup).plan
		case (count < 0 || next < count) && !nextFresh.After(now):
			v := e.gen.verification(next)
			next++
			e.verifications.Add(1)
			e.srv.register(v)
			p = e.planFor(v)
			if every > 0 {
				nextFresh = now.Add(every)
			}
		}
		if p == nil {
			if count >= 0 && next >= count && len(pending) == 0 && inflight == 0 {
				break
			}
			wake := time.Hour
			if len(pending) > 0 {
				wake = time.Until(pending[0].at)
			}
			if (count < 0 || next < count) && time.Until(nextFresh) < wake {
				wake = time.Until(nextFresh)
			}
			timer.Reset(max(wake, time.Millisecond))
			select {
			case q := <-done:
				finished(q)
			case <-timer.C:
			case <-ctx.Done():
			}
			continue
		}
		// Pace: wait for the next token, still collecting finished work meanwhile.
		for wait := time.Until(nextSend); wait > 0; wait = time.Until(nextSend) {
			timer.Reset(wait)
			select {
			case q := <-done:
				finished(q)
			case <-timer.C:
			case <-ctx.Done():
				runErr = ctx.Err()
				break loop
			}
		}
		// A token bucket with a burst of one second's worth: after a stall the sender catches
		// up briefly instead of losing the offered load, but never floods.
		nextSend = nextSend.Add(interval)
		if floor := time.Now().Add(-time.Second); nextSend.Before(floor) {
			nextSend = floor
		}
		for sent := false; !sent; {
			select {
			case jobs <- p:
				inflight++
				sent = true
			case q := <-done:
				finished(q)
			case <-ctx.Done():
				runErr = ctx.Err()
				break loop
			}
		}
	}
	close(jobs)
	// Let in-flight deliveries finish (they stop early if ctx ended).
	go func() { wg.Wait(); close(done) }()
	for range done {
	}
	timer.Stop()
	close(stopProgress)
	progressDone.Wait()
	st := e.stats()
	e.progress(true)
	return st, runErr
}

// followupDelay spaces a redelivery from what it repeats: a few sending intervals, so other
// verifications' deliveries come in between, as they would from a real provider.
func (e *engine) followupDelay() time.Duration {
	d := time.Duration(50+rand.IntN(250)) * time.Millisecond
	if e.opts.Rate > 0 {
		d = time.Duration(float64(time.Second) * float64(2+rand.IntN(18)) / e.opts.Rate)
	}
	return min(max(d, 20*time.Millisecond), 2*time.Second)
}

func (e *engine) deliver(ctx context.Context, s step) {
	// Built here, in a worker, because an inline picture can take milliseconds to draw.
	if _, err := s.d.payload(); err != nil {
		e.printf("simulate %s: cannot build delivery %s: %v", e.opts.Provider, s.d.id, err)
		e.failed.Add(1)
		return
	}
	e.sent.Add(1)
	switch s.kind {
	case stepDuplicate:
		e.dups.Add(1)
	case stepOutOfOrder:
		e.ooo.Add(1)
	}
	status, err := postWithRetry(ctx, e.client, s.d, e.authenticate, maxAttempts)
	if err != nil && ctx.Err() == nil {
		e.printf("simulate %s: delivery %s failed: %v", e.opts.Provider, s.d.id, err)
	}
	switch {
	case err == nil && status >= 200 && status < 300:
		e.acked.Add(1)
	case err == nil && status >= 400 && status < 500:
		e.rejected.Add(1)
	default:
		e.failed.Add(1)
	}
}

// authenticate adds the provider's authentication headers; it runs for every attempt, so a
// retried generic delivery is signed afresh with a new timestamp but the same webhook-id.
func (e *engine) authenticate(h http.Header, id string, body []byte, now time.Time) {
	switch e.opts.Provider {
	case Generic:
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		if e.secret != nil {
			h.Set("webhook-signature", webhookauth.Sign(e.secret, id, now, body))
		}
	case FPTAI:
		if e.opts.Auth.Token != "" {
			h.Set(e.opts.Auth.TokenHeader, e.opts.Auth.Token)
		}
	}
	// FrankieOne sends no credentials: kycdesk allowlists its address.
}

type authFunc func(h http.Header, id string, body []byte, now time.Time)

// postWithRetry POSTs d until it gets an answer not worth retrying: 429, 502, 503 and 504 and
// network errors are retried with exponential backoff and jitter, honouring Retry-After. It
// returns the last status, or an error when no answer came at all.
func postWithRetry(ctx context.Context, client *http.Client, d *delivery, auth authFunc, attempts int) (int, error) {
	var lastErr error
	status := 0
	retryAfter := ""
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			wait := backoff(attempt)
			if ra, ok := parseRetryAfter(retryAfter, time.Now()); ok {
				wait = ra
			}
			select {
			case <-ctx.Done():
				return status, ctx.Err()
			case <-time.After(wait):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "kycdesk-simulator/1")
		if auth != nil {
			auth(req.Header, d.id, d.body, time.Now())
		}
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			lastErr, status, retryAfter = err, 0, ""
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		status, lastErr = resp.StatusCode, nil
		switch status {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			retryAfter = resp.Header.Get("Retry-After")
			continue
		}
		return status, nil
	}
	return status, lastErr
}

// backoff is the pause before attempt n (n ≥ 1): 200 ms doubling, capped at 10 s, with full jitter
// on the upper half so that many deliveries refused together do not return together.
func backoff(n int) time.Duration {
	d := 200 * time.Millisecond << min(n-1, 6)
	d = min(d, 10*time.Second)
	return d/2 + rand.N(d/2+1)
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; waits are capped at a minute.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	return min(max(d, 0), time.Minute), true
}
