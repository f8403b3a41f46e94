package issuer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/storage"
)

// The notification endpoint (OpenID4VCI 1.0 section 11): the wallet tells
// the issuer what became of the credentials of one credential response,
// named by the notification_id of that response. The event is recorded in
// the ledger against the credentials of that notification id issued to the
// token's subject, so a wallet can report only on its own credentials.

// maxNotificationBytes bounds a notification request body.
const maxNotificationBytes = 16 << 10

// maxNotificationIDLen bounds a notification_id; ours are far shorter.
const maxNotificationIDLen = 256

// maxEventDescriptionLen bounds an event_description.
const maxEventDescriptionLen = 1024

// notificationRequest is a notification request (OpenID4VCI 1.0 section
// 11.1).
type notificationRequest struct {
	NotificationID   string `json:"notification_id"`
	Event            string `json:"event"`
	EventDescription string `json:"event_description,omitempty"`
}

// errNotificationRequest is invalid_notification_request (400).
func errNotificationRequest(desc string, cause error) *Error {
	return newError(CodeInvalidNotificationRequest, http.StatusBadRequest, desc, cause)
}

// parseNotificationRequest decodes and validates a notification request
// body: one JSON object (members the spec does not define are ignored, as
// extensions may add some).
func parseNotificationRequest(body io.Reader) (*notificationRequest, error) {
	dec := json.NewDecoder(body)
	var q notificationRequest
	if err := dec.Decode(&q); err != nil {
		return nil, errNotificationRequest("the body must be a JSON notification request", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotificationRequest("the body must hold one JSON object", err)
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return &q, nil
}

// Validate checks the members of q: a notification_id, a known event and
// an event_description of the characters the spec allows (%x20-21,
// %x23-5B, %x5D-7E: printable ASCII without '"' and '\').
func (q *notificationRequest) Validate() error {
	switch {
	case q.NotificationID == "":
		return errNotificationRequest("notification_id is required", nil)
	case len(q.NotificationID) > maxNotificationIDLen:
		return errNotificationRequest("notification_id is too long", nil)
	}
	switch q.Event {
	case storage.WalletAccepted, storage.WalletFailure, storage.WalletDeleted:
	case "":
		return errNotificationRequest("event is required", nil)
	default:
		return errNotificationRequest(`event must be "credential_accepted", "credential_failure" or "credential_deleted"`, nil)
	}
	if len(q.EventDescription) > maxEventDescriptionLen {
		return errNotificationRequest("event_description is too long", nil)
	}
	for i := range len(q.EventDescription) {
		if ch := q.EventDescription[i]; ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\' {
			return errNotificationRequest(`event_description may hold printable ASCII characters other than '"' and '\' only`, nil)
		}
	}
	return nil
}

// handleNotification is the notification endpoint: POST with an access
// token (as at the credential endpoint) and a JSON notification request;
// 204 when the event is recorded, 400 invalid_notification_id when no
// credential of the token's subject has that notification id, 400
// invalid_notification_request for a malformed request.
func (is *Issuer) handleNotification(c *gin.Context) {
	tok, scheme, err := is.authenticate(c)
	if err != nil {
		is.writeError(c, err, scheme)
		return
	}
	if tok.Subject == "" {
		is.writeError(c, errToken(errors.New("access token without a subject")), scheme)
		return
	}
	ctx := c.Request.Context()
	if mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type")); err != nil || mt != "application/json" {
		is.writeError(c, errNotificationRequest("the body must be application/json", err), scheme)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxNotificationBytes)
	q, err := parseNotificationRequest(c.Request.Body)
	if err != nil {
		is.writeError(c, err, scheme)
		return
	}
	n, err := is.cfg.Ledger.SetWalletEvent(ctx, q.NotificationID, tok.Subject, q.Event, is.now())
	if err != nil {
		is.writeError(c, errServer(fmt.Errorf("issuer: record wallet event: %w", err)), scheme)
		return
	}
	if n == 0 {
		is.writeError(c, newError(CodeInvalidNotificationID, http.StatusBadRequest,
			"the notification_id is not one of a credential issued with this access token's subject", nil), scheme)
		return
	}
	// The description is free text from the wallet: logged only as its
	// length, in case it carries something personal.
	is.log.LogAttrs(ctx, slog.LevelInfo, "issuer: wallet notification",
		slog.String("event", q.Event), slog.Int("credentials", n),
		slog.Int("event_description_length", len(strings.TrimSpace(q.EventDescription))))
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusNoContent)
}
