package idrepo

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/sanad-id/sanad/storage/sqldb"
)

// badLines returns the bad rows as "line:field:rule" strings.
func badLines(rep ImportReport) []string {
	var out []string
	for _, b := range rep.Bad {
		var parts []string
		for _, e := range b.Errors {
			parts = append(parts, e.Field+":"+e.Rule)
		}
		out = append(out, fmt.Sprintf("%d:%s", b.Line, strings.Join(parts, ",")))
	}
	return out
}

func TestImportCSV(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		r := newTestRepo(t, db)
		if _, err := r.Create(ctx, "t", identityWith("Existing", "+447700900299", "")); err != nil {
			t.Fatal(err)
		}
		csv := "\uFEFFfullName#eng,fullName#fra,dateOfBirth,phone,email,photo.format,uin\n" + // 1
			"Alice One,Alice Un,1990/01/01,+44 7700 900201,Alice@Example.org,,\n" + // 2 good
			"Bob Two,,1990/13/01,+447700900202,,,\n" + // 3 bad date
			"\"Carol\nThree\",,1991/02/03,+447700900203,,,\n" + // 4-5 good, quoted line break
			"Dan Four,,1992/03/04,+447700900201,,,\n" + // 6 phone of line 2
			"Eve Five,,1993/04/05,,,,9169748727\n" + // 7 bad check digit
			"Fay Six,,1994/05/06,,,,9169748726\n" + // 8 good, given UIN
			"Gus Seven,,1995/06/07,,,,9169748726\n" + // 9 UIN of line 8
			"Hal Eight,,1996/07/08\n" + // 10 too few cells
			"Ivy Nine,,1997/08/09,+447700900209,ivy@example.org,,\n" + // 11 good
			"Jo Ten,,1998/09/10,+447700900299,,,\n" + // 12 phone of an existing resident
			"Kim Eleven,,1999/10/11,,,,1234567890\n" + // 13 UIN failing the filters
			",,2000/01/01,,,,\n" + // 14 no name
			"Lee Twelve,,2001/01/01,,,jpeg,\n" // 15 photo without data
		var progress []int
		rep, err := r.Import(ctx, strings.NewReader(csv), FormatCSV, ImportOptions{BatchSize: 4, Workers: 1, Writers: 1,
			Progress: func(done, bad int) { progress = append(progress, done) }})
		if err != nil {
			t.Fatalf("Import: %v", err)
		}
		want := []string{
			"3:/dateOfBirth:format",
			"6:/phone:unique",
			"7:/uin:uin",
			"9:/uin:unique",
			"10::csv",
			"12:/phone:unique",
			"13:/uin:uin",
			"14:/fullName:required",
			"15:/photo/data:required",
		}
		if got := badLines(rep); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("bad rows =\n%v\nwant\n%v", got, want)
		}
		if rep.Imported != 4 {
			t.Errorf("Imported = %d, want 4 (lines 2, 4, 8, 11)", rep.Imported)
		}
		if len(progress) == 0 || progress[len(progress)-1] != 4 {
			t.Errorf("progress = %v, want it to end at 4", progress)
		}
		for _, id := range []string{"+447700900201", "alice@example.org", "+447700900203", "9169748726", "ivy@example.org"} {
			if _, err := r.Lookup(ctx, id); err != nil {
				t.Errorf("Lookup(imported %s) = %v", id, err)
			}
		}
		p, _ := r.Lookup(ctx, "+447700900201")
		names, _ := p.Identity["fullName"].([]any)
		if len(names) != 2 || names[1].(map[string]any)["language"] != "fra" {
			t.Errorf("imported fullName = %v, want eng and fra", names)
		}
		if p, _ := r.Lookup(ctx, "+447700900203"); p.Identity["fullName"].([]any)[0].(map[string]any)["value"] != "Carol\nThree" {
			t.Errorf("quoted cell = %v", p.Identity["fullName"])
		}
		imports := 0
		es, _ := db.ListAudit(ctx, 1, 1000)
		for _, e := range es {
			if e.Action == "identity.import" {
				imports++
				if e.Actor != ImportActor || e.Subject == "" {
					t.Errorf("import audit entry = %+v", e)
				}
			}
		}
		if imports != 4 {
			t.Errorf("%d import audit entries, want 4", imports)
		}
		if rep, _ := VerifyAudit(ctx, db, nil); rep.Problem != nil {
			t.Errorf("VerifyAudit after import: %+v", rep.Problem)
		}
	})
}

func TestImportCSVHeader(t *testing.T) {
	r := &Repository{schema: DefaultSchema()}
	for _, tt := range []struct{ name, header string }{
		{"unknown field", "fullName#eng,dateOfBirth,shoeSize"},
		{"bad language", "fullName#english,dateOfBirth"},
		{"twice", "fullName#eng,fullName#eng"},
		{"empty", "fullName#eng,,dateOfBirth"},
		{"dotted language", "photo.data#eng"},
	} {
		if _, err := r.Import(t.Context(), strings.NewReader(tt.header+"\n"), FormatCSV, ImportOptions{}); err == nil {
			t.Errorf("Import(header %s) = nil error, want one", tt.name)
		}
	}
	if _, err := r.Import(t.Context(), strings.NewReader(""), "xml", ImportOptions{}); err == nil {
		t.Error("Import(xml) = nil error, want one")
	}
}

