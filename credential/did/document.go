package did

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// KeyAgreement is the verification relationship of keys used for key
// agreement (encryption), never for signatures.
const KeyAgreement = "keyAgreement"

// relationships lists the verification relationships in the order a
// VerificationMethod's Relationships are given.
var relationships = []string{AssertionMethod, Authentication, CapabilityInvocation, CapabilityDelegation, KeyAgreement}

// JSON-LD contexts of the DID documents NewDocument writes; all are
// bundled in credential/jsonld, so a document can be canonicalized
// offline.
const (
	ContextDIDV1              = "https://www.w3.org/ns/did/v1"
	ContextMultikeyV1         = "https://w3id.org/security/multikey/v1"
	ContextEd25519Suite2020V1 = "https://w3id.org/security/suites/ed25519-2020/v1"
)

// Bounds of a DID document: a did:web document is fetched from a server
// the verifier does not control.
const (
	// MaxDocumentSize is the largest DID document read, in bytes.
	MaxDocumentSize = 1 << 20
	// MaxDocumentMethods is the most verification methods a document may
	// hold, embedded ones included; an issuer that keeps its retired keys
	// for years stays far below.
	MaxDocumentMethods = 256
)

// ErrInvalidDocument: a DID document is malformed (not a JSON object,
// duplicate members or method ids, a method without id, type or
// controller, a reference that is not a DID URL, too large), or its id is
// not the DID resolved.
var ErrInvalidDocument = errors.New("did: invalid DID document")

// privateMethodMembers are verification method members that carry private
// key material: a document with one is refused whole.
var privateMethodMembers = []string{"secretKeyMultibase", "privateKeyMultibase", "privateKeyJwk", "privateKeyBase58", "privateKeyHex", "privateKeyPem"}

// Document is a DID document (W3C DID Core 1.0, section 5), limited to
// what key resolution needs: members other than the ones below (service,
// alsoKnownAs, ...) are ignored when reading and absent when writing.
//
// Read one with ParseDocument (or json.Unmarshal, which checks the same):
// the document is refused if it is malformed or publishes private key
// material; a verification method of a type Sanad does not read is kept
// and VerificationMethod reports it as unsupported. Build one with
// NewDocument.
type Document struct {
	// Context is @context: URLs and context objects. Absent from a plain
	// JSON (application/did+json) document.
	Context []any `json:"@context,omitempty"`
	// ID is the DID the document describes.
	ID string `json:"id"`
	// Controller lists the DIDs that control the document, if not itself.
	Controller []string `json:"controller,omitempty"`
	// Methods is the verificationMethod array.
	Methods []MethodEntry `json:"verificationMethod,omitempty"`
	// The verification relationships: references to Methods or embedded
	// methods.
	AssertionMethod      []Reference `json:"assertionMethod,omitempty"`
	Authentication       []Reference `json:"authentication,omitempty"`
	CapabilityInvocation []Reference `json:"capabilityInvocation,omitempty"`
	CapabilityDelegation []Reference `json:"capabilityDelegation,omitempty"`
	KeyAgreement         []Reference `json:"keyAgreement,omitempty"`
}

// MethodEntry is a verification method as a DID document writes it.
type MethodEntry struct {
	// ID is a DID URL with a fragment, absolute or relative ("#key-1") to
	// the document's id.
	ID string `json:"id"`
	// Type is TypeMultikey, TypeEd25519VerificationKey2020, TypeJsonWebKey,
	// TypeJsonWebKey2020 or a type Sanad does not read.
	Type string `json:"type"`
	// Controller is the DID that controls the key; required.
	Controller string `json:"controller"`
	// PublicKeyMultibase is the key of Multikey and
	// Ed25519VerificationKey2020 methods.
	PublicKeyMultibase string `json:"publicKeyMultibase,omitempty"`
	// PublicKeyJwk is the key of JsonWebKey and JsonWebKey2020 methods.
	PublicKeyJwk json.RawMessage `json:"publicKeyJwk,omitempty"`
}

