package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/statuslist"
	"github.com/sanad-id/sanad/storage"
)

// The operator API of issued credentials: searching the ledger, and
// revoking, suspending and reinstating credentials one by one or all of a
// resident's at once. It is mounted on the admin router (admin bearer
// token).
//
// Revocation is final: a revoked credential cannot be suspended or
// reinstated. Suspension is undone by reinstating. Revoking a revoked
// credential or suspending a suspended one changes nothing and succeeds;
// reinstating a credential that is not suspended is refused. A status
// change is in the ledger at once and in the published status list within
// Config.StatusListTTL.
//
// Answers never carry a credential's claims (the ledger holds none) nor
// the resident's internal id; logs name the credential and the action,
// never the resident.

// Admin API paths of credentials, under the admin router.
const (
	// AdminCredentials lists ledger entries (GET); AdminCredentials/{id}
	// is one entry (GET), AdminCredentials/{id}/{action} changes its
	// status (POST; action revoke, suspend or reinstate).
	AdminCredentials = "/v1/credentials"
	// AdminResidents/{individual id}/credentials/{action} changes the
	// status of a resident's credentials (POST).
	AdminResidents = "/v1/residents"
)

// Status actions of the admin API.
const (
	ActionRevoke    = "revoke"
	ActionSuspend   = "suspend"
	ActionReinstate = "reinstate"
)

// Error codes of the credential admin API and of status list publication.
const (
	CodeCredentialRevoked      = "credential_revoked"
	CodeCredentialNotSuspended = "credential_not_suspended"
	CodeCredentialNotRevocable = "credential_not_revocable"
	CodeResidentsNotConfigured = "residents_not_configured"
	CodeNotAcceptable          = "not_acceptable"
)

// Limits of the credential admin API.
const (
	// maxQueryValueLen bounds a query value or credential id.
	maxQueryValueLen = 256
	// maxResidentRequestBytes bounds the body of a resident status change.
	maxResidentRequestBytes = 4 << 10
	// defaultListLimit and maxListLimit are the page sizes of a listing.
	defaultListLimit = 100
	maxListLimit     = 1000
)

// actionStatus is the status an action sets.
var actionStatus = map[string]string{
	ActionRevoke:    storage.CredentialRevoked,
	ActionSuspend:   storage.CredentialSuspended,
	ActionReinstate: storage.CredentialValid,
}

// CredentialRecord is a ledger entry as the admin API shows it: what was
// issued, to which holder key and pairwise subject, its status and where
// that status is published. It leaves out the resident's internal id and
// the notification id.
type CredentialRecord struct {
	ID              string `json:"id"`
	ConfigurationID string `json:"configuration_id"`
	Format          string `json:"format"`
	Status          string `json:"status"`
	// Subject is the pairwise subject the wallet's client knows the
	// resident by.
	Subject             string     `json:"subject"`
	HolderKeyThumbprint string     `json:"holder_key_thumbprint,omitempty"`
	IssuedAt            time.Time  `json:"issued_at"`
	ValidFrom           time.Time  `json:"valid_from"`
	ValidUntil          *time.Time `json:"valid_until,omitempty"`
	// Revocable says whether the credential has a status list entry: only
	// then do status changes reach verifiers.
	Revocable     bool                 `json:"revocable"`
	StatusList    *CredentialStatusRef `json:"status_list,omitempty"`
	WalletEvent   string               `json:"wallet_event,omitempty"`
	WalletEventAt *time.Time           `json:"wallet_event_at,omitempty"`
}

// CredentialStatusRef locates a credential's status list entry: the list,
// the index, and the URLs of the published documents that carry it (the
// revocation and suspension list credentials of a W3C list, the status
// list token of a token list).
type CredentialStatusRef struct {
	ID    string   `json:"id"`
	Index int64    `json:"index"`
	URLs  []string `json:"urls"`
}

// CredentialList is a page of ledger entries. NextAfter, when set, is the
// after parameter of the next page.
type CredentialList struct {
	Credentials []CredentialRecord `json:"credentials"`
	NextAfter   string             `json:"next_after,omitempty"`
}

