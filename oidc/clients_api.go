package oidc

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/storage"
)

// clientMgmtTimeLayout is eSignet's envelope time format
// (yyyy-MM-dd'T'HH:mm:ss.SSS'Z').
const clientMgmtTimeLayout = "2006-01-02T15:04:05.000Z"

// RegisterClientAdmin serves client management on g, which the caller has
// already put behind admin authentication (web.RequireBearer). The shape is
// eSignet's v3 client management API:
//
//	POST   /client-mgmt/client             {"requestTime", "request": ClientRegistration}  create
//	PUT    /client-mgmt/client/{clientId}  {"requestTime", "request": ClientUpdate}        update
//	GET    /client-mgmt/client/{clientId}                                                  read (Sanad's)
//	DELETE /client-mgmt/client/{clientId}                                                  delete (Sanad's)
//	GET    /client-mgmt/client?after=&limit=                                               list by id (Sanad's)
//
// Every answer is the envelope {"responseTime", "response", "errors":
// [{"errorCode", "errorMessage"}]}, with Cache-Control: no-store. Create and
// update answer {"clientId", "status"}, as eSignet does; read, and each
// element of a list, the whole client.
//
// Status codes: eSignet answers every error of its APIs with HTTP 200 and
// the error in the envelope. Client management here keeps the envelope, so
// eSignet tooling still finds errors[0].errorCode, but also answers with the
// matching 4xx or 5xx status (400 invalid input, 404 unknown client, 409
// duplicate or concurrent update), so that scripts, proxies and monitoring
// see failures as failures. Successes are 200, as in eSignet.
//
// requestTime must be present and a valid time; it is not checked against
// the clock (eSignet's leeway check would make admin scripts fail on clock
// skew and protects nothing the bearer token does not).
func (r *ClientRegistry) RegisterClientAdmin(g gin.IRouter) {
	g.POST("/client-mgmt/client", r.apiCreateClient)
	g.GET("/client-mgmt/client", r.apiListClients)
	g.PUT("/client-mgmt/client/:clientId", r.apiUpdateClient)
	g.GET("/client-mgmt/client/:clientId", r.apiGetClient)
	g.DELETE("/client-mgmt/client/:clientId", r.apiDeleteClient)
}

// clientMgmtRequest is eSignet's request envelope.
type clientMgmtRequest[T any] struct {
	RequestTime string `json:"requestTime"`
	Request     *T     `json:"request"`
}

