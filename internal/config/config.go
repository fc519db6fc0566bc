// Package config is the one configuration struct, built once in main from flags and
// environment and passed down; nothing reads the environment after start.
package config

import (
	"net/netip"
	"time"
)

// Config holds every setting of a running kycdesk.
type Config struct {
	Addr            string // listen address, e.g. 127.0.0.1:8080
	DataDir         string // the SQLite file and the key file
	PublicURL       string // base of the webhook URLs shown to admins
	InsecureCookies bool   // plain-HTTP demo: cookies without Secure
	MetricsAddr     string // separate listener for /metrics; "" serves it on Addr
	TrustedProxies  []netip.Prefix

	BodyLimit        int           // bytes, for every request; webhooks answer 413 above it
	SessionIdle      time.Duration // idle timeout
	SessionLifetime  time.Duration // absolute lifetime
	ShutdownTimeout  time.Duration
	LowConfidence    float64 // OCR confidence (percent) under which an FPT.AI case needs review
	SLA              map[string]time.Duration
	InboxMaxAttempts int
	InboxBatchMax    int  // deliveries per inbox commit; 0 means the default, 1 turns group commit off (bench baseline)
	NoWorker         bool // serve without the inbox worker: `kycdesk bench ingest` measures ingestion alone
	Demo             bool
	// AutoAssign gives each new case round-robin to an available analyst or lead (leads
	// only for high-risk and four-eyes cases). Off by default: people claim or press Next.
	AutoAssign bool

	// The inbox worker's rows/s while deliveries arrive fast (internal/ingest/pace.go):
	// 0 the default, negative no pacing. Not a serve flag: `kycdesk bench ingest --pace` tunes it.
	WorkerPaceRows float64
}

// Default returns the settings a plain `kycdesk serve` starts with.
func Default() Config {
	return Config{
		Addr:             "127.0.0.1:8080",
		DataDir:          "./kycdesk-data",
		PublicURL:        "http://127.0.0.1:8080",
		BodyLimit:        10 << 20,
		SessionIdle:      30 * time.Minute,
		SessionLifetime:  12 * time.Hour,
		ShutdownTimeout:  7 * time.Second, // + 2 s for background work (cmd/kycdesk): exit within the 10 s of DESIGN.md
		LowConfidence:    80,
		SLA:              map[string]time.Duration{"high": 4 * time.Hour, "medium": 24 * time.Hour, "low": 72 * time.Hour},
		InboxMaxAttempts: 8,
	}
}
