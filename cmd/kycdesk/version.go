package main

import (
	"runtime"
	"runtime/debug"
)

// Set at build time, for builds without the VCS stamp (a Docker context without .git):
//
//	go build -ldflags "-X main.version=1.4.0 -X main.commit=$(git rev-parse HEAD)" ./cmd/kycdesk
//
// Left empty, they come from the build info Go stamps into the binary.
var (
	version string
	commit  string
)

// buildVersion is the version and the commit this binary was built from: the -ldflags
// values when set, else the module version and vcs.revision of the build info
// ("devel" and "unknown" when the build had neither). A build from a tree with
// uncommitted changes says so.
func buildVersion() (ver, rev string) {
	ver, rev = version, commit
	info, ok := debug.ReadBuildInfo()
	if ver == "" {
		ver = "devel"
		if ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
			ver = info.Main.Version
		}
	}
	if rev == "" {
		rev = "unknown"
		if ok {
			modified := false
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					modified = s.Value == "true"
				}
			}
			if modified && rev != "unknown" {
				rev += "-modified"
			}
		}
	}
	return ver, rev
}

// printVersion is `kycdesk version`: one line, "kycdesk VERSION commit COMMIT GO".
func (m *Main) printVersion(args []string) error {
	if err := newFlags("version").parse(args); err != nil {
		return err
	}
	ver, rev := buildVersion()
	m.printf("kycdesk %s commit %s %s\n", ver, rev, runtime.Version())
	return nil
}
