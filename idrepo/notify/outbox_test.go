package notify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

func readOutbox(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("outbox line %q: %v", sc.Text(), err)
		}
		lines = append(lines, v)
	}
	return lines
}

func TestFileOutbox(t *testing.T) {
	fixed := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("GST", 4*3600))
	tests := []struct {
		name string
		m    Message
		want map[string]any
	}{
		{
			"phone OTP in Arabic",
			otpMessage(Phone, "+971501234589", "ara"),
			map[string]any{
				"time": "2025-03-04T01:06:07Z", "channel": "phone", "to": "+971501234589", "purpose": "login-otp", "otp": "482913",
				"message": "مرحبًا Jane Doe،\nرمز الدخول إلى سند هو 482913. تنتهي صلاحيته خلال 10 دقيقة.\nلا تشارك هذا الرمز مع أي شخص، حتى لو قال إنه يعمل لدى سند.",
			},
		},
		{
			"email tx-code",
			Message{Channel: Email, To: "jane@example.com", Purpose: PurposeTxCode, Data: map[string]string{DataOTP: "7731"}},
			map[string]any{
				"time": "2025-03-04T01:06:07Z", "channel": "email", "to": "jane@example.com", "purpose": "tx-code", "otp": "7731",
				"message": "To receive your credential in your wallet, enter the code 7731.\nNever share this code, not even with someone who says they work for Sanad.",
			},
		},
		{
			"no otp field without an OTP",
			Message{Channel: Email, To: "jane@example.com", Purpose: "note", Data: map[string]string{"text": "<b>&</b>"}},
			map[string]any{
				"time": "2025-03-04T01:06:07Z", "channel": "email", "to": "jane@example.com", "purpose": "note", "message": "Note: <b>&</b>",
			},
		},
	}
	tmpl, err := LoadTemplates(DefaultFS(), fstest.MapFS{
		"note/eng.tmpl": {Data: []byte(`{{define "subject"}}Note{{end}}{{define "body"}}Note: {{.text}}{{end}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	o, err := NewFileOutbox(path, tmpl)
	if err != nil {
		t.Fatalf("NewFileOutbox(%s) error = %v", path, err)
	}
	defer o.Close()
	o.Now = func() time.Time { return fixed }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := o.Notify(t.Context(), tt.m); err != nil {
				t.Fatalf("Notify(%v) error = %v", tt.m, err)
			}
			lines := readOutbox(t, path)
			got := lines[len(lines)-1]
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Notify(%v) wrote %v, want %v", tt.m, got, tt.want)
			}
		})
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	if want := `{"time":"2025-03-04T01:06:07Z","channel":"phone","to":"+971501234589","purpose":"login-otp","message":`; !strings.HasPrefix(first, want) {
		t.Errorf("first outbox line = %s, want fields in order, starting %s", first, want)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("outbox mode = %v (%v), want 0600", st.Mode().Perm(), err)
	}
}

func TestFileOutboxErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	o, err := NewFileOutbox(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		m       Message
		wantErr error
	}{
		{"invalid message", t.Context(), otpMessage(Phone, "jane@example.com", "eng"), ErrInvalidMessage},
		{"unknown purpose", t.Context(), Message{Channel: Phone, To: "+971501234589", Purpose: "welcome"}, ErrUnknownPurpose},
		{"canceled", canceled, otpMessage(Phone, "+971501234589", "eng"), context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := o.Notify(tt.ctx, tt.m); !errors.Is(err, tt.wantErr) {
				t.Errorf("Notify(%v) = %v, want %v", tt.m, err, tt.wantErr)
			}
		})
	}
	if lines := readOutbox(t, path); len(lines) != 0 {
		t.Errorf("outbox after failed Notify calls has %d lines, want 0", len(lines))
	}
	if err := o.Close(); err != nil {
		t.Errorf("Close() = %v, want nil", err)
	}
	if err := o.Notify(t.Context(), otpMessage(Phone, "+971501234589", "eng")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Notify after Close = %v, want os.ErrClosed", err)
	}
	if _, err := NewFileOutbox(filepath.Join(t.TempDir(), "missing", "outbox.jsonl"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("NewFileOutbox(in a missing directory) = %v, want os.ErrNotExist", err)
	}
}

func TestFileOutboxNarrowsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	if err := os.WriteFile(path, []byte(`{"time":"earlier"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := NewFileOutbox(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("NewFileOutbox(existing 0644 file) left mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if err := o.Notify(t.Context(), otpMessage(Phone, "+971501234589", "eng")); err != nil {
		t.Fatal(err)
	}
	if lines := readOutbox(t, path); len(lines) != 2 || lines[0]["time"] != "earlier" {
		t.Errorf("outbox = %v, want the earlier line kept and one appended", lines)
	}
}

// TestFileOutboxConcurrent writes from many goroutines through two outboxes
// on one file, as two processes would: every line must come out whole.
func TestFileOutboxConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	var outboxes []*FileOutbox
	for range 2 {
		o, err := NewFileOutbox(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		outboxes = append(outboxes, o)
	}
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m := otpMessage(Phone, "+971501234589", "ara")
			m.Data = map[string]string{DataOTP: fmt.Sprintf("%06d", i), DataName: strings.Repeat("ج", 500)}
			if err := outboxes[i%2].Notify(t.Context(), m); err != nil {
				t.Errorf("Notify(#%d) error = %v", i, err)
			}
		})
	}
	wg.Wait()
	lines := readOutbox(t, path)
	var otps []string
	for _, l := range lines {
		otps = append(otps, l["otp"].(string))
	}
	slices.Sort(otps)
	if len(otps) != n || otps[0] != "000000" || otps[n-1] != fmt.Sprintf("%06d", n-1) || len(slices.Compact(otps)) != n {
		t.Errorf("outbox after %d concurrent Notify calls has OTPs %v, want each once", n, otps)
	}
}
