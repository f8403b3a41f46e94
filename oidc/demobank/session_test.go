package demobank

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSessionExpiry(t *testing.T) {
	clk := &clock{t: time.Unix(1_750_000_000, 0)}
	s := newSessionStore(clk.Now, 10)
	login := &pendingLogin{State: "st"}

	if !s.put("a", session{login: login}, loginTTL) {
		t.Fatal("put refused")
	}
	if !s.put("b", session{account: &Account{Subject: "x"}}, sessionTTL) {
		t.Fatal("put refused")
	}
	if _, ok := s.get("a"); !ok {
		t.Fatal("fresh login session not found")
	}

	clk.Add(loginTTL)
	if _, ok := s.get("a"); ok {
		t.Error("login session found at its expiry")
	}
	if _, ok := s.takeLogin("a", "st"); ok {
		t.Error("expired login taken")
	}
	if _, ok := s.get("b"); !ok {
		t.Error("signed-in session gone before its TTL")
	}

	clk.Add(sessionTTL - loginTTL)
	if _, ok := s.get("b"); ok {
		t.Error("signed-in session found at its expiry")
	}
	clk.Add(sweepEvery)
	s.get("") // any call sweeps
	if n := s.len(); n != 0 {
		t.Errorf("%d sessions left after the sweep, want 0", n)
	}
}

func TestSessionTakeLogin(t *testing.T) {
	clk := &clock{t: time.Unix(1_750_000_000, 0)}
	s := newSessionStore(clk.Now, 10)
	s.put("a", session{login: &pendingLogin{State: "right"}}, loginTTL)

	if _, ok := s.takeLogin("a", "wrong"); ok {
		t.Fatal("login taken with the wrong state")
	}
	if _, ok := s.takeLogin("a", ""); ok {
		t.Fatal("login taken with no state")
	}
	if _, ok := s.takeLogin("other", "right"); ok {
		t.Fatal("login taken from another session")
	}
	l, ok := s.takeLogin("a", "right")
	if !ok || l.State != "right" {
		t.Fatal("login not taken with the right state after wrong tries")
	}
	if _, ok := s.takeLogin("a", "right"); ok {
		t.Error("login taken twice")
	}
}

func TestSessionCapacity(t *testing.T) {
	clk := &clock{t: time.Unix(1_750_000_000, 0)}
	s := newSessionStore(clk.Now, 3)
	for i := range 3 {
		if !s.put(fmt.Sprint(i), session{}, time.Minute) {
			t.Fatalf("put %d refused", i)
		}
	}
	if s.put("x", session{}, time.Minute) {
		t.Error("put beyond capacity accepted")
	}
	if !s.put("1", session{}, time.Minute) {
		t.Error("replacing an existing session refused when full")
	}
	clk.Add(time.Minute)
	if !s.put("x", session{}, time.Minute) {
		t.Error("put refused although every other session has expired")
	}
}

// TestLoginExpires: a callback after loginTTL finds no login.
func TestLoginExpires(t *testing.T) {
	tb := newTestBank(t)
	cb := tb.authorize(t, tb.startLogin(t, "pin", "eng"))
	tb.clock.Add(loginTTL + time.Second)
	p := tb.get(t, cb)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "not valid, or has expired") {
		t.Errorf("late callback = %d, want 400 and the expired message", p.status)
	}
	if tb.op.tokenCalls != 0 {
		t.Error("the code of an expired login was exchanged")
	}
}

func TestSessionCookie(t *testing.T) {
	tb := newTestBank(t)
	p := tb.get(t, tb.base+"/")
	resp := &http.Response{Header: p.header}
	var c *http.Cookie
	for _, x := range resp.Cookies() {
		if x.Name == sessionCookie {
			c = x
		}
	}
	if c == nil {
		t.Fatal("home set no session cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/demo/bank/" || c.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/demo/bank/, not Secure on http", c)
	}
	if tb.sessions.len() != 0 {
		t.Error("showing the home page created a server-side session")
	}
}
