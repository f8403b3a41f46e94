package idrepo

import (
	"bytes"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/sqldb"
	"github.com/sanad-id/sanad/storage/sqlite"
	"github.com/sanad-id/sanad/storage/storagetest"
)

// TestAuditTamperDetected tampers with the audit table directly and checks
// that VerifyAudit names the first damaged entry.
func TestAuditTamperDetected(t *testing.T) {
	tamper := []struct {
		name     string
		sql      []string
		wantSeq  int64
		wantKind string
	}{
		{"intact", nil, 0, ""},
		{"changed", []string{`UPDATE audit SET subject = 'someone-else' WHERE seq = 4`}, 4, AuditChanged},
		{"deleted", []string{`DELETE FROM audit WHERE seq = 4`}, 4, AuditDeleted},
		{"reordered", []string{
			`UPDATE audit SET seq = 1000000 WHERE seq = 4`,
			`UPDATE audit SET seq = 4 WHERE seq = 5`,
			`UPDATE audit SET seq = 5 WHERE seq = 1000000`,
		}, 4, AuditReordered},
	}
	for _, tt := range tamper {
		t.Run(tt.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, db *sqldb.DB) {
				ctx := t.Context()
				r := newTestRepo(t, db)
				res, err := r.Create(ctx, "t", amina())
				if err != nil {
					t.Fatal(err)
				}
				for range 8 {
					if _, err := r.Get(ctx, "t", res.UIN); err != nil {
						t.Fatal(err)
					}
				}
				rep, err := VerifyAudit(ctx, db, nil)
				if err != nil || rep.Problem != nil || rep.Checked != 9 || rep.LastSeq != 9 || len(rep.LastHash) != 32 {
					t.Fatalf("VerifyAudit before tampering = %+v (%+v), %v; want 9 intact entries", rep, rep.Problem, err)
				}
				for _, q := range tt.sql {
					if _, err := db.DB().ExecContext(ctx, q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				rep, err = VerifyAudit(ctx, db, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tt.wantKind == "" {
					if rep.Problem != nil {
						t.Errorf("VerifyAudit = %+v, want intact", rep.Problem)
					}
					return
				}
				if rep.Problem == nil || rep.Problem.Seq != tt.wantSeq || rep.Problem.Kind != tt.wantKind {
					t.Errorf("VerifyAudit after %s = %+v, want %s at %d", tt.name, rep.Problem, tt.wantKind, tt.wantSeq)
				}
			})
		})
	}
}

