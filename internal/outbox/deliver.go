package outbox

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/provider"
	"github.com/kycdesk/kycdesk/internal/provider/frankieone"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// sendFrankie writes the decision as the execution's status override. The execution's
// service and workflow are looked up on the individual (one GET), as the case stores the
// entity and the execution id only.
func (w *Worker) sendFrankie(ctx context.Context, in *integration.Integration, d delivery) result {
	var fb frankieBody
	if err := json.Unmarshal([]byte(d.body), &fb); err != nil {
		return result{outcome: StateFailed, msg: "stored override is unreadable"}
	}
	if in.APIURL == "" || in.APIKey == "" {
		return result{outcome: StateFailed, msg: "the integration has no FrankieOne API URL and key any more"}
	}
	if fb.ExecutionID == "" || fb.EntityID == "" {
		return result{outcome: StateFailed, msg: "the decided workflow execution is not known (the case moved to a new round)"}
	}
	client := &frankieone.Client{BaseURL: in.APIURL, APIKey: in.APIKey, CustomerID: in.CustomerID, HTTP: w.cfg.HTTP}
	profile, err := client.GetIndividual(ctx, fb.EntityID)
	if err != nil {
		return apiResult(err)
	}
	ref, ok := findExecution(profile, fb.ExecutionID)
	if !ok {
		return result{outcome: StateFailed, msg: "FrankieOne does not list workflow execution " + fb.ExecutionID + " on the entity"}
	}
	rid, err := client.OverrideStatus(ctx, fb.EntityID, ref.ServiceName, ref.WorkflowName, ref.ExecutionID, fb.Status, fb.Comment)
	if err != nil {
		return apiResult(err)
	}
	return result{outcome: StateDelivered, status: http.StatusOK, requestID: rid}
}

// apiResult classifies a FrankieOne client error by the design's rule.
func apiResult(err error) result {
	var apiErr *provider.APIError
	if !errors.As(err, &apiErr) {
		return result{outcome: outcomeRetry, msg: err.Error()}
	}
	if apiErr.Status != 0 {
		return result{outcome: classify(apiErr.Status), status: apiErr.Status, msg: apiErr.Msg, retryAfter: apiErr.RetryAfter}
	}
	if apiErr.Retryable {
		return result{outcome: outcomeRetry, msg: apiErr.Msg}
	}
	return result{outcome: StateFailed, msg: apiErr.Msg}
}

// findExecution finds the service and workflow of an execution on the individual.
func findExecution(p *frankieone.Profile, executionID string) (frankieone.ExecutionRef, bool) {
	var found frankieone.ExecutionRef
	var visit func(service, workflow string, s frankieone.WorkflowSummary) bool
	visit = func(service, workflow string, s frankieone.WorkflowSummary) bool {
		if s.WorkflowName != "" {
			workflow = s.WorkflowName
		}
		if s.WorkflowExecutionID == executionID && service != "" && workflow != "" {
			found = frankieone.ExecutionRef{ServiceName: service, WorkflowName: workflow, ExecutionID: executionID}
			return true
		}
		for _, e := range append(s.Executions, s.WorkflowExecutions...) {
			if visit(service, workflow, e) {
				return true
			}
		}
		return false
	}
	profiles := p.ServiceProfiles
	if len(profiles) == 0 {
		profiles = p.Individual.ServiceProfiles
	}
	for _, sp := range profiles {
		for _, s := range append(sp.WorkflowSummaries, sp.Workflows...) {
			if visit(sp.ServiceName, "", s) {
				return found, true
			}
		}
	}
	return found, false
}

// maxAnswerBytes is how much of a receiver's answer is read (and thrown away).
const maxAnswerBytes = 64 << 10

