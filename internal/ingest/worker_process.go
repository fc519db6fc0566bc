package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/provider"
	"github.com/kycdesk/kycdesk/internal/provider/fptai"
	"github.com/kycdesk/kycdesk/internal/provider/frankieone"
	"github.com/kycdesk/kycdesk/internal/provider/generic"
)

// FetchTimeout bounds one call to a provider API or one document download.
const FetchTimeout = 10 * time.Second

// NewFetchClient returns the HTTP client for provider APIs and document URLs: a 10 s
// timeout per request, redirects followed only to http(s) and at most 5 times. Response
// sizes are capped by the callers (provider.FetchURL, the FrankieOne client).
func NewFetchClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32 // the workers fetch from the same provider host at once
	t.ResponseHeaderTimeout = FetchTimeout
	return &http.Client{
		Timeout:   FetchTimeout,
		Transport: t,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return errors.New("redirect to a non-http(s) URL refused")
			}
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			return nil
		},
	}
}

// inboxRow is the part of an inbox row processing needs.
type inboxRow struct {
	id            int64
	integrationID string
	deliveryKey   string
	receivedAt    time.Time
	payload       []byte
	encrypted     bool
	attempts      int
	state         string
}

func (w *Worker) processLoop(ctx context.Context, jobs <-chan job, commits chan<- *commitOp, done chan<- *commitOp) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-jobs:
			if !w.pace.wait(ctx) {
				done <- &commitOp{id: j.id, key: j.key, kind: opAbandon}
				return
			}
			start := time.Now()
			op := w.process(ctx, j)
			op.started = start
			if op.kind == opAbandon {
				done <- op
				continue
			}
			commits <- op
		}
	}
}

// process reads one row and works out what to commit for it. It writes nothing itself except
// the integration's health, which is not the row's business.
func (w *Worker) process(ctx context.Context, j job) *commitOp {
	op := &commitOp{id: j.id, key: j.key}
	row, err := w.loadRow(ctx, j.id)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && row.state != "pending"):
		// Finished elsewhere (or deleted): nothing to do, and nothing to mark.
		op.kind, op.noWrite = opDone, true
		return op
	case err != nil:
		if ctx.Err() != nil {
			op.kind = opAbandon
			return op
		}
		// The row's attempts are unknown: back off in memory only, writing nothing.
		op.kind, op.noWrite, op.nextAt, op.note = opRetry, true, w.cfg.Now().Add(w.cfg.RetryBase), err.Error()
		return op
	}
	op.attempts = row.attempts
	in, err := w.integ.get(ctx, row.integrationID)
	if err != nil {
		if errs.Code(err) == errs.NotFound {
			err = provider.Shapef("integration %s no longer exists", row.integrationID)
		}
		return w.failed(ctx, op, row, nil, err)
	}
	body, err := OpenPayload(w.cfg.Sealer, row.integrationID, row.deliveryKey, row.payload, row.encrypted)
	if err != nil {
		return w.failed(ctx, op, row, in, provider.Shapef("payload does not open with this server's key"))
	}

	var r cases.Result
	var note string
	switch in.Provider {
	case integration.Generic:
		r, err = w.genericResult(ctx, body, row)
	case integration.FPTAI:
		r, err = w.fptaiResult(ctx, body, in, row)
	case integration.FrankieOne:
		r, note, err = w.frankieResult(ctx, body, in, row)
	default:
		err = provider.Shapef("provider %q is not supported", in.Provider)
	}
	if err != nil {
		return w.failed(ctx, op, row, in, err)
	}
	if note != "" {
		op.kind, op.note = opDone, note
		w.cfg.Log.Info("inbox row needs no case change", "inbox_id", row.id, "integration", in.Name, "note", note)
		return op
	}
	if r.OccurredAt.IsZero() {
		r.OccurredAt = row.receivedAt // arrival order is the best order left
	}
	src := cases.Source{IntegrationID: in.ID, IntegrationName: in.Name, Provider: in.Provider, Queue: in.Queue,
		AutoApprove: in.AutoApprove}
	p, err := w.cfg.Cases.Prepare(cases.Input{Source: src, InboxID: row.id, Result: r})
	if err != nil {
		return w.failed(ctx, op, row, in, err)
	}
	op.kind, op.prepared, op.integration = opApply, p, in.Name
	return op
}

func (w *Worker) loadRow(ctx context.Context, rowID int64) (*inboxRow, error) {
	var row inboxRow
	var received int64
	err := w.cfg.Inbox.Read.QueryRowContext(ctx, `SELECT id, integration_id, delivery_key, received_at, payload, encrypted,
		attempts, state FROM inbox WHERE id = ?`, rowID).Scan(&row.id, &row.integrationID, &row.deliveryKey, &received,
		&row.payload, &row.encrypted, &row.attempts, &row.state)
	if err != nil {
		return nil, err
	}
	row.receivedAt = db.Time(received)
	return &row, nil
}

