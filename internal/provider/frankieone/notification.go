// Package frankieone talks to FrankieOne v2: it reads webhook notifications (signals, not results),
// fetches executions, individuals and documents from its API, and maps an execution to a cases.Result.
package frankieone

import (
	"encoding/json"
	"strings"

	"github.com/kycdesk/kycdesk/internal/provider"
)

// Notification is one FrankieOne webhook body. It only says that something changed; the
// worker fetches the truth from the API (NeedsFetch).
type Notification struct {
	EntityID         string
	EntityType       string
	Function         string // WorkflowComplete, EntityStatusChanged, ... (older names such as WORKFLOW_COMPLETE too)
	FunctionResult   string // SUCCESS or an error value
	NotificationType string // EVENT
	Message          string
	RequestID        string // FrankieOne's id for this notification: the delivery's identity
	Version          string

	// Set on workflow events only.
	WorkflowExecutionID string
	ServiceName         string
	WorkflowName        string

	// Extra keeps every other top-level field as sent, for display and future use.
	Extra map[string]json.RawMessage
}

// ParseNotification reads a notification. entityId, function and requestId must be
// non-empty strings (a *provider.ShapeError otherwise: FrankieOne is told 400 and never
// retries it); unknown functions and fields are accepted.
func ParseNotification(body []byte) (*Notification, error) {
	if !provider.IsObject(body) {
		return nil, provider.Shapef("body must be a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, provider.JSONShapeError(err)
	}
	n := &Notification{}
	fields := []struct {
		key      string
		into     *string
		required bool
	}{
		{"entityId", &n.EntityID, true},
		{"function", &n.Function, true},
		{"requestId", &n.RequestID, true},
		{"entityType", &n.EntityType, false},
		{"functionResult", &n.FunctionResult, false},
		{"notificationType", &n.NotificationType, false},
		{"message", &n.Message, false},
		{"version", &n.Version, false},
		{"workflowExecutionId", &n.WorkflowExecutionID, false},
		{"serviceName", &n.ServiceName, false},
		{"workflowName", &n.WorkflowName, false},
	}
	for _, f := range fields {
		raw, ok := m[f.key]
		if !ok || provider.IsNull(raw) {
			if f.required {
				return nil, provider.Shapef("%s is missing", f.key)
			}
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			if f.required {
				return nil, provider.Shapef("%s must be a string", f.key)
			}
			continue // an odd optional field stays in Extra
		}
		s = strings.TrimSpace(s)
		if f.required && s == "" {
			return nil, provider.Shapef("%s is missing", f.key)
		}
		*f.into = s
		delete(m, f.key)
	}
	if len(m) > 0 {
		n.Extra = m
	}
	return n, nil
}

// DeliveryID is the notification's requestId, the key for deduplicating redeliveries.
func (n *Notification) DeliveryID() string { return n.RequestID }

// fetchFunctions are the functions after which the case may have changed. Keys are folded
// (lower case, no underscores) so that WorkflowComplete and WORKFLOW_COMPLETE are one.
var fetchFunctions = map[string]bool{
	"workflowcomplete":     true,
	"workflowcompleted":    true,
	"entitystatuschanged":  true,
	"entityriskchanged":    true,
	"entityprofileupdated": true,
	"resultsretrieved":     true,
}

// quietFunctions change nothing a case shows. OCR_PROCESSED comes before the workflow that
// uses it, whose WorkflowComplete brings the result.
var quietFunctions = map[string]bool{
	"entityassigneechanged": true,
	"ocrprocessed":          true,
}

func fold(function string) string {
	return strings.ToLower(strings.ReplaceAll(function, "_", ""))
}

// NeedsFetch reports whether the worker should fetch the result from the API. A function
// kycdesk does not know is fetched when it names an execution (fetching is idempotent and a
// missed result is worse than a spare call) and ignored otherwise.
func (n *Notification) NeedsFetch() bool {
	f := fold(n.Function)
	switch {
	case fetchFunctions[f]:
		return true
	case quietFunctions[f]:
		return false
	}
	_, ok := n.Execution()
	return ok
}

// Succeeded reports whether FrankieOne says the function itself ran (functionResult SUCCESS,
// or none given). A failed workflow is still fetched: its execution shows the errors.
func (n *Notification) Succeeded() bool {
	return n.FunctionResult == "" || strings.EqualFold(n.FunctionResult, "SUCCESS")
}

// ExecutionRef names one workflow execution of an entity: what GetExecution needs.
type ExecutionRef struct {
	ServiceName  string
	WorkflowName string
	ExecutionID  string
}

// Execution returns the execution a workflow notification names. Entity notifications
// (EntityStatusChanged, ...) carry none: then ok is false and the worker asks GetIndividual
// which execution to re-fetch.
func (n *Notification) Execution() (ref ExecutionRef, ok bool) {
	ref = ExecutionRef{ServiceName: n.ServiceName, WorkflowName: n.WorkflowName, ExecutionID: n.WorkflowExecutionID}
	return ref, ref.ServiceName != "" && ref.WorkflowName != "" && ref.ExecutionID != ""
}
