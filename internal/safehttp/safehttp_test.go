package safehttp

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestPublic(t *testing.T) {
	for _, tt := range []struct {
		name string
		ip   string
		want bool
	}{
		{name: "public IPv4", ip: "93.184.215.14", want: true},
		{name: "public IPv6", ip: "2606:4700::1111", want: true},
		{name: "IPv4-mapped public", ip: "::ffff:93.184.215.14", want: true},
		{name: "NAT64 of a public IPv4", ip: "64:ff9b::5db8:d70e", want: true},
		{name: "just below CGNAT", ip: "100.63.255.255", want: true},
		{name: "just above CGNAT", ip: "100.128.0.0", want: true},
		{name: "just below benchmarking", ip: "198.17.255.255", want: true},
		{name: "just above benchmarking", ip: "198.20.0.0", want: true},

		{name: "unspecified", ip: "0.0.0.0"},
		{name: "this network", ip: "0.1.2.3"},
		{name: "loopback", ip: "127.0.0.1"},
		{name: "loopback, other", ip: "127.45.0.9"},
		{name: "IPv6 loopback", ip: "::1"},
		{name: "IPv6 unspecified", ip: "::"},
		{name: "10/8", ip: "10.1.2.3"},
		{name: "172.16/12", ip: "172.31.255.254"},
		{name: "192.168/16", ip: "192.168.0.1"},
		{name: "CGNAT low", ip: "100.64.0.0"},
		{name: "CGNAT high", ip: "100.127.255.255"},
		{name: "benchmarking low", ip: "198.18.0.1"},
		{name: "benchmarking high", ip: "198.19.255.255"},
		{name: "IETF protocol assignments", ip: "192.0.0.8"},
		{name: "link-local (cloud metadata)", ip: "169.254.169.254"},
		{name: "reserved", ip: "240.0.0.1"},
		{name: "broadcast", ip: "255.255.255.255"},
		{name: "multicast", ip: "224.0.0.1"},
		{name: "IPv6 unique local", ip: "fd00::1"},
		{name: "IPv6 link-local", ip: "fe80::1"},
		{name: "IPv6 site-local", ip: "fec0::1"},
		{name: "IPv6 multicast", ip: "ff02::1"},
		{name: "IPv4-mapped private", ip: "::ffff:10.0.0.1"},
		{name: "IPv4-mapped loopback", ip: "::ffff:127.0.0.1"},
		{name: "NAT64 of a private IPv4", ip: "64:ff9b::a00:1"},
		{name: "NAT64 of loopback", ip: "64:ff9b::7f00:1"},
		{name: "NAT64 of CGNAT", ip: "64:ff9b::6440:1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Public(netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("Public(%s) = %v, want %v", tt.ip, got, tt.want)
			}
		})
	}
}

// TestNewClientRefusesLoopback: the default client never reaches a server
// on a loopback address, and says why.
func TestNewClientRefusesLoopback(t *testing.T) {
	var requests atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	t.Cleanup(s.Close)
	for _, u := range []string{s.URL, strings.Replace(s.URL, "127.0.0.1", "localhost", 1)} {
		resp, err := NewClient(Options{}).Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("NewClient(Options{}).Get(%s) = %s, want an error", u, resp.Status)
		}
		if !errors.Is(err, ErrNotPublic) || !strings.Contains(err.Error(), "not a public address") {
			t.Errorf("NewClient(Options{}).Get(%s) = %v, want %v", u, err, ErrNotPublic)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached the loopback server, want 0", n)
	}
}

func TestNewClientAllowLoopback(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.Close)
	resp, err := NewClient(Options{AllowLoopback: true}).Get(s.URL)
	if err != nil {
		t.Fatalf("NewClient(AllowLoopback).Get(%s) = %v", s.URL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("NewClient(AllowLoopback).Get(%s) = %s, want 204", s.URL, resp.Status)
	}
}

// TestNewClientNoProxy: a proxy would dial on the client's behalf, where
// the address check does not run.
func TestNewClientNoProxy(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://10.0.0.1:3128")
	t.Setenv("HTTP_PROXY", "http://10.0.0.1:3128")
	tr, ok := NewClient(Options{}).Transport.(*http.Transport)
	if !ok {
		t.Fatalf("NewClient().Transport = %T, want *http.Transport", NewClient(Options{}).Transport)
	}
	if tr.Proxy != nil {
		t.Errorf("NewClient().Transport.Proxy is set, want nil (no proxy)")
	}
}

// FuzzPublic: an IPv4 address and its IPv4-mapped IPv6 form are judged
// alike, and a NAT64 address like the IPv4 address it carries.
func FuzzPublic(f *testing.F) {
	for _, s := range [][]byte{{93, 184, 215, 14}, {10, 0, 0, 1}, {100, 64, 0, 1}, {198, 18, 0, 1}, {127, 0, 0, 1}, {0, 0, 0, 0}, {255, 255, 255, 255}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 4 {
			return
		}
		v4 := netip.AddrFrom4([4]byte(b))
		mapped := netip.AddrFrom16(v4.As16())
		var n [16]byte
		copy(n[:], []byte{0, 0x64, 0xff, 0x9b})
		copy(n[12:], b)
		nat := netip.AddrFrom16(n)
		if Public(v4) != Public(mapped) || Public(v4) != Public(nat) {
			t.Errorf("Public(%s) = %v, Public(%s) = %v, Public(%s) = %v, want all equal", v4, Public(v4), mapped, Public(mapped), nat, Public(nat))
		}
	})
}