func (w *Worker) genericResult(ctx context.Context, body []byte, row *inboxRow) (cases.Result, error) {
	ev, err := generic.Parse(body)
	if err != nil {
		return cases.Result{}, err
	}
	r := ev.Result()
	r.Documents, err = w.fetchURLs(ctx, r.Documents, &r.Flags, w.lastTry(row))
	return r, err
}

// lastTry reports whether this is the row's last attempt before the dead-letter queue.
// The delivery itself is the record (generic events, FPT.AI callbacks): on the last try an
// image host that is still down costs the image, flagged, never the whole case.
func (w *Worker) lastTry(row *inboxRow) bool { return row.attempts+1 >= w.cfg.MaxAttempts }

func (w *Worker) fptaiResult(ctx context.Context, body []byte, in *integration.Integration, row *inboxRow) (cases.Result, error) {
	cb, err := fptai.Parse(body, in.DataKey)
	if err != nil {
		return cases.Result{}, err
	}
	r := cb.Result(fptai.Options{LowConfidence: w.cfg.LowConfidence, ReceivedAt: row.receivedAt})
	r.Documents, err = w.fetchURLs(ctx, r.Documents, &r.Flags, w.lastTry(row))
	return r, err
}

// frankieResult turns a notification into the execution's result, fetched from the API. A
// notification that needs no fetch returns a note instead. Our own status override's echo
// is recognised before the documents are fetched: the case store will only note it.
func (w *Worker) frankieResult(ctx context.Context, body []byte, in *integration.Integration, row *inboxRow) (cases.Result, string, error) {
	n, err := frankieone.ParseNotification(body)
	if err != nil {
		return cases.Result{}, "", err
	}
	if !n.NeedsFetch() {
		return cases.Result{}, "no fetch needed for " + n.Function + ": no case change", nil
	}
	if in.APIURL == "" {
		return cases.Result{}, "", &provider.APIError{Auth: true, Msg: "no FrankieOne API URL configured for this integration"}
	}
	client := &frankieone.Client{BaseURL: in.APIURL, APIKey: in.APIKey, CustomerID: in.CustomerID, HTTP: w.cfg.HTTP}
	ref, ok := n.Execution()
	var profile *frankieone.Profile
	if !ok {
		if profile, err = client.GetIndividual(ctx, n.EntityID); err != nil {
			return cases.Result{}, "", err
		}
		if ref, ok = profile.LatestExecution(); !ok {
			return cases.Result{}, n.Function + ": the entity has no workflow execution yet: no case change", nil
		}
	}
	x, err := client.GetExecution(ctx, n.EntityID, ref.ServiceName, ref.WorkflowName, ref.ExecutionID)
	if err != nil {
		return cases.Result{}, "", err
	}
	if x.Individual == nil {
		if profile == nil {
			if profile, err = client.GetIndividual(ctx, n.EntityID); err != nil {
				return cases.Result{}, "", err
			}
		}
		x.Individual = &profile.Individual
	}
	r := x.Result()
	if r.Reference == "" {
		r.Reference = n.EntityID
	}
	if r.Round == "" {
		r.Round = ref.ExecutionID
	}
	w.healthy(ctx, in)
	if r.OverrideRequestID != "" {
		ours, err := w.cfg.Cases.OurOverride(ctx, r.OverrideRequestID)
		if err != nil {
			return cases.Result{}, "", err
		}
		if ours {
			r.Documents = nil
			return r, "", nil
		}
	}
	if r.Documents, err = client.FetchDocuments(ctx, r.Reference, r.Documents); err != nil {
		return cases.Result{}, "", err
	}
	r.Documents, err = w.fetchURLs(ctx, r.Documents, &r.Flags, w.lastTry(row))
	return r, "", err
}

// healthy clears the integration's unhealthy mark after a successful API call.
func (w *Worker) healthy(ctx context.Context, in *integration.Integration) {
	if in.UnhealthyReason == "" {
		return
	}
	if err := w.cfg.Integrations.MarkHealthy(ctx, in.ID); err != nil {
		w.cfg.Log.Warn("mark integration healthy failed", "integration", in.Name, "err", err)
		return
	}
	w.integ.forget(in.ID)
	w.cfg.Log.Info("integration healthy again", "integration", in.Name)
}