// TestAuditEntriesNameResidentsByID checks what the audit log records.
func TestAuditEntriesNameResidentsByID(t *testing.T) {
	db := storagetest.OpenSQLite(t)
	ctx := t.Context()
	r := newTestRepo(t, db)
	res, _ := r.Create(ctx, "admin", amina())
	r.Get(ctx, "admin", res.UIN)
	r.Get(ctx, "admin", "2916593705")
	r.Lookup(ctx, "+447700900555")
	es, err := db.ListAudit(ctx, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.AuditEntry{
		{Actor: "admin", Action: "identity.create", Subject: res.ID, Outcome: OutcomeSuccess},
		{Actor: "admin", Action: "identity.read", Subject: res.ID, Outcome: OutcomeSuccess},
		{Actor: "admin", Action: "identity.read", Subject: "", Outcome: OutcomeFailure, Reason: CodeNotFound},
		{Actor: LookupActor, Action: "identity.lookup", Subject: res.ID, Outcome: OutcomeSuccess, Reason: "by phone"},
	}
	if len(es) != len(want) {
		t.Fatalf("%d audit entries, want %d: %+v", len(es), len(want), es)
	}
	for i, w := range want {
		e := es[i]
		if e.Actor != w.Actor || e.Action != w.Action || e.Subject != w.Subject || e.Outcome != w.Outcome || e.Reason != w.Reason {
			t.Errorf("audit entry %d = %+v, want %+v", i+1, e, w)
		}
	}
}

// piiNeedles are the identifying values of a test run, in the forms they
// could leak in.
func piiNeedles(uin string, vids ...string) [][]byte {
	ss := []string{uin, "Amina Testwoman", "Testwoman", "أمينة", "+447700900555", "447700900555",
		"+44 7700 900555", "amina.testwoman@example.org", "Amina.Testwoman@Example.ORG", "1990/05/14"}
	ss = append(ss, vids...)
	var out [][]byte
	for _, s := range ss {
		if s != "" {
			out = append(out, []byte(s))
		}
	}
	return out
}

// exercise creates a resident and uses every operation on it.
func exercise(t *testing.T, r *Repository) (uin string, vids []string) {
	t.Helper()
	ctx := t.Context()
	res, err := r.Create(ctx, "t", amina())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Update(ctx, "t", res.UIN, map[string]any{"postalCode": "10200"}, 1); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{VIDPerpetual, VIDTemporary} {
		v, err := r.CreateVID(ctx, "t", res.UIN, typ)
		if err != nil {
			t.Fatal(err)
		}
		vids = append(vids, v.VID)
		if _, err := r.ResolveVID(ctx, "t", v.VID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.ListVIDs(ctx, "t", res.UIN); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{res.UIN, "+447700900555", "amina.testwoman@example.org", vids[0]} {
		if _, err := r.Lookup(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	return res.UIN, vids
}

func TestEncryptedAtRestSQLite(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "sanad.db"))
	if err != nil {
		t.Fatal(err)
	}
	r := newTestRepo(t, db)
	uin, vids := exercise(t, r)
	r.Close()
	db.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatal("no database files")
	}
	for _, n := range piiNeedles(uin, vids...) {
		if bytes.Contains(all, n) {
			t.Errorf("the SQLite files contain %q", n)
		}
	}
}

func TestEncryptedAtRestPostgres(t *testing.T) {
	db := storagetest.OpenPostgres(t)
	r := newTestRepo(t, db)
	uin, vids := exercise(t, r)
	var dump strings.Builder
	for _, table := range []string{"residents", "handles", "vids", "audit"} {
		rows, err := db.DB().QueryContext(t.Context(), `SELECT row_to_json(t)::text FROM `+table+` t`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			dump.WriteString(s)
			n++
		}
		rows.Close()
		if n == 0 {
			t.Errorf("table %s is empty", table)
		}
	}
	text := dump.String()
	for _, n := range piiNeedles(uin, vids...) {
		// bytea columns are rendered in hex.
		if strings.Contains(text, string(n)) || strings.Contains(text, hex.EncodeToString(n)) {
			t.Errorf("PostgreSQL tables contain %q", n)
		}
	}
}

// TestNoPIIInLogs runs every operation, through the admin API and directly,
// failures included, and checks the logs.
func TestNoPIIInLogs(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		var logs bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		r := newTestRepo(t, db, Config{Logger: log})
		srv := adminServer(t, r, log)

		resp := call(t, srv, "POST", "/v1/identities", mustJSON(map[string]any{"identity": amina()}))
		uin, _ := resp.body["uin"].(string)
		if resp.status != 201 {
			t.Fatalf("POST = %d %s", resp.status, resp.raw)
		}
		call(t, srv, "GET", "/v1/identities/"+uin, "")
		call(t, srv, "PATCH", "/v1/identities/"+uin, `{"identity": {"postalCode": "10200"}}`, "If-Match", `"v1"`)
		call(t, srv, "PATCH", "/v1/identities/"+uin, `{"identity": {"phone": "+44 7700 900555 ext"}}`, "If-Match", `"v2"`)
		call(t, srv, "PATCH", "/v1/identities/"+uin, `{"identity": {"postalCode": "10200"}}`, "If-Match", `"v1"`)
		call(t, srv, "PATCH", "/v1/identities/"+uin, `{"identity": {"postalCode": "10200"}}`)
		call(t, srv, "POST", "/v1/identities", mustJSON(map[string]any{"identity": amina()})) // duplicate
		call(t, srv, "POST", "/v1/identities", `{"identity": {"fullName": "Amina Testwoman", "email": "amina.testwoman@example.org"}}`)
		call(t, srv, "PUT", "/v1/identities/"+uin+"/status", `{"status": "ACTIVE", "reason": "check"}`)
		resp = call(t, srv, "POST", "/v1/identities/"+uin+"/vids", `{"type": "temporary"}`)
		vid, _ := resp.body["vid"].(string)
		call(t, srv, "GET", "/v1/identities/"+uin+"/vids", "")
		call(t, srv, "DELETE", "/v1/vids/"+vid, "")
		call(t, srv, "GET", "/v1/identities/"+uin[:9]+"0", "")
		uin2, vids := exercise2(t, r)

		out := logs.String()
		if !strings.Contains(out, `"route":"/v1/identities/:uin"`) {
			t.Fatalf("the access log was not captured:\n%s", out)
		}
		for _, n := range piiNeedles(uin, append(vids, vid, uin2)...) {
			if bytes.Contains(logs.Bytes(), n) {
				t.Errorf("the logs contain %q", n)
			}
		}
	})
}

// exercise2 runs exercise on a second resident with other handles.
func exercise2(t *testing.T, r *Repository) (string, []string) {
	t.Helper()
	ctx := t.Context()
	res, err := r.Create(ctx, "t", identityWith("Zubeida Logcheck", "+447700900777", "zubeida@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.CreateVID(ctx, "t", res.UIN, VIDTemporary)
	if err != nil {
		t.Fatal(err)
	}
	r.ResolveVID(ctx, "t", v.VID)
	r.Lookup(ctx, v.VID)
	r.Lookup(ctx, "+447700900777")
	r.Lookup(ctx, "zubeida@example.org")
	r.Lookup(ctx, "nobody@example.org")
	return res.UIN, []string{v.VID, "Zubeida", "+447700900777", "zubeida@example.org"}
}
