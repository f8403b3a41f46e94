package idrepo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// AdminActor is the audit actor of the admin API.
const AdminActor = "admin"

// maxReasonLength caps a status change's reason.
const maxReasonLength = 512

// RegisterAdmin serves the identity administration API on g, which the
// caller has already put behind admin authentication (web.RequireBearer):
//
//	POST   /v1/identities                {"identity": {...}}           create: 201, Location, ETag
//	GET    /v1/identities/{uin}                                        read: 200, ETag
//	PATCH  /v1/identities/{uin}          {"identity": {...}}, If-Match merge-patch: 200, ETag
//	PUT    /v1/identities/{uin}/status   {"status", "reason"}          200, ETag
//	POST   /v1/identities/{uin}/vids     {"type"}                      201
//	GET    /v1/identities/{uin}/vids                                   200 {"vids": [...]}
//	DELETE /v1/vids/{vid}                                              revoke: 204
//
// docs/api/idrepo.yaml documents them. Every answer is Cache-Control:
// no-store; errors are {"error", "error_description", "fields"}.
func (r *Repository) RegisterAdmin(g gin.IRouter) {
	g.POST("/v1/identities", r.adminCreate)
	g.GET("/v1/identities/:uin", r.adminGet)
	g.PATCH("/v1/identities/:uin", r.adminUpdate)
	g.PUT("/v1/identities/:uin/status", r.adminStatus)
	g.POST("/v1/identities/:uin/vids", r.adminCreateVID)
	g.GET("/v1/identities/:uin/vids", r.adminListVIDs)
	g.DELETE("/v1/vids/:vid", r.adminRevokeVID)
}

// identityRequest is the body of POST and PATCH /v1/identities.
type identityRequest struct {
	Identity map[string]any `json:"identity"`
}

func (q *identityRequest) Validate() error {
	if q.Identity == nil {
		return errors.New(`the body must be {"identity": {...}}`)
	}
	return nil
}

// statusRequest is the body of PUT /v1/identities/{uin}/status.
type statusRequest struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

func (q *statusRequest) Validate() error {
	switch q.Status {
	case StatusActive, StatusDeactivated, StatusBlocked:
	default:
		return errors.New("status must be ACTIVE, DEACTIVATED or BLOCKED")
	}
	if len(q.Reason) > maxReasonLength {
		return fmt.Errorf("reason must be at most %d bytes", maxReasonLength)
	}
	return nil
}

// vidRequest is the body of POST /v1/identities/{uin}/vids.
type vidRequest struct {
	Type string `json:"type"`
}

func (q *vidRequest) Validate() error {
	if q.Type == "" {
		return errors.New(`the body must be {"type": "perpetual" | "temporary"}`)
	}
	return nil
}

// identityResponse is a resident in the admin API.
type identityResponse struct {
	UIN       string         `json:"uin"`
	Status    string         `json:"status"`
	Version   int64          `json:"version"`
	Identity  map[string]any `json:"identity,omitempty"`
	CreatedAt time.Time      `json:"createdAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
}

func identityResponseOf(res Resident, withIdentity bool) identityResponse {
	out := identityResponse{UIN: res.UIN, Status: res.Status, Version: res.Version,
		CreatedAt: res.CreatedAt, UpdatedAt: res.UpdatedAt}
	if withIdentity {
		out.Identity = res.Identity
	}
	return out
}

// vidResponse is a VID in the admin API; expiresAt and usesLeft are null
// when there is no limit.
type vidResponse struct {
	VID       string     `json:"vid"`
	Type      string     `json:"type"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt"`
	UsesLeft  *int64     `json:"usesLeft"`
}

func vidResponseOf(v VIDInfo) vidResponse {
	out := vidResponse{VID: v.VID, Type: v.Type, Status: v.Status, CreatedAt: v.CreatedAt}
	if !v.ExpiresAt.IsZero() {
		t := v.ExpiresAt
		out.ExpiresAt = &t
	}
	if v.UsesLeft >= 0 {
		n := v.UsesLeft
		out.UsesLeft = &n
	}
	return out
}

func (r *Repository) adminCreate(c *gin.Context) {
	var q identityRequest
	if !parseBody(c, &q) {
		return
	}
	res, err := r.Create(c.Request.Context(), AdminActor, q.Identity)
	if err != nil {
		adminError(c, err)
		return
	}
	noStore(c)
	c.Header("ETag", etag(res.Version))
	c.Header("Location", strings.TrimSuffix(c.Request.URL.Path, "/")+"/"+res.UIN)
	c.JSON(http.StatusCreated, identityResponseOf(res, false))
}

func (r *Repository) adminGet(c *gin.Context) {
	res, err := r.Get(c.Request.Context(), AdminActor, c.Param("uin"))
	if err != nil {
		adminError(c, err)
		return
	}
	noStore(c)
	c.Header("ETag", etag(res.Version))
	c.JSON(http.StatusOK, identityResponseOf(res, true))
}

