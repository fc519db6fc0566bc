package main

import (
	"os/exec"
	"strings"
	"testing"
)

// cloudModules are module path prefixes that kycdesk never needs: a cloud SDK, gRPC or
// OpenTelemetry in the main module's graph means a dependency (or a tool directive) brought
// in code the binary never runs, and every audit of go.sum (go mod verify, licence and
// vulnerability scans) would cover it. Developer tools live in tools/go.mod.
var cloudModules = []string{
	"cloud.google.com/",
	"github.com/aws/",
	"github.com/Azure/",
	"github.com/AzureAD/",
	"github.com/GoogleCloudPlatform/",
	"github.com/googleapis/",
	"github.com/hashicorp/aws-sdk-go-base",
	"github.com/ydb-platform/",
	"github.com/yandex-cloud/",
	"google.golang.org/api",
	"google.golang.org/genproto",
	"google.golang.org/grpc",
	"go.opentelemetry.io/",
}

// TestModuleGraphHasNoCloudSDK runs `go list -m all` on the main module and fails when a
// cloud SDK reappears in it.
func TestModuleGraphHasNoCloudSDK(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command(goBin, "list", "-m", "all")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m all: %v\n%s", err, out)
	}
	modules := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(modules) < 10 || !strings.HasPrefix(modules[0], "github.com/kycdesk/kycdesk") {
		t.Fatalf("go list -m all answered %d lines, first %q", len(modules), modules[0])
	}
	for _, m := range modules {
		for _, prefix := range cloudModules {
			if strings.HasPrefix(m, prefix) {
				t.Errorf("%s is in the main module's graph (go mod graph | grep %s tells who brings it)", m, strings.Fields(m)[0])
			}
		}
	}
}