// fetchURLs downloads the documents handed over as URLs. A document that cannot be had
// (404, too large, refused) is flagged and left out: one lost image must not lose the case.
// A transient failure (5xx, 429, network) fails the row, to be retried, unless this is the
// row's last try: then the document is flagged and left out too.
func (w *Worker) fetchURLs(ctx context.Context, refs []cases.DocumentRef, flags *[]string, lastTry bool) ([]cases.DocumentRef, error) {
	out := refs[:0:0]
	for _, ref := range refs {
		if ref.Data != nil || ref.URL == "" {
			out = append(out, ref)
			continue
		}
		data, _, err := provider.FetchURL(ctx, w.cfg.HTTP, ref.URL, cases.MaxDocumentBytes)
		var apiErr *provider.APIError
		switch {
		case err == nil:
			ref.Data = data
			out = append(out, ref)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case lastTry:
			*flags = append(*flags, fmt.Sprintf("document %s not retrieved after repeated tries: %v", ref.ProviderID, err))
		case errors.As(err, &apiErr) && apiErr.Retryable:
			return nil, err
		case errors.As(err, &apiErr):
			*flags = append(*flags, fmt.Sprintf("document %s not retrieved: %s", ref.ProviderID, apiErr.Msg))
		default:
			return nil, err
		}
	}
	return out, nil
}

// failed classifies an error the way the design asks: a payload or an answer that can never
// be processed (shape errors, 400/404 from the provider) is dead at once; refused credentials
// rest the integration without spending the row's attempts; anything else is retried with
// exponential backoff and jitter until MaxAttempts, then dead.
func (w *Worker) failed(ctx context.Context, op *commitOp, row *inboxRow, in *integration.Integration, err error) *commitOp {
	if ctx.Err() != nil {
		op.kind = opAbandon
		return op
	}
	now := w.cfg.Now()
	var shape *provider.ShapeError
	var apiErr *provider.APIError
	op.note = err.Error()
	switch {
	case errors.As(err, &shape), errs.Code(err) == errs.Invalid:
		op.kind = opDead
	case errors.As(err, &apiErr) && apiErr.Auth && in != nil:
		until := now.Add(w.cfg.AuthBackoff)
		if merr := w.cfg.Integrations.MarkUnhealthy(ctx, in.ID, apiErr.Error(), until); merr != nil {
			// Without the mark nothing would hold the integration back: back off the row instead.
			w.cfg.Log.Warn("mark integration unhealthy failed", "integration", in.Name, "err", merr)
			return w.retry(op, now, 0)
		}
		w.integ.forget(in.ID)
		op.kind = opDefer
		w.cfg.Log.Warn("provider refused the integration's credentials: resting it", "integration", in.Name,
			"inbox_id", op.id, "until", until.UTC().Format(time.RFC3339), "status", apiErr.Status)
		return op
	case errors.As(err, &apiErr) && !apiErr.Retryable:
		op.kind = opDead
	default:
		var after time.Duration
		if apiErr != nil {
			after = apiErr.RetryAfter
		}
		return w.retry(op, now, after)
	}
	op.attempts++
	return op
}

// retry schedules the row's next try, or dead-letters it when its tries are spent.
func (w *Worker) retry(op *commitOp, now time.Time, retryAfter time.Duration) *commitOp {
	op.attempts++
	if op.attempts >= w.cfg.MaxAttempts {
		op.kind = opDead
		op.note = fmt.Sprintf("gave up after %d attempts: %s", op.attempts, op.note)
		return op
	}
	op.kind, op.nextAt = opRetry, now.Add(max(w.backoff(op.attempts), min(retryAfter, w.cfg.RetryMax)))
	return op
}

// backoff is RetryBase·2^(attempt−1), capped at RetryMax, with "equal jitter" (half fixed,
// half random) so rows that failed together do not come back together.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.cfg.RetryBase
	for i := 1; i < attempt && d < w.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.cfg.RetryMax)
	return d/2 + rand.N(d/2+1)
}

func (w *Worker) logOutcome(op *commitOp) {
	log := w.cfg.Log
	switch op.kind {
	case opApply:
		if op.outcome.Created || op.outcome.Reopened || op.outcome.Stale || op.outcome.Echo {
			log.Debug("inbox row applied", "inbox_id", op.id, "case_id", op.outcome.CaseID, "integration", op.integration,
				"created", op.outcome.Created, "reopened", op.outcome.Reopened, "stale", op.outcome.Stale, "echo", op.outcome.Echo)
		}
	case opRetry:
		log.Info("inbox row will be retried", "inbox_id", op.id, "attempts", op.attempts,
			"next_attempt_at", op.nextAt.UTC().Format(time.RFC3339), "err", op.note)
	case opDead:
		log.Warn("inbox row dead-lettered", "inbox_id", op.id, "attempts", op.attempts, "reason", op.note)
	}
}
