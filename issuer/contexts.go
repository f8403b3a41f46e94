package issuer

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/jsonld"
)

// PathContexts + "/{configuration id}/{file}" serves the JSON-LD context
// files of the templates (Configuration.ContextFiles), so that verifiers
// that do fetch contexts find the ones Sanad's credentials name. The
// issuer itself never fetches a context: it loads them from the template
// folders at start.
const PathContexts = "/contexts"

// contextMaxAge is how long clients may cache a served context, in
// seconds: a context changes only with the templates, and a change of a
// context's content under the same URL breaks every credential signed
// under the old one anyway.
const contextMaxAge = 86400

// servedContext is one served context file.
type servedContext struct {
	body []byte
	etag string
}

// contextKey names a served context: configuration id and file name.
type contextKey struct{ config, file string }

// initContexts collects the context files of the configurations, builds
// the loader (Config.Contexts, or the bundled contexts plus the files) and
// checks that every context an ldp_vc configuration names can be loaded:
// contexts are never fetched, so one that is neither bundled nor
// registered would fail every credential request. It reports every
// problem.
func (is *Issuer) initContexts() []error {
	var errs []error
	prefix := is.base + PathContexts + "/"
	extra := map[string][]byte{}
	is.contexts = map[contextKey]servedContext{}
	for _, c := range is.cfg.Configurations {
		urls := make([]string, 0, len(c.ContextFiles))
		for u := range c.ContextFiles {
			urls = append(urls, u)
		}
		sort.Strings(urls)
		for _, u := range urls {
			body := c.ContextFiles[u]
			key, ok := contextKeyOf(prefix, u)
			if !ok {
				errs = append(errs, fmt.Errorf("issuer: configuration %q: context file %s is not served by this issuer (%s<configuration id>/<file>)", c.ID, u, prefix))
				continue
			}
			if old, dup := extra[u]; dup && !bytes.Equal(old, body) {
				errs = append(errs, fmt.Errorf("issuer: configuration %q: context %s has another content in another configuration", c.ID, u))
				continue
			}
			extra[u] = body
			sum := sha256.Sum256(body)
			is.contexts[key] = servedContext{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
		}
	}
	is.loader = is.cfg.Contexts
	if is.loader == nil {
		l, err := jsonld.NewLoader(extra)
		if err != nil {
			return append(errs, fmt.Errorf("issuer: contexts: %w", err))
		}
		is.loader = l
	} else {
		for u, body := range extra {
			if got, ok := is.loader.Context(u); !ok || !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(body)) {
				errs = append(errs, fmt.Errorf("issuer: Config.Contexts does not load the context file %s as the template has it", u))
			}
		}
	}
	for _, c := range is.cfg.Configurations {
		if c.Format != credential.FormatLDPVC {
			continue
		}
		want := ldpContexts(c, false)
		if c.DataModel == DataModel11 && is.cfg.StatusLists != nil {
			want = ldpContexts(c, true)
		}
		for _, u := range want {
			if _, ok := is.loader.Context(u); !ok {
				errs = append(errs, fmt.Errorf("issuer: configuration %q: context %s: %w (it is neither bundled nor a file of the template folder; contexts are never fetched)", c.ID, u, jsonld.ErrUnknownContext))
			}
		}
	}
	return errs
}

// contextKeyOf splits the URL of a served context into configuration id
// and file name.
func contextKeyOf(prefix, u string) (contextKey, bool) {
	rest, ok := strings.CutPrefix(u, prefix)
	if !ok {
		return contextKey{}, false
	}
	rawID, rawFile, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(rawFile, "/") {
		return contextKey{}, false
	}
	id, err1 := url.PathUnescape(rawID)
	file, err2 := url.PathUnescape(rawFile)
	if err1 != nil || err2 != nil || id == "" || file == "" {
		return contextKey{}, false
	}
	return contextKey{config: id, file: file}, true
}

// registerContexts serves the context files.
func (is *Issuer) registerContexts(r gin.IRouter) {
	if len(is.contexts) == 0 {
		return
	}
	r.GET(is.issuerPath()+PathContexts+"/:config/:file", is.handleContext)
}

// handleContext serves one context file (application/ld+json), cacheable
// for a day, with an ETag.
func (is *Issuer) handleContext(c *gin.Context) {
	sc, ok := is.contexts[contextKey{config: c.Param("config"), file: c.Param("file")}]
	if !ok {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	c.Header("Cache-Control", fmt.Sprintf("public, max-age=%d", contextMaxAge))
	c.Header("Access-Control-Allow-Origin", "*")
	c.Header("ETag", sc.etag)
	if etagMatches(c.GetHeader("If-None-Match"), sc.etag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "application/ld+json", sc.body)
}

// etagMatches reports whether an If-None-Match header names etag, or is
// "*" (weak comparison, RFC 9110 section 13.1.2: "W/" is ignored on
// both sides).
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	if strings.TrimSpace(header) == "*" {
		return true
	}
	etag = strings.TrimPrefix(etag, "W/")
	return slices.ContainsFunc(strings.Split(header, ","), func(s string) bool {
		return strings.TrimPrefix(strings.TrimSpace(s), "W/") == etag
	})
}

// Contexts is the issuer's JSON-LD loader: the bundled contexts and the
// templates' own (or Config.Contexts). Verifiers in the same process (and
// tests) load the issuer's credentials with it.
func (is *Issuer) Contexts() *jsonld.Loader { return is.loader }
