package idrepo

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sanad-id/sanad/idrepo/idgen"
)

func FuzzParseIfMatch(f *testing.F) {
	for _, s := range []string{`"v1"`, `"v123456"`, `W/"v1"`, `*`, `"v"`, `"v-1"`, `"v+1"`, `"v1", "v2"`, ``, `v1`, `"v99999999999999999999"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		v, err := parseIfMatch(h)
		if err == nil && (v < 1 || etag(v) != strings.TrimSpace(h)) {
			t.Errorf("parseIfMatch(%q) = %d, but etag(%d) = %s", h, v, v, etag(v))
		}
	})
}

func FuzzSchemaValidate(f *testing.F) {
	f.Add(`{"fullName":[{"language":"eng","value":"A"}],"dateOfBirth":"1990/01/01"}`)
	f.Add(`{"fullName":"x","photo":{"format":"jpeg","data":"/9j/4AAQ"},"UIN":"1"}`)
	f.Add(`{"city":[{"language":"eng","value":"A"},{"language":"eng","value":"B"}],"phone":"+1 (555) 0100"}`)
	f.Add(`{"photo":{"format":"webp","data":"UklGRgAAAABXRUJQ"}}`)
	f.Add(`{"a/b~c":[1,{"language":null}]}`)
	s := DefaultSchema()
	r := &Repository{schema: s}
	f.Fuzz(func(t *testing.T, doc string) {
		d := json.NewDecoder(strings.NewReader(doc))
		d.UseNumber()
		var m map[string]any
		if d.Decode(&m) != nil || m == nil {
			return
		}
		ident, errs := r.check(m)
		for _, e := range errs {
			if e.Rule == "" || e.Message == "" || (e.Field != "" && e.Field[0] != '/') {
				t.Errorf("malformed field error %+v", e)
			}
		}
		if len(errs) == 0 {
			// A valid identity stays valid once sealed and opened.
			b, err := json.Marshal(ident)
			if err != nil {
				t.Fatal(err)
			}
			var back map[string]any
			dd := json.NewDecoder(bytes.NewReader(b))
			dd.UseNumber()
			if err := dd.Decode(&back); err != nil {
				t.Fatal(err)
			}
			if _, again := r.check(back); len(again) > 0 {
				t.Errorf("valid identity %s invalid after a round trip: %v", b, again)
			}
		}
	})
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+447700900555", "+1 (555) 010-0199", "  +33.6.12 ", "+", "", "+١٢٣٤٥٦٧٨٩"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := NormalizePhone(s)
		if err != nil {
			return
		}
		if again, err := NormalizePhone(p); err != nil || again != p {
			t.Errorf("NormalizePhone(%q) = %q, not a fixed point (%q, %v)", s, p, again, err)
		}
		if !allDigits(p[1:]) || len(p) < 9 || len(p) > 16 {
			t.Errorf("NormalizePhone(%q) = %q, not E.164", s, p)
		}
	})
}

func FuzzClassifyLoginID(f *testing.F) {
	for _, s := range []string{"9169748726", "9169748727", "5892652143502513", "+447700900555", "A@B.org", "", " ", "12345", "+12"} {
		f.Add(s)
	}
	r := &Repository{uinRules: idgen.DefaultUINRules(), vidRules: idgen.DefaultVIDRules()}
	f.Fuzz(func(t *testing.T, s string) {
		kind, value, err := r.classify(s)
		if err != nil {
			if codeOf(err) == "" || strings.HasPrefix(codeOf(err), "not an") {
				t.Errorf("classify(%q) error %v is not an *Error", s, err)
			}
			return
		}
		switch kind {
		case KindUIN:
			if !r.uinRules.ValidChecksum(value) {
				t.Errorf("classify(%q) = UIN %q with a bad check digit", s, value)
			}
		case KindVID:
			if !r.vidRules.ValidChecksum(value) {
				t.Errorf("classify(%q) = VID %q with a bad check digit", s, value)
			}
		case KindPhone, KindEmail:
		default:
			t.Errorf("classify(%q) = kind %q", s, kind)
		}
	})
}

// collect runs an import parser and returns its rows.
func collect(parse func(ctx context.Context, out chan<- importRow) error) ([]importRow, error) {
	out := make(chan importRow)
	var rows []importRow
	done := make(chan struct{})
	go func() {
		for r := range out {
			rows = append(rows, r)
		}
		close(done)
	}()
	err := parse(context.Background(), out)
	close(out)
	<-done
	return rows, err
}

func FuzzImportCSV(f *testing.F) {
	f.Add("fullName#eng,dateOfBirth,uin\nA,1990/01/01,9169748726\n\"B\nB\",x,\n")
	f.Add("photo.format,photo.data\njpeg,AAAA\n")
	f.Add("fullName#eng\n\"unterminated\n")
	f.Add("a.b,a\nx,y\n")
	f.Add("\uFEFFuin,uin\n1,2\n")
	r := &Repository{schema: DefaultSchema()}
	r.schema.properties = nil // accept any column name
	f.Fuzz(func(t *testing.T, data string) {
		parse, err := r.newCSVParser(strings.NewReader(data))
		if err != nil {
			return
		}
		rows, _ := collect(parse)
		last := 0
		for _, row := range rows {
			if row.line <= last {
				t.Errorf("row line %d after %d", row.line, last)
			}
			last = row.line
			if row.identity == nil && len(row.errs) == 0 {
				t.Errorf("line %d: neither an identity nor errors", row.line)
			}
		}
	})
}

func FuzzImportJSONLines(f *testing.F) {
	f.Add("{\"identity\":{\"a\":1}}\n\n{\"identity\":{},\"uin\":\"1\"}\r\n")
	f.Add("{\"identity\":1}\n[]\nnull\n{\"uin\":\"x\"}")
	f.Add("{\"identity\":{}} {}\n{")
	f.Fuzz(func(t *testing.T, data string) {
		rows, err := collect(func(ctx context.Context, out chan<- importRow) error {
			return parseJSONLines(ctx, strings.NewReader(data), out)
		})
		if err != nil {
			t.Fatalf("parseJSONLines: %v", err)
		}
		lines := strings.Count(data, "\n") + 1
		last := 0
		for _, row := range rows {
			if row.line <= last || row.line > lines {
				t.Errorf("row line %d after %d (of %d lines)", row.line, last, lines)
			}
			last = row.line
			if (row.identity == nil) == (len(row.errs) == 0) {
				t.Errorf("line %d: identity %v and errors %v", row.line, row.identity, row.errs)
			}
		}
	})
}
