// Package safehttp is the HTTP client for URLs that come from outside
// input: the status list URL a credential names, the host of a did:web
// DID. Whoever writes such a URL must not be able to make Sanad reach its
// own network (server-side request forgery), so the client connects only
// to public unicast addresses. The address is checked when the connection
// is dialed, after name resolution, so a name that resolves (or rebinds)
// to an internal address is refused too. The client uses no proxy.
//
// The status list fetcher (credential/verify) and did:web resolution
// (credential/did) share it, so that they refuse the same addresses.
package safehttp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrNotPublic is matched by the dial error for an address the client
// may not connect to.
var ErrNotPublic = errors.New("not a public address")

// Options change what NewClient's client may connect to.
type Options struct {
	// AllowLoopback lets the client connect to loopback addresses
	// (127.0.0.0/8, ::1): for tests and demos only.
	AllowLoopback bool
}

// NewClient returns a client whose connections go to public addresses
// only (Public), and to loopback ones if o allows. It uses no proxy (a
// proxy would dial on the client's behalf, unchecked), follows the
// default redirect policy (callers set their own), and bounds dialing,
// the TLS handshake and the wait for response headers to 5 seconds each.
func NewClient(o Options) *http.Client {
	d := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("safehttp: dialing %q: %w", address, err)
			}
			ip := ap.Addr().Unmap()
			if o.AllowLoopback && ip.IsLoopback() {
				return nil
			}
			if !Public(ip) {
				return &notPublicError{ip: ip}
			}
			return nil
		},
	}
	return &http.Client{Transport: &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 5 * time.Second,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
	}}
}

// notPublicError names the refused address; it matches ErrNotPublic.
type notPublicError struct{ ip netip.Addr }

func (e *notPublicError) Error() string {
	return fmt.Sprintf("safehttp: %s is %s", e.ip, ErrNotPublic)
}

func (e *notPublicError) Is(target error) bool { return target == ErrNotPublic }

// nonPublic are the unicast ranges that Go's IsGlobalUnicast and
// IsPrivate leave open but that are not the public Internet: "this
// network" (0.0.0.0/8), shared address space of carrier-grade NAT
// (100.64.0.0/10, RFC 6598), IETF protocol assignments (192.0.0.0/24),
// network benchmarking (198.18.0.0/15, RFC 2544), the reserved 240.0.0.0/4,
// and the deprecated IPv6 site-local fec0::/10.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("fec0::/10"),
}

// nat64 is the NAT64 well-known prefix (RFC 6052): its addresses reach the
// IPv4 address in their last 32 bits through the local NAT64 gateway, so
// they are as public as that address.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Public reports whether ip is a public unicast address: not unspecified,
// loopback, link-local, multicast or broadcast; not private (10.0.0.0/8,
// 172.16.0.0/12, 192.168.0.0/16, fc00::/7); not in carrier-grade NAT,
// benchmarking, "this network" or reserved ranges. An IPv4-mapped IPv6
// address and a NAT64 address are judged by the IPv4 address they carry.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}