func TestImportJSONLines(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		r := newTestRepo(t, db)
		good := func(name, phone string) string {
			return mustJSON(map[string]any{"identity": identityWith(name, phone, "")})
		}
		lines := []string{
			good("Ann One", "+447700900301"), // 1
			"",                               // 2 blank
			`{"identity": {"fullName": [{"language": "eng", "value": "Ben"}], "dateOfBirth": "01/01/1990"}}`, // 3
			`{"identity": {"fullName": "Cal"`, // 4 cut short
			`{"identity": {"fullName": [{"language": "eng", "value": "Dee"}], "dateOfBirth": "1990/01/01"}, "uin": "5720347530"}`, // 5 given UIN
			`{"identity": {}, "extra": 1}`,   // 6 unknown member
			`{"uin": "6294731423"}`,          // 7 no identity
			good("Eli Six", "+447700900301"), // 8 phone of line 1
			`{"identity": {"fullName": [{"language": "eng", "value": "Flo"}], "dateOfBirth": "1990/01/01"}} {}`, // 9 two values
			`[1, 2]`, // 10 not an object
			good("Gil Seven", "+447700900307") + "\r", // 11 CRLF
		}
		rep, err := r.Import(ctx, strings.NewReader(strings.Join(lines, "\n")), FormatJSONL, ImportOptions{Workers: 1, Writers: 1})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"3:/dateOfBirth:format",
			"4::json",
			"6::json",
			"7:/identity:required",
			"8:/phone:unique",
			"9::json",
			"10::json",
		}
		if got := badLines(rep); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("bad rows =\n%v\nwant\n%v", got, want)
		}
		if rep.Imported != 3 {
			t.Errorf("Imported = %d, want 3", rep.Imported)
		}
		if p, err := r.Lookup(ctx, "5720347530"); err != nil || p.Identity["fullName"].([]any)[0].(map[string]any)["value"] != "Dee" {
			t.Errorf("Lookup(given UIN) = %+v, %v", p, err)
		}
	})
}

// TestImportManyRows imports a larger file with the default parallelism,
// duplicates spread across batches and writers.
func TestImportManyRows(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		r := newTestRepo(t, db)
		const n = 3000
		var b strings.Builder
		b.WriteString("fullName#eng,fullName#ara,dateOfBirth,phone,email\n")
		for i := range n {
			phone := fmt.Sprintf("+4477009%05d", i)
			if i%500 == 499 {
				phone = "+447700900000" // the phone of row 0
			}
			date := "1990/01/01"
			if i%700 == 699 {
				date = "1990/02/30"
			}
			fmt.Fprintf(&b, "Person %d,شخص %d,%s,%s,p%d@example.org\n", i, i, date, phone, i)
		}
		var mu sync.Mutex
		calls := 0
		rep, err := r.Import(ctx, strings.NewReader(b.String()), FormatCSV, ImportOptions{BatchSize: 250,
			Progress: func(done, bad int) { mu.Lock(); calls++; mu.Unlock() }})
		if err != nil {
			t.Fatal(err)
		}
		dups, invalid := n/500, n/700
		if rep.Imported != n-dups-invalid || len(rep.Bad) != dups+invalid {
			t.Errorf("Import = %d imported, %d bad; want %d and %d", rep.Imported, len(rep.Bad), n-dups-invalid, dups+invalid)
		}
		for i := 1; i < len(rep.Bad); i++ {
			if rep.Bad[i-1].Line >= rep.Bad[i].Line {
				t.Errorf("bad rows not in line order: %d before %d", rep.Bad[i-1].Line, rep.Bad[i].Line)
			}
		}
		if calls < n/250 {
			t.Errorf("Progress called %d times, want at least %d", calls, n/250)
		}
		if ar, _ := VerifyAudit(ctx, db, nil); ar.Problem != nil || ar.Checked != int64(rep.Imported) {
			t.Errorf("VerifyAudit after import = %d entries, problem %+v; want %d intact", ar.Checked, ar.Problem, rep.Imported)
		}
	})
}

func TestImportJSONLinesLongLine(t *testing.T) {
	long := `{"identity": {"x": "` + strings.Repeat("a", maxImportLine) + `"}}`
	data := `{"identity": {}}` + "\n" + long + "\n" + `{"identity": {}}` + "\n" + long
	rows, err := collect(func(ctx context.Context, out chan<- importRow) error {
		return parseJSONLines(ctx, strings.NewReader(data), out)
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%d:%d", r.line, len(r.errs)))
	}
	if want := "1:0 2:1 3:0 4:1"; strings.Join(got, " ") != want {
		t.Errorf("rows (line:errors) = %v, want %s", got, want)
	}
}

func TestLogValuesHoldNoPII(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, nil))
	res := Resident{UIN: "9169748726", ID: "r1", Status: StatusActive, Version: 2, Identity: amina()}
	p := Person{ID: "r1", Status: StatusActive, Identity: amina()}
	v := VIDInfo{VID: "5892652143502513", Type: VIDTemporary, Status: VIDActive}
	log.Info("x", "resident", res, "person", p, "vid", v)
	s := buf.String() + fmt.Sprintf("%v %+v %v %s", res, p, v, DemoResidents()[0])
	for _, n := range piiNeedles(res.UIN, v.VID, DemoResidents()[0].PIN, DemoResidents()[0].UIN) {
		if strings.Contains(s, string(n)) {
			t.Errorf("output %q contains %q", s, n)
		}
	}
}