func (q *clientMgmtRequest[T]) Validate() error {
	if q.RequestTime == "" {
		return clientInvalid(ClientMgmtInvalidRequest, "requestTime is required")
	}
	if _, err := time.Parse(time.RFC3339Nano, q.RequestTime); err != nil {
		return clientInvalid(ClientMgmtInvalidRequest, "requestTime must be a time like 2025-01-02T15:04:05.000Z")
	}
	if q.Request == nil {
		return clientInvalid(ClientMgmtInvalidRequest, "request is required")
	}
	if v, ok := any(q.Request).(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// clientMgmtErrorItem is one element of the envelope's errors.
type clientMgmtErrorItem struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// clientMgmtResponse is eSignet's response envelope.
type clientMgmtResponse struct {
	ResponseTime string                `json:"responseTime"`
	Response     any                   `json:"response"`
	Errors       []clientMgmtErrorItem `json:"errors"`
}

// clientStatusResponse is the answer to create and update.
type clientStatusResponse struct {
	ClientID string `json:"clientId"`
	Status   string `json:"status"`
}

// clientDetailResponse is a whole client: what was registered, and its
// state.
type clientDetailResponse struct {
	ClientRegistration
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func clientDetailOf(c storage.Client) (clientDetailResponse, error) {
	key, err := ClientPublicJWK(c)
	if err != nil {
		return clientDetailResponse{}, err
	}
	cfg := json.RawMessage(c.AdditionalConfig)
	if len(cfg) == 0 {
		cfg = json.RawMessage("null")
	}
	return clientDetailResponse{
		ClientRegistration: ClientRegistration{
			ClientID: c.ID, ClientName: c.Name, ClientNameLangMap: c.NameLangMap, PublicKey: key,
			RelyingPartyID: c.RelyingPartyID, UserClaims: c.UserClaims, AuthContextRefs: c.ACRs,
			LogoURI: c.LogoURI, RedirectURIs: c.RedirectURIs, GrantTypes: c.GrantTypes,
			ClientAuthMethods: c.AuthMethods, AdditionalConfig: cfg,
		},
		Status: c.Status, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}, nil
}

func (r *ClientRegistry) apiCreateClient(c *gin.Context) {
	var q clientMgmtRequest[ClientRegistration]
	if !r.parseClientMgmtBody(c, &q) {
		return
	}
	cl, err := r.Create(c.Request.Context(), *q.Request)
	if err != nil {
		r.clientMgmtError(c, err)
		return
	}
	r.clientMgmtOK(c, clientStatusResponse{ClientID: cl.ID, Status: cl.Status})
}

func (r *ClientRegistry) apiUpdateClient(c *gin.Context) {
	var q clientMgmtRequest[ClientUpdate]
	if !r.parseClientMgmtBody(c, &q) {
		return
	}
	cl, err := r.Update(c.Request.Context(), c.Param("clientId"), *q.Request)
	if err != nil {
		r.clientMgmtError(c, err)
		return
	}
	r.clientMgmtOK(c, clientStatusResponse{ClientID: cl.ID, Status: cl.Status})
}

func (r *ClientRegistry) apiGetClient(c *gin.Context) {
	cl, err := r.Get(c.Request.Context(), c.Param("clientId"))
	if err != nil {
		r.clientMgmtError(c, err)
		return
	}
	out, err := clientDetailOf(cl)
	if err != nil {
		r.clientMgmtError(c, clientServerError(err))
		return
	}
	r.clientMgmtOK(c, out)
}

func (r *ClientRegistry) apiDeleteClient(c *gin.Context) {
	id := c.Param("clientId")
	if err := r.Delete(c.Request.Context(), id); err != nil {
		r.clientMgmtError(c, err)
		return
	}
	r.clientMgmtOK(c, clientStatusResponse{ClientID: id, Status: "DELETED"})
}

// apiListClients answers {"clients": [...], "next": "<id>"}; next is the
// after of the following page, absent on the last page. limit defaults to
// 100 and is at most 1000.
func (r *ClientRegistry) apiListClients(c *gin.Context) {
	limit := 100
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > clientRegistryPageMax {
			r.clientMgmtError(c, clientInvalid(ClientMgmtInvalidRequest, "limit must be 1 to 1000"))
			return
		}
		limit = n
	}
	// One more than asked tells whether there is a next page.
	cs, err := r.List(c.Request.Context(), c.Query("after"), limit+1)
	if err != nil {
		r.clientMgmtError(c, err)
		return
	}
	out := struct {
		Clients []clientDetailResponse `json:"clients"`
		Next    string                 `json:"next,omitempty"`
	}{Clients: []clientDetailResponse{}}
	if len(cs) > limit {
		cs = cs[:limit]
		out.Next = cs[limit-1].ID
	}
	for _, cl := range cs {
		d, err := clientDetailOf(cl)
		if err != nil {
			r.clientMgmtError(c, clientServerError(err))
			return
		}
		out.Clients = append(out.Clients, d)
	}
	r.clientMgmtOK(c, out)
}

// parseClientMgmtBody decodes the JSON envelope into q (unknown members and
// trailing data are errors) and validates it. On failure it has answered.
func (r *ClientRegistry) parseClientMgmtBody(c *gin.Context, q interface{ Validate() error }) bool {
	d := json.NewDecoder(c.Request.Body)
	d.DisallowUnknownFields()
	err := d.Decode(q)
	if err == nil {
		if _, terr := d.Token(); terr != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		desc := "the body is not the expected JSON object"
		if errors.As(err, &mbe) {
			desc = "the request body is too large"
		}
		e := clientInvalid(ClientMgmtInvalidRequest, desc)
		e.Cause = err
		r.clientMgmtError(c, e)
		return false
	}
	if err := q.Validate(); err != nil {
		r.clientMgmtError(c, err)
		return false
	}
	return true
}

func (r *ClientRegistry) clientMgmtOK(c *gin.Context, response any) {
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, clientMgmtResponse{ResponseTime: r.now().UTC().Format(clientMgmtTimeLayout), Response: response,
		Errors: []clientMgmtErrorItem{}})
}

// clientMgmtError answers with the error in the envelope and its status;
// the internal cause goes to the access log through c.Error, never to the
// caller.
func (r *ClientRegistry) clientMgmtError(c *gin.Context, err error) {
	var e *ClientRegistryError
	if !errors.As(err, &e) {
		e = clientServerError(err)
	}
	_ = c.Error(e)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(e.Status, clientMgmtResponse{ResponseTime: r.now().UTC().Format(clientMgmtTimeLayout),
		Errors: []clientMgmtErrorItem{{ErrorCode: e.Code, ErrorMessage: e.Description}}})
}