// sendDecisionURL POSTs the stored case.decided event to the integration's decision URL,
// signed (Standard Webhooks) with its outgoing secret, and during a rotation with the
// previous one too. webhook-id is the outbox row's id: the same for every retry.
func (w *Worker) sendDecisionURL(ctx context.Context, in *integration.Integration, d delivery) result {
	target, err := w.cfg.Integrations.DecisionTarget(ctx, in.ID)
	if err != nil {
		return result{outcome: outcomeRetry, msg: "the decision URL cannot be read: " + err.Error()}
	}
	if target == nil {
		return result{outcome: StateFailed, msg: "the integration has no decision URL any more"}
	}
	msgID := strconv.FormatInt(d.outboxID, 10)
	body := []byte(d.body)
	ts := w.cfg.Now()
	var sig bytes.Buffer
	for i, secret := range target.Secrets {
		if i > 0 {
			sig.WriteByte(' ')
		}
		sig.WriteString(webhookauth.Sign(secret, msgID, ts, body))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.URL, bytes.NewReader(body))
	if err != nil {
		return result{outcome: StateFailed, msg: "the decision URL is not usable"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kycdesk-outbox")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig.String())
	resp, err := w.cfg.HTTP.Do(req)
	if err != nil {
		return result{outcome: outcomeRetry, msg: networkMessage(err)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
	resp.Body.Close()
	res := result{outcome: classify(resp.StatusCode), status: resp.StatusCode}
	if res.outcome != StateDelivered {
		res.msg = fmt.Sprintf("the receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		if res.outcome == outcomeRetry {
			res.retryAfter = retryAfter(resp.Header.Get("Retry-After"))
		}
	}
	return res
}

// networkMessage names a failed request without its URL (which may carry a token).
func networkMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return "network error: " + err.Error()
}

func retryAfter(v string) time.Duration {
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	return 0
}

// --- metrics ---------------------------------------------------------------------------------

// gauges computes the outbox's depth, failures and oldest pending age per integration when
// Prometheus scrapes: one range of outbox_deliveries_health per integration and state.
type gauges struct {
	db  *db.DB
	now func() time.Time
}

var (
	depthDesc = prometheus.NewDesc("kycdesk_outbox_depth",
		"Decision deliveries waiting to go out (first try or a retry), by integration.", []string{"integration"}, nil)
	oldestDesc = prometheus.NewDesc("kycdesk_outbox_oldest_pending_seconds",
		"Age of the oldest decision delivery still waiting, by integration; 0 when none.", []string{"integration"}, nil)
	failedDesc = prometheus.NewDesc("kycdesk_outbox_failed",
		"Decision deliveries that failed (refused, or dead after 24 hours of retries) and wait for a replay, by integration.",
		[]string{"integration"}, nil)
)

// Decisions not yet routed (normally for under a second) count as pending too.
const gaugesQuery = `SELECT i.name,
	(SELECT COUNT(*) FROM outbox_deliveries WHERE integration_id = i.id AND state = 'pending')
	+ (SELECT COUNT(*) FROM outbox o JOIN cases c ON c.id = o.case_id WHERE o.state = 'pending' AND c.integration_id = i.id),
	NULLIF(MIN(
		COALESCE((SELECT MIN(created_at) FROM outbox_deliveries WHERE integration_id = i.id AND state = 'pending'), ?1),
		COALESCE((SELECT MIN(o.created_at) FROM outbox o JOIN cases c ON c.id = o.case_id
			WHERE o.state = 'pending' AND c.integration_id = i.id), ?1)), ?1),
	(SELECT COUNT(*) FROM outbox_deliveries WHERE integration_id = i.id AND state = 'failed')
	+ (SELECT COUNT(*) FROM outbox_deliveries WHERE integration_id = i.id AND state = 'dead')
	FROM integrations i`

// noneYet stands for "no pending row" in gaugesQuery's MIN: later than any time.
const noneYet = int64(1<<63 - 1)

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- oldestDesc
	ch <- failedDesc
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := g.db.Read.QueryContext(ctx, gaugesQuery, noneYet)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, err)
		return
	}
	defer rows.Close()
	now := g.now()
	for rows.Next() {
		var name string
		var depth, failed int64
		var oldest sql.NullInt64
		if err := rows.Scan(&name, &depth, &oldest, &failed); err != nil {
			ch <- prometheus.NewInvalidMetric(depthDesc, err)
			return
		}
		age := 0.0
		if oldest.Valid {
			age = max(0, now.Sub(db.Time(oldest.Int64)).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(depth), name)
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age, name)
		ch <- prometheus.MustNewConstMetric(failedDesc, prometheus.GaugeValue, float64(failed), name)
	}
	if err := rows.Err(); err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, err)
	}
}