// Reference is one entry of a verification relationship: the id of a
// verification method (a string) or an embedded method (an object).
type Reference struct {
	// ID is the referenced method's id, absolute or relative ("#key-1");
	// empty for an embedded method.
	ID string
	// Method is the embedded method; nil for a reference.
	Method *MethodEntry
}

// MarshalJSON writes the reference as a string or the embedded method as
// an object.
func (r Reference) MarshalJSON() ([]byte, error) {
	switch {
	case r.Method != nil && r.ID != "":
		return nil, fmt.Errorf("%w: a reference is either an id or an embedded method", ErrInvalidDocument)
	case r.Method != nil:
		return json.Marshal(r.Method)
	default:
		return json.Marshal(r.ID)
	}
}

// UnmarshalJSON reads a string reference or an embedded method.
func (r *Reference) UnmarshalJSON(b []byte) error {
	if err := noDuplicateMembers(b); err != nil {
		return err
	}
	ref, err := decodeReference(b)
	if err != nil {
		return err
	}
	*r = ref
	return nil
}

// ParseDocument reads a DID document (JSON or JSON-LD representation) and
// checks it: at most MaxDocumentSize bytes and MaxDocumentMethods
// methods; no duplicate JSON members; an id that is a DID; methods with a
// unique id of that DID, a type and a controller; relationship entries
// that are DID URLs with a fragment or embedded methods; no private key
// material (ErrPrivateKey). Other failures wrap ErrInvalidDocument.
func ParseDocument(b []byte) (*Document, error) {
	d, err := decodeDocument(b)
	if err != nil {
		return nil, err
	}
	if _, err := d.resolve(); err != nil {
		return nil, err
	}
	return d, nil
}

// UnmarshalJSON implements json.Unmarshaler with the checks of
// ParseDocument.
func (d *Document) UnmarshalJSON(b []byte) error {
	nd, err := ParseDocument(b)
	if err != nil {
		return err
	}
	*d = *nd
	return nil
}

// parseResolved parses and indexes a document in one pass.
func parseResolved(b []byte) (*resolvedDoc, error) {
	d, err := decodeDocument(b)
	if err != nil {
		return nil, err
	}
	return d.resolve()
}

// VerificationMethod returns the verification method id names (absolute,
// or relative "#key-1"), with the relationships the document lists it
// under. ErrNotFound if the document has no such method;
// ErrUnsupportedKey if its type or key is not one Sanad verifies with.
func (d *Document) VerificationMethod(id string) (VerificationMethod, error) {
	r, err := d.resolve()
	if err != nil {
		return VerificationMethod{}, err
	}
	return r.lookup(id)
}

// NewDocument builds the DID document of didID listing methods, as an
// issuer publishes it: each method as a Multikey with publicKeyMultibase
// (Ed25519, P-256, P-384, P-521 keys), or as an
// Ed25519VerificationKey2020 when its Type asks for it (what
// Ed25519Signature2020 verifiers such as digitalbazaar's require), under
// the relationships of its Relationships, referenced by absolute id. A
// method's ID is "<didID>#<fragment>" or "#<fragment>"; an empty
// Controller means didID.
//
// RSA keys and the JsonWebKey types are refused (ErrUnsupportedKey): their
// JSON-LD context (https://w3id.org/security/jwk/v1) is not bundled, and
// every document Sanad writes canonicalizes offline under the bundled DID
// and Multikey contexts.
func NewDocument(didID string, methods []VerificationMethod) (*Document, error) {
	u, err := Parse(didID)
	if err != nil {
		return nil, err
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("%w: %q is a DID URL, not a DID", ErrInvalid, didID)
	}
	if len(methods) > MaxDocumentMethods {
		return nil, fmt.Errorf("%w: more than %d verification methods", ErrInvalidDocument, MaxDocumentMethods)
	}
	d := &Document{Context: []any{ContextDIDV1, ContextMultikeyV1}, ID: didID}
	ed2020 := false
	for _, m := range methods {
		e, err := newMethodEntry(didID, m)
		if err != nil {
			return nil, err
		}
		ed2020 = ed2020 || e.Type == TypeEd25519VerificationKey2020
		d.Methods = append(d.Methods, e)
		for _, rel := range m.Relationships {
			list := d.relationship(rel)
			if list == nil {
				return nil, fmt.Errorf("%w: method %s: unknown relationship %q", ErrInvalidDocument, e.ID, rel)
			}
			if !slices.ContainsFunc(*list, func(r Reference) bool { return r.ID == e.ID }) {
				*list = append(*list, Reference{ID: e.ID})
			}
		}
	}
	if ed2020 {
		d.Context = append(d.Context, ContextEd25519Suite2020V1)
	}
	// What is written must read back: the same checks as ParseDocument.
	if _, err := d.resolve(); err != nil {
		return nil, err
	}
	return d, nil
}