// ResidentStatusChange is the answer to a status change of a resident's
// credentials: the action, the status set, the configuration it was
// limited to and how many credentials changed.
type ResidentStatusChange struct {
	Action          string `json:"action"`
	Status          string `json:"status"`
	ConfigurationID string `json:"configuration_id,omitempty"`
	Changed         int    `json:"changed"`
}

// record is c as the admin API shows it.
func (is *Issuer) record(c storage.IssuedCredential) CredentialRecord {
	r := CredentialRecord{
		ID: c.ID, ConfigurationID: c.ConfigurationID, Format: c.Format, Status: c.Status,
		Subject: c.Subject, HolderKeyThumbprint: c.HolderKeyThumbprint,
		IssuedAt: c.IssuedAt, ValidFrom: c.ValidFrom,
		WalletEvent: c.WalletEvent,
	}
	if !c.ValidUntil.IsZero() {
		t := c.ValidUntil
		r.ValidUntil = &t
	}
	if !c.WalletEventAt.IsZero() {
		t := c.WalletEventAt
		r.WalletEventAt = &t
	}
	if revocable(c) {
		r.Revocable = true
		ref := &CredentialStatusRef{ID: c.StatusList, Index: c.StatusIndex}
		switch statusKind(c.Format) {
		case storage.StatusListW3C:
			// The form of the list the credential references: VC-JWT
			// for jwt_vc_json, Data Integrity for ldp_vc.
			docURL := is.w3cStatusListURL
			if c.Format == credential.FormatJWTVC {
				docURL = is.w3cJWTStatusListURL
			}
			ref.URLs = []string{
				docURL(c.StatusList, statuslist.PurposeRevocation),
				docURL(c.StatusList, statuslist.PurposeSuspension),
			}
		case storage.StatusListToken:
			ref.URLs = []string{is.statusListURL(c.StatusList)}
		}
		r.StatusList = ref
	}
	return r
}

// revocable reports whether c has a status list entry.
func revocable(c storage.IssuedCredential) bool { return c.StatusList != "" && c.StatusIndex >= 0 }

// registerCredentialAdmin mounts the operator API of credentials.
func (is *Issuer) registerCredentialAdmin(admin gin.IRouter) {
	admin.GET(AdminCredentials, is.handleListCredentials)
	admin.GET(AdminCredentials+"/:id", is.handleGetCredential)
	for _, action := range []string{ActionRevoke, ActionSuspend, ActionReinstate} {
		admin.POST(AdminCredentials+"/:id/"+action, func(c *gin.Context) { is.handleCredentialAction(c, action) })
		admin.POST(AdminResidents+"/:individual_id/credentials/"+action, func(c *gin.Context) { is.handleResidentAction(c, action) })
	}
}

// badQuery is the invalid_request answer to a listing query.
func badQuery(desc string) *Error {
	return errAdmin(CodeInvalidRequest, http.StatusBadRequest, desc, nil)
}

// credentialQuery is a parsed listing query of GET AdminCredentials.
type credentialQuery struct {
	ConfigurationID string
	Status          string
	IssuedFrom      time.Time
	IssuedBefore    time.Time
	After           string
	Limit           int
}

// credentialQueryParams are the parameters a listing query may have.
var credentialQueryParams = []string{"configuration_id", "status", "issued_from", "issued_before", "after", "limit"}