func (r *Repository) adminUpdate(c *gin.Context) {
	version, err := parseIfMatch(c.GetHeader("If-Match"))
	if err != nil {
		adminError(c, err)
		return
	}
	var q identityRequest
	if !parseBody(c, &q) {
		return
	}
	res, err := r.Update(c.Request.Context(), AdminActor, c.Param("uin"), q.Identity, version)
	if err != nil {
		adminError(c, err)
		return
	}
	noStore(c)
	c.Header("ETag", etag(res.Version))
	c.JSON(http.StatusOK, identityResponseOf(res, true))
}

func (r *Repository) adminStatus(c *gin.Context) {
	var q statusRequest
	if !parseBody(c, &q) {
		return
	}
	res, err := r.SetStatus(c.Request.Context(), AdminActor, c.Param("uin"), q.Status, q.Reason)
	if err != nil {
		adminError(c, err)
		return
	}
	noStore(c)
	c.Header("ETag", etag(res.Version))
	c.JSON(http.StatusOK, identityResponseOf(res, false))
}

func (r *Repository) adminCreateVID(c *gin.Context) {
	var q vidRequest
	if !parseBody(c, &q) {
		return
	}
	v, err := r.CreateVID(c.Request.Context(), AdminActor, c.Param("uin"), q.Type)
	if err != nil {
		adminError(c, err)
		return
	}
	noStore(c)
	c.JSON(http.StatusCreated, vidResponseOf(v))
}

func (r *Repository) adminListVIDs(c *gin.Context) {
	vs, err := r.ListVIDs(c.Request.Context(), AdminActor, c.Param("uin"))
	if err != nil {
		adminError(c, err)
		return
	}
	out := make([]vidResponse, len(vs))
	for i, v := range vs {
		out[i] = vidResponseOf(v)
	}
	noStore(c)
	c.JSON(http.StatusOK, gin.H{"vids": out})
}

func (r *Repository) adminRevokeVID(c *gin.Context) {
	if err := r.RevokeVID(c.Request.Context(), AdminActor, c.Param("vid")); err != nil {
		adminError(c, err)
		return
	}
	noStore(c)
	c.Status(http.StatusNoContent)
}

// validator is a request body that checks itself once parsed.
type validator interface{ Validate() error }

// parseBody decodes the JSON body into v (unknown members and trailing
// data are errors; numbers stay exact) and validates it. On failure it has
// answered 400.
func parseBody(c *gin.Context, v validator) bool {
	d := json.NewDecoder(c.Request.Body)
	d.UseNumber()
	d.DisallowUnknownFields()
	err := d.Decode(v)
	if err == nil {
		if _, terr := d.Token(); terr != io.EOF {
			err = errTrailingJSON
		}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			adminError(c, newError(CodeInvalidRequest, "the request body is too large").withCause(err))
			return false
		}
		// The decoder's own message may quote the input; log a description.
		adminError(c, newError(CodeInvalidRequest, "the body is not the expected JSON object").withCause(errors.New(jsonErrorText(err))))
		return false
	}
	if err := v.Validate(); err != nil {
		adminError(c, newError(CodeInvalidRequest, err.Error()))
		return false
	}
	return true
}

func etag(version int64) string { return `"v` + strconv.FormatInt(version, 10) + `"` }

// parseIfMatch reads the version an If-Match header names: exactly one
// strong entity tag "v<version>" from an earlier answer. A weak tag never
// matches (If-Match compares strongly).
func parseIfMatch(h string) (int64, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, newError(CodePreconditionRequired, `an update needs If-Match with the ETag of the version it changes, like "v3"`)
	}
	if strings.HasPrefix(h, "W/") {
		return 0, newError(CodeVersionMismatch, "a weak ETag never matches: send the ETag as received")
	}
	s, ok := strings.CutPrefix(h, `"v`)
	if ok {
		s, ok = strings.CutSuffix(s, `"`)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	// Entity tags compare as strings: "v01" is not "v1".
	if !ok || err != nil || v < 1 || !allDigits(s) || s[0] == '0' {
		return 0, newError(CodeInvalidRequest, `If-Match must be one ETag from an earlier answer, like "v3"`)
	}
	return v, nil
}

func noStore(c *gin.Context) { c.Header("Cache-Control", "no-store") }

// adminError answers with an Error; the internal cause goes to the access
// log through c.Error, never to the caller.
func adminError(c *gin.Context, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = errServer(err)
	}
	_ = c.Error(e)
	noStore(c)
	body := gin.H{"error": e.Code, "error_description": e.Description}
	if len(e.Fields) > 0 {
		body["fields"] = e.Fields
	}
	c.AbortWithStatusJSON(e.HTTPStatus(), body)
}