func newMethodEntry(didID string, m VerificationMethod) (MethodEntry, error) {
	id := m.ID
	if strings.HasPrefix(id, "#") {
		id = didID + id
	}
	mu, err := Parse(id)
	if err != nil || mu.Fragment == "" || mu.DID() != didID {
		return MethodEntry{}, fmt.Errorf("%w: method id %q is not a DID URL of %s with a fragment", ErrInvalidDocument, m.ID, didID)
	}
	controller := m.Controller
	if controller == "" {
		controller = didID
	}
	if cu, err := Parse(controller); err != nil || cu.Fragment != "" {
		return MethodEntry{}, fmt.Errorf("%w: method %s: controller %q is not a DID", ErrInvalidDocument, id, controller)
	}
	if m.Key == nil {
		return MethodEntry{}, fmt.Errorf("%w: method %s has no key", ErrInvalid, id)
	}
	if private, err := jwk.IsPrivateKey(m.Key); err != nil || private {
		return MethodEntry{}, fmt.Errorf("%w: method %s: a DID document lists public keys only", ErrPrivateKey, id)
	}
	pub, err := verificationKey(m.Key)
	if err != nil {
		return MethodEntry{}, fmt.Errorf("method %s: %w", id, err)
	}
	e := MethodEntry{ID: id, Controller: controller}
	switch m.Type {
	case "", TypeMultikey:
		e.Type = TypeMultikey
	case TypeEd25519VerificationKey2020:
		if _, ok := pub.(ed25519.PublicKey); !ok {
			return MethodEntry{}, fmt.Errorf("%w: method %s: %s needs an Ed25519 key", ErrUnsupportedKey, id, m.Type)
		}
		e.Type = m.Type
	default:
		return MethodEntry{}, fmt.Errorf("%w: method %s: type %q is not written (Multikey and %s only; the JWK context is not bundled)",
			ErrUnsupportedKey, id, m.Type, TypeEd25519VerificationKey2020)
	}
	if e.PublicKeyMultibase, err = EncodeMultikey(pub); err != nil {
		return MethodEntry{}, fmt.Errorf("method %s has no Multikey encoding: %w", id, err)
	}
	return e, nil
}

// relationship returns the list of the named relationship, nil for an
// unknown name.
func (d *Document) relationship(name string) *[]Reference {
	switch name {
	case AssertionMethod:
		return &d.AssertionMethod
	case Authentication:
		return &d.Authentication
	case CapabilityInvocation:
		return &d.CapabilityInvocation
	case CapabilityDelegation:
		return &d.CapabilityDelegation
	case KeyAgreement:
		return &d.KeyAgreement
	}
	return nil
}

