package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sanad-id/sanad/idrepo/notify"
)

// otpGateway plays the SMS gateway of `sanad bench login`: the server's
// webhook notifier (notify.Webhook) POSTs each sign-in OTP to it, and it
// hands the code to the flow waiting for that phone number. The webhook
// carries the rendered message only, so the code is read out of the text.
type otpGateway struct {
	// secret, if set, is notify.WebhookConfig.HMACSecret: a request without
	// a matching signature is refused.
	secret []byte

	mu    sync.Mutex
	slots map[string]chan string // by phone number; capacity 1: the newest code

	received, refused atomic.Int64
}

// otpInMessage finds the code in a rendered login-otp message: the first run
// of 4 to 10 ASCII digits (idrepo.authn.otp_length's range). The default
// templates, in every language, put nothing else of that shape before it.
var otpInMessage = regexp.MustCompile(`(?:^|[^0-9])([0-9]{4,10})(?:[^0-9]|$)`)

// maxWebhookBody bounds one webhook request.
const maxWebhookBody = 64 << 10

func newOTPGateway(secret string) *otpGateway {
	return &otpGateway{secret: []byte(secret), slots: make(map[string]chan string)}
}

// webhookMessage is notify.Webhook's payload.
type webhookMessage struct {
	Channel  string `json:"channel"`
	To       string `json:"to"`
	Purpose  string `json:"purpose"`
	Language string `json:"language"`
	Message  string `json:"message"`
}

// parseWebhook checks a webhook request's signature (when secret is set) and
// returns the destination and the OTP of a login-otp message on the phone
// channel.
func parseWebhook(secret []byte, signature string, body []byte) (phone, otp string, err error) {
	if len(secret) > 0 {
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(signature), []byte(want)) {
			return "", "", errors.New("bad or missing " + notify.SignatureHeader)
		}
	}
	var m webhookMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return "", "", fmt.Errorf("not a webhook message: %w", err)
	}
	if m.Channel != string(notify.Phone) || m.Purpose != notify.PurposeLoginOTP {
		return "", "", fmt.Errorf("channel %q, purpose %q: want %s, %s", m.Channel, m.Purpose, notify.Phone, notify.PurposeLoginOTP)
	}
	sub := otpInMessage.FindStringSubmatch(m.Message)
	if m.To == "" || sub == nil {
		return "", "", errors.New("no destination or no code in the message")
	}
	return m.To, sub[1], nil
}

func (g *otpGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		g.refused.Add(1)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	phone, otp, err := parseWebhook(g.secret, r.Header.Get(notify.SignatureHeader), body)
	if err != nil {
		g.refused.Add(1)
		// 4xx: the notifier does not retry it.
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	g.received.Add(1)
	g.deliver(phone, otp)
	w.WriteHeader(http.StatusAccepted)
}

func (g *otpGateway) slot(phone string) chan string {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch, ok := g.slots[phone]
	if !ok {
		ch = make(chan string, 1)
		g.slots[phone] = ch
	}
	return ch
}

// deliver keeps otp as the newest code of phone, replacing one not yet taken.
func (g *otpGateway) deliver(phone, otp string) {
	ch := g.slot(phone)
	for {
		select {
		case ch <- otp:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// forget drops a code of phone that nobody took (left by a failed flow).
func (g *otpGateway) forget(phone string) {
	select {
	case <-g.slot(phone):
	default:
	}
}

// errNoOTP: no webhook brought a code in time.
var errNoOTP = errors.New("no OTP webhook arrived")

// wait returns the next code sent to phone.
func (g *otpGateway) wait(ctx context.Context, phone string, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case otp := <-g.slot(phone):
		return otp, nil
	case <-t.C:
		return "", fmt.Errorf("%w within %s", errNoOTP, timeout)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// listenGateway serves g on addr; the returned URL is what the server's
// notify.webhook.url must be. stop shuts the listener down.
func listenGateway(g *otpGateway, addr string) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--webhook-listen: %w", err)
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/otp", func() { srv.Close() }, nil
}
