package webhookauth

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestTokenVerify(t *testing.T) {
	tests := []struct {
		name   string
		header string // empty: DefaultTokenHeader
		tokens []string
		sent   map[string]string
		want   string
	}{
		{"right token", "", []string{"s3cr3t-token"}, map[string]string{"X-Webhook-Token": "s3cr3t-token"}, ""},
		{"wrong token", "", []string{"s3cr3t-token"}, map[string]string{"X-Webhook-Token": "s3cr3t-tokem"}, ReasonWrongToken},
		{"prefix of the token", "", []string{"s3cr3t-token"}, map[string]string{"X-Webhook-Token": "s3cr3t"}, ReasonWrongToken},
		{"token with a suffix", "", []string{"s3cr3t-token"}, map[string]string{"X-Webhook-Token": "s3cr3t-token2"}, ReasonWrongToken},
		{"missing", "", []string{"s3cr3t-token"}, map[string]string{}, ReasonMissingToken},
		{"in another header", "", []string{"s3cr3t-token"}, map[string]string{"Authorization": "s3cr3t-token"}, ReasonMissingToken},
		{"custom header", "X-FPT-Callback-Token", []string{"abc123abc123"}, map[string]string{"X-Fpt-Callback-Token": "abc123abc123"}, ""},
		{"rotation: old token", "", []string{"old-token-1", "new-token-2"}, map[string]string{"X-Webhook-Token": "old-token-1"}, ""},
		{"rotation: new token", "", []string{"old-token-1", "new-token-2"}, map[string]string{"X-Webhook-Token": "new-token-2"}, ""},
		{"rotation over", "", []string{"new-token-2"}, map[string]string{"X-Webhook-Token": "old-token-1"}, ReasonWrongToken},
		{"no tokens configured", "", nil, map[string]string{"X-Webhook-Token": "anything"}, ReasonNotConfigured},
		{"only an empty token configured", "", []string{""}, map[string]string{"X-Webhook-Token": "anything"}, ReasonWrongToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.sent {
				h.Set(k, v)
			}
			v := &TokenVerifier{Header: tt.header, Tokens: tt.tokens}
			wantReason(t, v.Verify(h.Get), tt.want)
		})
	}
}

func TestAllowlist(t *testing.T) {
	a, err := ParseAllowlist([]string{"203.0.113.0/24", " 198.51.100.7 ", "2001:db8::/32", "2001:db8:ffff::1", "::ffff:192.0.2.0/120", "10.1.2.3/8", ""})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip   string
		want bool
	}{
		{"203.0.113.1", true},
		{"203.0.113.255", true},
		{"203.0.114.1", false},
		{"198.51.100.7", true},
		{"198.51.100.8", false},
		{"::ffff:203.0.113.9", true}, // IPv4 peer seen through a dual-stack listener
		{"2001:db8:1::5", true},
		{"2001:db9::1", false},
		{"192.0.2.77", true}, // from the 4-in-6 prefix
		{"10.200.0.1", true}, // the /8 is masked, not refused
		{"fe80::1%eth0", false},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.ip)
			if got := a.Allows(ip); got != tt.want {
				t.Fatalf("Allows(%s) = %v, want %v", tt.ip, got, tt.want)
			}
			want := ""
			if !tt.want {
				want = ReasonAddressNotAllowed
			}
			wantReason(t, a.Verify(ip), want)
		})
	}

	if a.Allows(netip.Addr{}) {
		t.Error("the zero Addr is allowed")
	}
	var none *Allowlist
	if none.Allows(netip.MustParseAddr("203.0.113.1")) {
		t.Error("a nil allowlist allows")
	}
	empty, _ := ParseAllowlist(nil)
	wantReason(t, empty.Verify(netip.MustParseAddr("203.0.113.1")), ReasonNotConfigured)

	for _, bad := range []string{"203.0.113.0/33", "example.com", "1.2.3", "10.0.0.0/8/8"} {
		if _, err := ParseAllowlist([]string{bad}); err == nil {
			t.Errorf("ParseAllowlist accepted %q", bad)
		}
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name, peer, xff, want string
	}{
		{"direct, no header", "203.0.113.5", "", "203.0.113.5"},
		{"spoofed XFF from an untrusted peer", "203.0.113.5", "198.51.100.7", "203.0.113.5"},
		{"spoofed XFF naming a trusted proxy", "203.0.113.5", "10.0.0.1", "203.0.113.5"},
		{"one trusted proxy", "10.0.0.2", "198.51.100.7", "198.51.100.7"},
		{"trusted proxy, client forged a leftmost entry", "10.0.0.2", "1.2.3.4, 198.51.100.7", "198.51.100.7"},
		{"two trusted proxies", "10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.9", "198.51.100.7"},
		{"untrusted proxy in the chain stops the walk", "10.0.0.2", "198.51.100.7, 203.0.113.99", "203.0.113.99"},
		{"trusted proxy without a header", "10.0.0.2", "", "10.0.0.2"},
		{"every hop trusted", "10.0.0.2", "10.0.0.3, 10.0.0.4", "10.0.0.3"},
		{"IPv6 proxy and client", "fd00::1", "2001:db8::7", "2001:db8::7"},
		{"mapped peer", "::ffff:10.0.0.2", "::ffff:198.51.100.7", "198.51.100.7"},
		{"hop with a port", "10.0.0.2", "198.51.100.7:4711", "198.51.100.7"},
		{"IPv6 hop in brackets", "10.0.0.2", "[2001:db8::7]", "2001:db8::7"},
		{"IPv6 hop in brackets with a port", "10.0.0.2", "[2001:db8::7]:443", "2001:db8::7"},
		{"empty entries skipped", "10.0.0.2", "198.51.100.7,, ", "198.51.100.7"},
		{"garbage where the client is due", "10.0.0.2", "198.51.100.7, unknown", "invalid IP"},
		{"garbage left of the client is ignored", "10.0.0.2", "garbage, 198.51.100.7", "198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClientIP(netip.MustParseAddr(tt.peer), tt.xff, trusted)
			if got.String() != tt.want {
				t.Fatalf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
	if got := ClientIP(netip.MustParseAddr("10.0.0.2"), "198.51.100.7", nil); got.String() != "10.0.0.2" {
		t.Errorf("with no trusted proxies ClientIP = %s, want the peer", got)
	}
}