// decodeDocument decodes the members Document holds, by their exact names
// (encoding/json would also match "ID" or "Controller"), without the
// semantic checks of resolve.
func decodeDocument(b []byte) (*Document, error) {
	if len(b) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidDocument, MaxDocumentSize)
	}
	if err := noDuplicateMembers(b); err != nil {
		return nil, err
	}
	m, err := members(b, "DID document")
	if err != nil {
		return nil, err
	}
	d := &Document{}
	if raw, ok := m["@context"]; ok {
		if d.Context, err = decodeContext(raw); err != nil {
			return nil, err
		}
	}
	if d.ID, err = stringMember(m, "id", "document"); err != nil {
		return nil, err
	}
	if raw, ok := m["controller"]; ok {
		if d.Controller, err = stringOrList(raw); err != nil {
			return nil, fmt.Errorf("%w: controller: %v", ErrInvalidDocument, err)
		}
	}
	if raw, ok := m["verificationMethod"]; ok {
		items, err := array(raw, "verificationMethod")
		if err != nil {
			return nil, err
		}
		for i, item := range items {
			e, err := decodeMethod(item)
			if err != nil {
				return nil, fmt.Errorf("verificationMethod[%d]: %w", i, err)
			}
			d.Methods = append(d.Methods, e)
		}
	}
	for _, rel := range relationships {
		raw, ok := m[rel]
		if !ok {
			continue
		}
		items, err := array(raw, rel)
		if err != nil {
			return nil, err
		}
		list := d.relationship(rel)
		for i, item := range items {
			ref, err := decodeReference(item)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", rel, i, err)
			}
			*list = append(*list, ref)
		}
	}
	return d, nil
}

func decodeContext(raw json.RawMessage) ([]any, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%w: @context: %v", ErrInvalidDocument, err)
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	for _, c := range items {
		switch c.(type) {
		case string, map[string]any:
		default:
			return nil, fmt.Errorf("%w: @context entries must be URLs or objects", ErrInvalidDocument)
		}
	}
	return items, nil
}

func decodeReference(raw json.RawMessage) (Reference, error) {
	switch firstByte(raw) {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Reference{}, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
		}
		if s == "" {
			return Reference{}, fmt.Errorf("%w: empty reference", ErrInvalidDocument)
		}
		return Reference{ID: s}, nil
	case '{':
		e, err := decodeMethod(raw)
		if err != nil {
			return Reference{}, err
		}
		return Reference{Method: &e}, nil
	}
	return Reference{}, fmt.Errorf("%w: a relationship entry is a string or an object", ErrInvalidDocument)
}

func decodeMethod(raw json.RawMessage) (MethodEntry, error) {
	m, err := members(raw, "verification method")
	if err != nil {
		return MethodEntry{}, err
	}
	for _, name := range privateMethodMembers {
		if _, ok := m[name]; ok {
			return MethodEntry{}, fmt.Errorf("%w: verification method has %s", ErrPrivateKey, name)
		}
	}
	var e MethodEntry
	for _, f := range []struct {
		name string
		dst  *string
	}{{"id", &e.ID}, {"type", &e.Type}, {"controller", &e.Controller}, {"publicKeyMultibase", &e.PublicKeyMultibase}} {
		if _, ok := m[f.name]; !ok {
			continue
		}
		if *f.dst, err = stringMember(m, f.name, "verification method"); err != nil {
			return MethodEntry{}, err
		}
	}
	if raw, ok := m["publicKeyJwk"]; ok {
		if firstByte(raw) != '{' {
			return MethodEntry{}, fmt.Errorf("%w: publicKeyJwk is not an object", ErrInvalidDocument)
		}
		jm, err := members(raw, "publicKeyJwk")
		if err != nil {
			return MethodEntry{}, err
		}
		for _, name := range privateJWKMembers {
			if _, ok := jm[name]; ok {
				return MethodEntry{}, fmt.Errorf("%w: publicKeyJwk has the private member %q", ErrPrivateKey, name)
			}
		}
		e.PublicKeyJwk = slices.Clone(raw)
	}
	return e, nil
}

// members decodes a JSON object into its members.
func members(raw []byte, what string) (map[string]json.RawMessage, error) {
	if firstByte(raw) != '{' {
		return nil, fmt.Errorf("%w: %s is not a JSON object", ErrInvalidDocument, what)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidDocument, what, err)
	}
	return m, nil
}