// parseCredentialQuery reads a listing query: every parameter at most once
// and none unknown (a misspelt filter would silently select everything);
// status one of VALID, REVOKED, SUSPENDED (any case); issued_from
// (inclusive) and issued_before (exclusive) RFC 3339 times, the first
// before the second; after a credential id; limit 1 to 1000 (100 when
// absent).
func parseCredentialQuery(q url.Values) (*credentialQuery, error) {
	for name, vs := range q {
		known := false
		for _, p := range credentialQueryParams {
			known = known || p == name
		}
		if !known {
			return nil, badQuery(fmt.Sprintf("unknown query parameter %q; the parameters are %s", truncateText(name), strings.Join(credentialQueryParams, ", ")))
		}
		if len(vs) > 1 {
			return nil, badQuery(fmt.Sprintf("query parameter %s is given %d times", name, len(vs)))
		}
		if len(vs[0]) > maxQueryValueLen || !utf8.ValidString(vs[0]) {
			return nil, badQuery(fmt.Sprintf("query parameter %s is longer than %d bytes or not UTF-8", name, maxQueryValueLen))
		}
	}
	out := &credentialQuery{ConfigurationID: q.Get("configuration_id"), After: q.Get("after"), Limit: defaultListLimit}
	if s := q.Get("status"); s != "" {
		out.Status = strings.ToUpper(s)
		switch out.Status {
		case storage.CredentialValid, storage.CredentialRevoked, storage.CredentialSuspended:
		default:
			return nil, badQuery(fmt.Sprintf("status must be %s, %s or %s", storage.CredentialValid, storage.CredentialRevoked, storage.CredentialSuspended))
		}
	}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"issued_from", &out.IssuedFrom}, {"issued_before", &out.IssuedBefore}} {
		s := q.Get(p.name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, badQuery(fmt.Sprintf("%s must be an RFC 3339 time such as 2026-03-01T00:00:00Z", p.name))
		}
		*p.to = t
	}
	if !out.IssuedFrom.IsZero() && !out.IssuedBefore.IsZero() && !out.IssuedFrom.Before(out.IssuedBefore) {
		return nil, badQuery("issued_from must be before issued_before")
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListLimit {
			return nil, badQuery(fmt.Sprintf("limit must be an integer from 1 to %d", maxListLimit))
		}
		out.Limit = n
	}
	return out, nil
}

// filter is q as a ledger filter.
func (q *credentialQuery) filter() storage.CredentialFilter {
	return storage.CredentialFilter{
		ConfigurationID: q.ConfigurationID,
		Status:          q.Status,
		IssuedFrom:      q.IssuedFrom,
		IssuedBefore:    q.IssuedBefore,
		After:           q.After,
		Limit:           q.Limit,
	}
}

