package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// FileOutbox is a development-only notifier: instead of sending anything, it
// appends each message to a file as one JSON object per line,
//
//	{"time":"2025-01-02T15:04:05Z","channel":"phone","to":"+971501234589","purpose":"login-otp","message":"…","otp":"123456"}
//
// so a demo or a test can read the code it would have received. It writes
// OTPs and destinations in clear, by design: never use it in production.
// `sanad serve --demo` uses <data-dir>/outbox.jsonl.
//
// The file is created with mode 0600 (an existing one is narrowed to 0600),
// opened for appending, and each line is written with a single write, so
// concurrent Notify calls and other processes appending to the same file do
// not interleave lines.
type FileOutbox struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	tmpl *Templates
	path string
	mu   sync.Mutex
	f    *os.File
}

var _ Notifier = (*FileOutbox)(nil)

// outboxLine is one line of the outbox, in field order.
type outboxLine struct {
	Time    string  `json:"time"`
	Channel Channel `json:"channel"`
	To      string  `json:"to"`
	Purpose string  `json:"purpose"`
	Message string  `json:"message"`
	OTP     string  `json:"otp,omitempty"`
}

// NewFileOutbox opens (creating if needed) the outbox file at path. Messages
// are rendered with tmpl, or with DefaultTemplates if tmpl is nil. Close it
// when done.
func NewFileOutbox(path string, tmpl *Templates) (*FileOutbox, error) {
	if tmpl == nil {
		tmpl = DefaultTemplates()
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("notify: outbox: %w", err)
	}
	st, err := f.Stat()
	if err == nil && st.Mode().Perm()&0o077 != 0 {
		err = f.Chmod(0o600)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("notify: outbox: %w", err)
	}
	return &FileOutbox{tmpl: tmpl, path: path, f: f}, nil
}

// Notify renders m and appends it to the outbox.
func (o *FileOutbox) Notify(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	r, err := o.tmpl.Render(m)
	if err != nil {
		return err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // Encode ends the line with '\n'
	enc.SetEscapeHTML(false)
	if err := enc.Encode(outboxLine{
		Time:    now().UTC().Format(time.RFC3339),
		Channel: m.Channel,
		To:      m.To,
		Purpose: m.Purpose,
		Message: r.Body,
		OTP:     m.Data[DataOTP],
	}); err != nil {
		return fmt.Errorf("notify: outbox: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f == nil {
		return fmt.Errorf("notify: outbox %s: %w", o.path, os.ErrClosed)
	}
	if _, err := o.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("notify: outbox: %w", err)
	}
	return nil
}

// Close closes the file. Notify fails after Close.
func (o *FileOutbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f == nil {
		return nil
	}
	err := o.f.Close()
	o.f = nil
	return err
}