func stringMember(m map[string]json.RawMessage, name, what string) (string, error) {
	raw, ok := m[name]
	if !ok {
		return "", fmt.Errorf("%w: %s has no %s", ErrInvalidDocument, what, name)
	}
	var s string
	if firstByte(raw) != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%w: %s %s is not a string", ErrInvalidDocument, what, name)
	}
	return s, nil
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	var s string
	if firstByte(raw) == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	var l []string
	if firstByte(raw) != '[' || json.Unmarshal(raw, &l) != nil {
		return nil, errors.New("not a string or an array of strings")
	}
	return l, nil
}

func array(raw json.RawMessage, name string) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if firstByte(raw) != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, fmt.Errorf("%w: %s is not an array", ErrInvalidDocument, name)
	}
	if len(items) > MaxDocumentMethods {
		return nil, fmt.Errorf("%w: %s has more than %d entries", ErrInvalidDocument, name, MaxDocumentMethods)
	}
	return items, nil
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// noDuplicateMembers refuses JSON with an object that repeats a member
// name, at any depth: encoding/json keeps the last, another parser the
// first, and the two would read different keys from one document.
func noDuplicateMembers(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		keys      map[string]struct{} // nil for an array
		expectKey bool
	}
	var stack []*frame
	value := func() {
		if n := len(stack); n > 0 && stack[n-1].keys != nil {
			stack[n-1].expectKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidDocument, err)
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{keys: map[string]struct{}{}, expectKey: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				value()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].keys != nil && stack[n-1].expectKey {
				top := stack[n-1]
				if _, dup := top.keys[t]; dup {
					return fmt.Errorf("%w: duplicate member %q", ErrInvalidDocument, t)
				}
				top.keys[t] = struct{}{}
				top.expectKey = false
				continue
			}
			value()
		default:
			value()
		}
	}
}

// resolvedDoc is a checked document indexed by absolute method id, with
// the keys decoded: what the did:web cache and the trust list hold.
type resolvedDoc struct {
	id      string
	methods map[string]*resolvedMethod
}

type resolvedMethod struct {
	vm  VerificationMethod
	err error // the method cannot be used: unsupported type or key, malformed key
}

// resolve checks d and indexes its methods.
func (d *Document) resolve() (*resolvedDoc, error) {
	u, err := Parse(d.ID)
	if err != nil || u.Fragment != "" {
		return nil, fmt.Errorf("%w: id %q is not a DID", ErrInvalidDocument, d.ID)
	}
	for _, c := range d.Controller {
		if cu, err := Parse(c); err != nil || cu.Fragment != "" {
			return nil, fmt.Errorf("%w: controller %q is not a DID", ErrInvalidDocument, c)
		}
	}
	n := len(d.Methods)
	for _, rel := range relationships {
		for _, ref := range *d.relationship(rel) {
			if ref.Method != nil {
				n++
			}
		}
	}
	if n > MaxDocumentMethods {
		return nil, fmt.Errorf("%w: more than %d verification methods", ErrInvalidDocument, MaxDocumentMethods)
	}
	r := &resolvedDoc{id: d.ID, methods: make(map[string]*resolvedMethod, n)}
	for i := range d.Methods {
		if _, err := r.add(&d.Methods[i]); err != nil {
			return nil, err
		}
	}
	for _, rel := range relationships {
		for _, ref := range *d.relationship(rel) {
			var m *resolvedMethod
			if ref.Method != nil {
				if m, err = r.add(ref.Method); err != nil {
					return nil, err
				}
			} else {
				id, err := r.absolute(ref.ID)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", rel, err)
				}
				// A reference to another DID's method, or to none, gives
				// nothing in this document.
				m = r.methods[id]
			}
			if m != nil && !m.vm.Has(rel) {
				m.vm.Relationships = append(m.vm.Relationships, rel)
			}
		}
	}
	for _, m := range r.methods {
		slices.SortFunc(m.vm.Relationships, func(a, b string) int {
			return slices.Index(relationships, a) - slices.Index(relationships, b)
		})
	}
	return r, nil
}