// handleListCredentials is GET AdminCredentials: a page of ledger entries,
// oldest first.
func (is *Issuer) handleListCredentials(c *gin.Context) {
	q, err := parseCredentialQuery(c.Request.URL.Query())
	if err != nil {
		is.writeError(c, err, "")
		return
	}
	entries, err := is.cfg.Ledger.ListCredentials(c.Request.Context(), q.filter())
	if errors.Is(err, storage.ErrNotFound) && q.After != "" {
		is.writeError(c, badQuery("after names no credential"), "")
		return
	}
	if err != nil {
		is.writeError(c, errServer(fmt.Errorf("issuer: list credentials: %w", err)), "")
		return
	}
	out := CredentialList{Credentials: make([]CredentialRecord, 0, len(entries))}
	for _, e := range entries {
		out.Credentials = append(out.Credentials, is.record(e))
	}
	if len(entries) == q.Limit {
		out.NextAfter = entries[len(entries)-1].ID
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// credentialParam reads the credential id of the path.
func credentialParam(c *gin.Context) (string, error) {
	id := c.Param("id")
	if id == "" || len(id) > maxQueryValueLen || !utf8.ValidString(id) {
		return "", errAdmin(CodeNotFound, http.StatusNotFound, "no credential has this id", nil)
	}
	return id, nil
}

// loadCredential reads the ledger entry id.
func (is *Issuer) loadCredential(ctx context.Context, id string) (storage.IssuedCredential, error) {
	e, err := is.cfg.Ledger.GetCredential(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return e, errAdmin(CodeNotFound, http.StatusNotFound, "no credential has this id", nil)
	}
	if err != nil {
		return e, errServer(fmt.Errorf("issuer: read credential: %w", err))
	}
	return e, nil
}

// handleGetCredential is GET AdminCredentials/{id}.
func (is *Issuer) handleGetCredential(c *gin.Context) {
	id, err := credentialParam(c)
	if err == nil {
		var e storage.IssuedCredential
		if e, err = is.loadCredential(c.Request.Context(), id); err == nil {
			c.Header("Cache-Control", "no-store")
			c.JSON(http.StatusOK, is.record(e))
			return
		}
	}
	is.writeError(c, err, "")
}

// handleCredentialAction is POST AdminCredentials/{id}/{action}: it
// answers 200 with the credential as it is afterwards.
func (is *Issuer) handleCredentialAction(c *gin.Context, action string) {
	id, err := credentialParam(c)
	if err == nil {
		var e storage.IssuedCredential
		if e, err = is.ChangeCredentialStatus(c.Request.Context(), id, action); err == nil {
			c.Header("Cache-Control", "no-store")
			c.JSON(http.StatusOK, is.record(e))
			return
		}
	}
	is.writeError(c, err, "")
}

// actionFrom is the statuses an action applies to. Revocation is final,
// so no action applies to a revoked credential.
var actionFrom = map[string][]string{
	ActionRevoke:    {storage.CredentialValid, storage.CredentialSuspended},
	ActionSuspend:   {storage.CredentialValid},
	ActionReinstate: {storage.CredentialSuspended},
}

// ChangeCredentialStatus revokes, suspends or reinstates (action) the
// credential with id and returns its ledger entry afterwards. Errors are
// *Error values: not_found, credential_not_revocable (no status list
// entry), credential_revoked (suspending or reinstating a revoked
// credential), credential_not_suspended (reinstating a credential that is
// not suspended), server_error.
//
// The ledger checks the status and changes it in one step
// (storage.Ledger.TransitionCredentialStatus), so a change made meanwhile
// by another request or process is never overwritten: a credential
// revoked between the read below and the change stays revoked. The
// answer is decided on the status the ledger found.
func (is *Issuer) ChangeCredentialStatus(ctx context.Context, id, action string) (storage.IssuedCredential, error) {
	to, ok := actionStatus[action]
	if !ok {
		return storage.IssuedCredential{}, errAdmin(CodeInvalidRequest, http.StatusBadRequest, "unknown action", nil)
	}
	// Whether a credential has a status list entry never changes; its
	// status is read again by the transition.
	e, err := is.loadCredential(ctx, id)
	if err != nil {
		return e, err
	}
	if !revocable(e) {
		return e, errAdmin(CodeCredentialNotRevocable, http.StatusConflict,
			"the credential has no status list entry: it is not revocable", nil)
	}
	from, err := is.cfg.Ledger.TransitionCredentialStatus(ctx, id, actionFrom[action], to)
	if from != "" {
		e.Status = from
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return e, errAdmin(CodeNotFound, http.StatusNotFound, "no credential has this id", nil)
	case errors.Is(err, storage.ErrConflict) && from == storage.CredentialRevoked && action != ActionRevoke:
		return e, errAdmin(CodeCredentialRevoked, http.StatusConflict,
			"the credential is revoked; revocation is final", nil)
	case errors.Is(err, storage.ErrConflict) && action == ActionReinstate:
		return e, errAdmin(CodeCredentialNotSuspended, http.StatusConflict,
			"only a suspended credential can be reinstated", nil)
	case errors.Is(err, storage.ErrConflict) && from == to:
		return e, nil // revoking a revoked or suspending a suspended credential
	case err != nil:
		return e, errServer(fmt.Errorf("issuer: change credential status from %q to %q: %w", from, to, err))
	}
	is.log.LogAttrs(ctx, slog.LevelInfo, "issuer: credential status changed",
		slog.String("credential_id", id), slog.String("action", action),
		slog.String("from", from), slog.String("status", to))
	e.Status = to
	return e, nil
}

// ResidentFinder is an optional capability of a Config.Persons for the
// resident status changes of the admin API: it resolves an individual id
// to the resident's internal id whatever the resident's status (a
// deactivated or blocked resident's credentials are the first an operator
// revokes), ErrUnknownPerson when there is no such resident. Without it,
// FindPerson is used, which finds active residents only.
type ResidentFinder interface {
	FindResident(ctx context.Context, individualID string) (personID string, err error)
}

// residentStatusRequest is the optional body of a resident status change.
type residentStatusRequest struct {
	ConfigurationID string `json:"configuration_id"`
}

// parseResidentStatusRequest reads the optional body: empty, or one JSON
// object with at most configuration_id, a credential configuration the
// issuer has. A body over an http.MaxBytesReader's limit is a 413.
func parseResidentStatusRequest(body io.Reader, known func(id string) bool) (*residentStatusRequest, error) {
	raw, err := io.ReadAll(body)
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		return nil, errAdmin(CodeInvalidRequest, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("the body is larger than %d bytes", tooLarge.Limit), err)
	}
	if err != nil {
		return nil, errAdmin(CodeInvalidRequest, http.StatusBadRequest, "the body must be a JSON object: "+jsonProblem(err), err)
	}
	var q residentStatusRequest
	if len(strings.TrimSpace(string(raw))) == 0 {
		return &q, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		return nil, errAdmin(CodeInvalidRequest, http.StatusBadRequest, "the body must be a JSON object: "+jsonProblem(err), err)
	}
	if dec.More() {
		return nil, errAdmin(CodeInvalidRequest, http.StatusBadRequest, "the body must hold one JSON object", nil)
	}
	if q.ConfigurationID != "" && !known(q.ConfigurationID) {
		return nil, errAdmin(CodeUnknownCredentialConfiguration, http.StatusBadRequest,
			fmt.Sprintf("credential configuration %q is not offered by this issuer", truncateText(q.ConfigurationID)), nil)
	}
	return &q, nil
}

// handleResidentAction is POST AdminResidents/{individual id}/credentials/
// {action}: it changes the status of every credential of the resident (of
// one configuration when the body names it) that the action applies to,
// and answers with how many changed.
func (is *Issuer) handleResidentAction(c *gin.Context, action string) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxResidentRequestBytes)
	q, err := parseResidentStatusRequest(c.Request.Body, func(id string) bool { return is.configs[id] != nil })
	if err == nil {
		var out *ResidentStatusChange
		if out, err = is.ChangeResidentStatus(c.Request.Context(), c.Param("individual_id"), q.ConfigurationID, action); err == nil {
			c.Header("Cache-Control", "no-store")
			c.JSON(http.StatusOK, out)
			return
		}
	}
	is.writeError(c, err, "")
}

