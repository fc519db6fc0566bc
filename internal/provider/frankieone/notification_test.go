package frankieone

import (
	"errors"
	"reflect"
	"testing"

	"github.com/kycdesk/kycdesk/internal/provider"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

func TestParseNotificationFixtures(t *testing.T) {
	t.Run("workflow complete", func(t *testing.T) {
		n, err := ParseNotification(testkit.Fixture(t, "frankieone/webhook_workflow_complete.json"))
		if err != nil {
			t.Fatal(err)
		}
		want := Notification{
			EntityID:            "3f1c2b7e-9a41-4d6b-8c55-0e2f7a9d1b34",
			EntityType:          "INDIVIDUAL",
			Function:            "WorkflowComplete",
			FunctionResult:      "SUCCESS",
			NotificationType:    "EVENT",
			Message:             "Workflow execution completed",
			RequestID:           "01HZX3KA0DQJ8W2N5P7R9T1V3X",
			Version:             "2.0.0",
			WorkflowExecutionID: "01HZX3K9V2M4Q7R8S1T5W6Y0AB",
			ServiceName:         "KYC",
			WorkflowName:        "AUS-Basic3-IDV",
		}
		if n.Extra != nil {
			t.Errorf("Extra = %v, want none", n.Extra)
		}
		n.Extra = nil
		if !reflect.DeepEqual(*n, want) {
			t.Errorf("got %+v\nwant %+v", *n, want)
		}
		if n.DeliveryID() != "01HZX3KA0DQJ8W2N5P7R9T1V3X" || !n.NeedsFetch() || !n.Succeeded() {
			t.Errorf("DeliveryID %q NeedsFetch %v Succeeded %v", n.DeliveryID(), n.NeedsFetch(), n.Succeeded())
		}
		ref, ok := n.Execution()
		if !ok || ref != (ExecutionRef{ServiceName: "KYC", WorkflowName: "AUS-Basic3-IDV", ExecutionID: "01HZX3K9V2M4Q7R8S1T5W6Y0AB"}) {
			t.Errorf("Execution = %+v %v", ref, ok)
		}
	})
	t.Run("status changed echo", func(t *testing.T) {
		n, err := ParseNotification(testkit.Fixture(t, "frankieone/webhook_status_changed_echo.json"))
		if err != nil {
			t.Fatal(err)
		}
		if n.Function != "EntityStatusChanged" || n.RequestID != "01HZX4B1C2D3E4F5G6H7J8K9LM" || n.EntityID != "3f1c2b7e-9a41-4d6b-8c55-0e2f7a9d1b34" {
			t.Errorf("got %+v", n)
		}
		if !n.NeedsFetch() {
			t.Error("EntityStatusChanged must be fetched")
		}
		if _, ok := n.Execution(); ok {
			t.Error("an entity notification names no execution")
		}
	})
}

func TestParseNotificationRejects(t *testing.T) {
	tests := []struct{ name, body, reason string }{
		{"array", `[]`, "body must be a JSON object"},
		{"broken", `{"entityId":`, "body is not valid JSON (at byte 12)"},
		{"no entityId", `{"function":"WorkflowComplete","requestId":"r"}`, "entityId is missing"},
		{"empty entityId", `{"entityId":" ","function":"WorkflowComplete","requestId":"r"}`, "entityId is missing"},
		{"no function", `{"entityId":"e","requestId":"r"}`, "function is missing"},
		{"no requestId", `{"entityId":"e","function":"WorkflowComplete"}`, "requestId is missing"},
		{"null requestId", `{"entityId":"e","function":"WorkflowComplete","requestId":null}`, "requestId is missing"},
		{"numeric entityId", `{"entityId":42,"function":"WorkflowComplete","requestId":"r"}`, "entityId must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNotification([]byte(tt.body))
			var se *provider.ShapeError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *provider.ShapeError", err)
			}
			if se.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", se.Reason, tt.reason)
			}
		})
	}
}

func TestNeedsFetch(t *testing.T) {
	withIDs := `,"workflowExecutionId":"x","serviceName":"KYC","workflowName":"w"`
	tests := []struct {
		function string
		ids      bool
		want     bool
	}{
		{"WorkflowComplete", true, true},
		{"WORKFLOW_COMPLETE", true, true},
		{"workflow_complete", false, true},
		{"EntityStatusChanged", false, true},
		{"EntityRiskChanged", false, true},
		{"EntityProfileUpdated", false, true},
		{"RESULTS_RETRIEVED", false, true},
		{"EntityAssigneeChanged", false, false},
		{"EntityAssigneeChanged", true, false},
		{"OCR_PROCESSED", false, false},
		{"SomethingNew", true, true},
		{"SomethingNew", false, false},
	}
	for _, tt := range tests {
		body := `{"entityId":"e","requestId":"r","function":"` + tt.function + `","functionResult":"ERROR","surprise":{"a":1}`
		if tt.ids {
			body += withIDs
		}
		body += "}"
		n, err := ParseNotification([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", tt.function, err)
		}
		if got := n.NeedsFetch(); got != tt.want {
			t.Errorf("%s (ids %v): NeedsFetch = %v, want %v", tt.function, tt.ids, got, tt.want)
		}
		if n.Succeeded() || string(n.Extra["surprise"]) != `{"a":1}` {
			t.Errorf("%s: Succeeded %v Extra %v", tt.function, n.Succeeded(), n.Extra)
		}
	}
}

func FuzzParseNotification(f *testing.F) {
	f.Add(testkit.Fixture(f, "frankieone/webhook_workflow_complete.json"))
	f.Add(testkit.Fixture(f, "frankieone/webhook_status_changed_echo.json"))
	f.Add([]byte(`{"entityId":"e","requestId":"r","function":"WORKFLOW_COMPLETE","workflowExecutionId":5}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := ParseNotification(body)
		if err != nil {
			var se *provider.ShapeError
			if !errors.As(err, &se) || se.Reason == "" {
				t.Fatalf("error is not a ShapeError with a reason: %v", err)
			}
			return
		}
		if n.EntityID == "" || n.Function == "" || n.DeliveryID() == "" {
			t.Fatalf("accepted notification without identity: %+v", n)
		}
		_ = n.NeedsFetch()
		if ref, ok := n.Execution(); ok && (ref.ExecutionID == "" || ref.ServiceName == "" || ref.WorkflowName == "") {
			t.Fatalf("Execution ok with an empty part: %+v", ref)
		}
	})
}