// absolute resolves a method id or reference against the document's id:
// it must be a DID URL with a fragment.
func (r *resolvedDoc) absolute(ref string) (string, error) {
	s := ref
	if strings.HasPrefix(s, "#") {
		s = r.id + s
	}
	u, err := Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a DID URL: %v", ErrInvalidDocument, ref, err)
	}
	if u.Fragment == "" {
		return "", fmt.Errorf("%w: %q has no fragment", ErrInvalidDocument, ref)
	}
	return u.String(), nil
}

// add checks a method entry and indexes it. Private key material refuses
// the document; a key that cannot be used refuses the method only.
func (r *resolvedDoc) add(e *MethodEntry) (*resolvedMethod, error) {
	id, err := r.absolute(e.ID)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(id, r.id+"#") {
		return nil, fmt.Errorf("%w: verification method %s is not one of %s", ErrInvalidDocument, id, r.id)
	}
	if _, dup := r.methods[id]; dup {
		return nil, fmt.Errorf("%w: duplicate verification method id %s", ErrInvalidDocument, id)
	}
	if e.Type == "" {
		return nil, fmt.Errorf("%w: verification method %s has no type", ErrInvalidDocument, id)
	}
	if e.Controller == "" {
		return nil, fmt.Errorf("%w: verification method %s has no controller", ErrInvalidDocument, id)
	}
	if cu, err := Parse(e.Controller); err != nil || cu.Fragment != "" {
		return nil, fmt.Errorf("%w: verification method %s: controller %q is not a DID", ErrInvalidDocument, id, e.Controller)
	}
	m := &resolvedMethod{vm: VerificationMethod{ID: id, Type: e.Type, Controller: e.Controller}}
	m.vm.Key, m.err = methodKey(e)
	if errors.Is(m.err, ErrPrivateKey) {
		return nil, fmt.Errorf("verification method %s: %w", id, m.err)
	}
	if m.err != nil {
		m.err = fmt.Errorf("verification method %s: %w", id, m.err)
	}
	r.methods[id] = m
	return m, nil
}

// methodKey decodes the public key of the method types Sanad reads.
func methodKey(e *MethodEntry) (jwk.Key, error) {
	switch e.Type {
	case TypeMultikey, TypeEd25519VerificationKey2020:
		if len(e.PublicKeyJwk) > 0 || e.PublicKeyMultibase == "" {
			return nil, fmt.Errorf("%w: a %s has publicKeyMultibase only", ErrInvalidDocument, e.Type)
		}
		pub, err := DecodeMultikey(e.PublicKeyMultibase)
		if err != nil {
			return nil, err
		}
		if _, ok := pub.(ed25519.PublicKey); !ok && e.Type == TypeEd25519VerificationKey2020 {
			return nil, fmt.Errorf("%w: an %s holds an Ed25519 key", ErrInvalidDocument, e.Type)
		}
		k, err := jwk.Import(pub)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return k, nil
	case TypeJsonWebKey, TypeJsonWebKey2020:
		if len(e.PublicKeyJwk) == 0 || e.PublicKeyMultibase != "" {
			return nil, fmt.Errorf("%w: a %s has publicKeyJwk only", ErrInvalidDocument, e.Type)
		}
		return parsePublicJWK(e.PublicKeyJwk)
	}
	return nil, fmt.Errorf("%w: verification method type %q is not supported", ErrUnsupportedKey, e.Type)
}

// lookup returns the method ref names; a reference to another DID is not
// found.
func (r *resolvedDoc) lookup(ref string) (VerificationMethod, error) {
	id, err := r.absolute(ref)
	if err != nil {
		return VerificationMethod{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	m, ok := r.methods[id]
	if !ok {
		return VerificationMethod{}, fmt.Errorf("%w: %s has no verification method %s", ErrNotFound, r.id, id)
	}
	if m.err != nil {
		return VerificationMethod{}, m.err
	}
	vm := m.vm
	// The cached method is shared: hand out copies.
	vm.Relationships = slices.Clone(vm.Relationships)
	k, err := vm.Key.Clone()
	if err != nil {
		return VerificationMethod{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	vm.Key = k
	return vm, nil
}