// ChangeResidentStatus revokes (every credential not yet revoked),
// suspends (every valid one) or reinstates (every suspended one) the
// credentials of the resident individualID names (UIN, VID, ... as
// Config.Persons resolves it), of configurationID only when it is not
// empty. Each is one transaction. Errors are *Error values:
// invalid_request, unknown_individual, residents_not_configured (no
// Config.Persons), server_error.
func (is *Issuer) ChangeResidentStatus(ctx context.Context, individualID, configurationID, action string) (*ResidentStatusChange, error) {
	to, ok := actionStatus[action]
	if !ok {
		return nil, errAdmin(CodeInvalidRequest, http.StatusBadRequest, "unknown action", nil)
	}
	if individualID == "" || len(individualID) > maxIndividualIDLen || !utf8.ValidString(individualID) {
		return nil, errAdmin(CodeInvalidRequest, http.StatusBadRequest, "the individual id is empty, too long or not UTF-8", nil)
	}
	if is.cfg.Persons == nil {
		return nil, errAdmin(CodeResidentsNotConfigured, http.StatusNotImplemented,
			"this issuer cannot resolve individual ids", nil)
	}
	if is.status == nil {
		return nil, errAdmin(CodeCredentialNotRevocable, http.StatusConflict,
			"this issuer has no status lists: its credentials are not revocable", nil)
	}
	var personID string
	var err error
	if f, ok := is.cfg.Persons.(ResidentFinder); ok {
		personID, err = f.FindResident(ctx, individualID)
	} else {
		personID, _, err = is.cfg.Persons.FindPerson(ctx, individualID)
	}
	if errors.Is(err, ErrUnknownPerson) {
		return nil, errAdmin(CodeUnknownIndividual, http.StatusNotFound, "no resident has this individual id", nil)
	}
	if err != nil {
		return nil, errServer(fmt.Errorf("issuer: find the resident of a status change: %w", err))
	}
	from := ""
	switch action {
	case ActionSuspend:
		from = storage.CredentialValid
	case ActionReinstate:
		from = storage.CredentialSuspended
	}
	n, err := is.status.store.SetPersonCredentialsStatus(ctx, personID, configurationID, from, to)
	if err != nil {
		return nil, errServer(fmt.Errorf("issuer: set the status of a resident's credentials: %w", err))
	}
	is.log.LogAttrs(ctx, slog.LevelInfo, "issuer: resident's credentials status changed",
		slog.String("action", action), slog.String("configuration", configurationID),
		slog.String("status", to), slog.Int("changed", n))
	return &ResidentStatusChange{Action: action, Status: to, ConfigurationID: configurationID, Changed: n}, nil
}
