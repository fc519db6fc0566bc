package webhookauth

import (
	"fmt"
	"net/netip"
	"strings"
)

// Allowlist is a set of networks a provider sends from. The zero value and nil allow nothing.
type Allowlist struct {
	prefixes []netip.Prefix
}

// ParseAllowlist reads CIDRs ("203.0.113.0/24", "2001:db8::/32") and bare addresses,
// which mean that one host (/32 or /128).
func ParseAllowlist(cidrs []string) (*Allowlist, error) {
	a := &Allowlist{}
	for _, s := range cidrs {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		var p netip.Prefix
		if strings.Contains(s, "/") {
			var err error
			if p, err = netip.ParsePrefix(s); err != nil {
				return nil, fmt.Errorf("allowlist entry %q is not a CIDR", s)
			}
		} else {
			ip, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("allowlist entry %q is not an IP address", s)
			}
			p = netip.PrefixFrom(ip.WithZone(""), ip.BitLen())
		}
		a.prefixes = append(a.prefixes, normalizePrefix(p))
	}
	return a, nil
}

// normalizePrefix turns "::ffff:192.0.2.0/120" into "192.0.2.0/24" so that it matches the
// IPv4 addresses that normalizeAddr produces.
func normalizePrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// normalizeAddr unmaps IPv4-mapped IPv6 addresses, which a dual-stack listener reports for
// IPv4 peers, and drops zones, so "::ffff:192.0.2.1" matches "192.0.2.0/24".
func normalizeAddr(ip netip.Addr) netip.Addr {
	return ip.Unmap().WithZone("")
}

// Allows reports whether ip is inside one of the networks.
func (a *Allowlist) Allows(ip netip.Addr) bool {
	if a == nil || !ip.IsValid() {
		return false
	}
	ip = normalizeAddr(ip)
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Verify is Allows as an error, for handlers that count refusals by AuthError reason.
func (a *Allowlist) Verify(ip netip.Addr) error {
	if a == nil || len(a.prefixes) == 0 {
		return refuse(ReasonNotConfigured)
	}
	if !a.Allows(ip) {
		return refuse(ReasonAddressNotAllowed)
	}
	return nil
}

// ClientIP returns the address a request came from. That is the TCP peer, unless the peer
// is one of our trusted proxies: then X-Forwarded-For (all its values, joined with commas)
// is read from the right, since each proxy appends the address it saw, and the first
// address that is not a trusted proxy is the client. Entries further left were written by
// the client itself and prove nothing, which is why a forged header from an untrusted
// peer changes nothing. A malformed entry where an address is due gives the zero Addr,
// which no allowlist allows.
func ClientIP(peer netip.Addr, xForwardedFor string, trusted []netip.Prefix) netip.Addr {
	peer = normalizeAddr(peer)
	if !isTrusted(peer, trusted) {
		return peer
	}
	client := peer
	hops := strings.Split(xForwardedFor, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		ip, ok := parseHop(hop)
		if !ok {
			return netip.Addr{}
		}
		client = ip
		if !isTrusted(ip, trusted) {
			return ip
		}
	}
	// Every hop is a trusted proxy (a health check from the proxy itself, say): the
	// furthest one is the best answer there is.
	return client
}

// parseHop accepts an address, with a port or IPv6 brackets as some proxies write it.
func parseHop(s string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return normalizeAddr(ip), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalizeAddr(ap.Addr()), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if ip, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return normalizeAddr(ip), true
		}
	}
	return netip.Addr{}, false
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	if !ip.IsValid() {
		return false
	}
	for _, p := range trusted {
		if normalizePrefix(p).Contains(ip) {
			return true
		}
	}
	return false
}
