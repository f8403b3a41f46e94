package idrepo

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/sanad-id/sanad/storage"
)

// Import formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// ImportActor is the default audit actor of Import.
const ImportActor = "import"

// maxImportLine caps one line of a JSON lines file (a photo makes lines
// long).
const maxImportLine = 4 << 20

// ImportOptions tunes Import.
type ImportOptions struct {
	// BatchSize is how many residents are written per transaction; zero
	// means 500.
	BatchSize int
	// Workers validate and seal rows in parallel; zero means GOMAXPROCS.
	Workers int
	// Writers write batches in parallel; zero means 1. On PostgreSQL 2
	// overlap one batch's round trips with another's; SQLite serialises
	// writers, so more than one only contends for its lock.
	Writers int
	// Actor is the audit actor; "" means ImportActor.
	Actor string
	// Progress, if not nil, is called after every batch with the rows
	// imported and the bad rows so far. Calls do not overlap.
	Progress func(done, bad int)
}

// BadRow is a row Import rejected.
type BadRow struct {
	Line   int // 1-based line of the file where the row starts (the CSV header is line 1)
	Errors []FieldError
}

// ImportReport is what Import did.
type ImportReport struct {
	Imported int
	Bad      []BadRow // in line order
}

// importRow is one parsed row.
type importRow struct {
	line     int
	identity map[string]any
	uin      string // from the file, or ""
	errs     []FieldError
}

// importItem is a row ready to write.
type importItem struct {
	line      int
	ident     map[string]any
	uin       string
	uinGiven  bool
	rec       storage.NewResident
	attempted int // UIN draws so far
}

// Import reads residents from CSV or JSON lines and stores the valid ones,
// each with a new UIN or the one given. Invalid rows are reported with their
// line numbers and do not stop the others; so are rows whose UIN, phone
// number or e-mail address is taken (also by an earlier row of the file).
// Rows are validated and sealed in parallel and written in batches, with one
// audit entry per resident.
//
// CSV: a header line names the columns. A column is a field of the schema
// ("dateOfBirth"), a language of a multi-language field ("fullName#eng",
// "fullName#fra"), a member of an object field ("photo.format",
// "photo.data"), or "uin" for an existing UIN (its check digit and the
// generation filters are checked). Cells are strings; an empty cell leaves
// the field out. JSON lines: one {"identity": {...}, "uin": "..."} per line,
// "uin" optional; blank lines are skipped.
//
// The error reports what stopped the import (an unreadable file, a CSV
// header naming unknown fields, a database failure); the report then says
// what was imported before.
func (r *Repository) Import(ctx context.Context, in io.Reader, format string, opts ImportOptions) (ImportReport, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Writers <= 0 {
		opts.Writers = 1
	}
	if opts.Actor == "" {
		opts.Actor = ImportActor
	}
	var parse func(ctx context.Context, out chan<- importRow) error
	switch format {
	case FormatCSV:
		p, err := r.newCSVParser(in)
		if err != nil {
			return ImportReport{}, err
		}
		parse = p
	case FormatJSONL:
		parse = func(ctx context.Context, out chan<- importRow) error { return parseJSONLines(ctx, in, out) }
	default:
		return ImportReport{}, fmt.Errorf("idrepo: import format must be %q or %q", FormatCSV, FormatJSONL)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	im := &importer{r: r, opts: opts, cancel: cancel, audits: make(chan struct{}, maxAuditsInFlight)}

	rows := make(chan importRow, 4*opts.Workers)
	items := make(chan importItem, 4*opts.BatchSize)
	batches := make(chan []importItem, opts.Writers)

	var parseErr error
	go func() {
		defer close(rows)
		parseErr = parse(ctx, rows)
	}()

	var workers sync.WaitGroup
	for range opts.Workers {
		workers.Go(func() { im.prepare(ctx, rows, items) })
	}
	go func() {
		workers.Wait()
		close(items)
	}()

	go func() {
		defer close(batches)
		batch := make([]importItem, 0, opts.BatchSize)
		for it := range items {
			batch = append(batch, it)
			if len(batch) == opts.BatchSize {
				select {
				case batches <- batch:
				case <-ctx.Done():
					return
				}
				batch = make([]importItem, 0, opts.BatchSize)
			}
		}
		if len(batch) > 0 && ctx.Err() == nil {
			batches <- batch
		}
	}()

	var writers sync.WaitGroup
	for range opts.Writers {
		writers.Go(func() {
			for b := range batches {
				if ctx.Err() != nil {
					continue // drain
				}
				if err := im.write(ctx, b); err != nil {
					cancel(err)
				}
			}
		})
	}
	writers.Wait()
	im.auditing.Wait()
	// Let the parser and the workers see the end (they stop on ctx).
	for range items {
	}

	rep := im.report()
	if err := context.Cause(ctx); err != nil {
		return rep, err
	}
	if parseErr != nil {
		return rep, parseErr
	}
	return rep, nil
}

// importer holds the state shared by an import's goroutines.
type importer struct {
	r      *Repository
	opts   ImportOptions
	cancel context.CancelCauseFunc

	audits   chan struct{} // a semaphore: audit appends in flight
	auditing sync.WaitGroup

	mu       sync.Mutex // guards the counters and the bad rows, and serialises Progress
	imported int
	bad      []BadRow
}

func (im *importer) addBad(line int, errs []FieldError) {
	im.mu.Lock()
	im.bad = append(im.bad, BadRow{Line: line, Errors: errs})
	im.mu.Unlock()
}

func (im *importer) report() ImportReport {
	im.mu.Lock()
	defer im.mu.Unlock()
	bad := slices.Clone(im.bad)
	slices.SortFunc(bad, func(a, b BadRow) int { return a.Line - b.Line })
	return ImportReport{Imported: im.imported, Bad: bad}
}

// prepare validates and seals rows.
func (im *importer) prepare(ctx context.Context, rows <-chan importRow, items chan<- importItem) {
	r := im.r
	for row := range rows {
		if ctx.Err() != nil {
			continue // drain
		}
		if len(row.errs) > 0 {
			im.addBad(row.line, row.errs)
			continue
		}
		ident, ferrs := r.check(row.identity)
		if row.uin != "" {
			if err := r.uinRules.Check(row.uin); err != nil {
				ferrs = append(ferrs, uinFieldError(err))
			}
		}
		if len(ferrs) > 0 {
			im.addBad(row.line, ferrs)
			continue
		}
		it := importItem{line: row.line, ident: ident, uin: row.uin, uinGiven: row.uin != ""}
		if err := im.seal(ctx, &it); err != nil {
			var e *Error
			if errors.As(err, &e) && e.Code == CodeInvalidIdentity {
				im.addBad(row.line, e.Fields)
				continue
			}
			im.cancel(err)
			continue
		}
		select {
		case items <- it:
		case <-ctx.Done():
		}
	}
}

// seal draws a UIN if the row has none and makes the record.
func (im *importer) seal(ctx context.Context, it *importItem) error {
	r := im.r
	if !it.uinGiven {
		uin, err := r.uinGen.Next()
		if err != nil {
			return err
		}
		it.uin = uin
		it.attempted++
	}
	rec, err := r.sealNew(ctx, it.ident, it.uin, r.clock())
	if err != nil {
		return err
	}
	it.rec = rec
	return nil
}

// write stores a batch and audits it. Rows that clash with each other
// (the same UIN or handle) are sorted out first, in memory. If the store
// still refuses the batch, a row clashes with a stored resident: every row
// is checked against the store, the culprits are reported (a drawn UIN is
// drawn again) and the rest written. A batch refused even then (a
// concurrent writer took a key meanwhile) is split in halves down to single
// rows.
func (im *importer) write(ctx context.Context, batch []importItem) error {
	batch, err := im.dedupe(ctx, batch)
	if err != nil {
		return err
	}
	if err := im.create(ctx, batch); !errors.Is(err, storage.ErrAlreadyExists) {
		return err
	}
	// Most often a drawn UIN was issued before (the filters leave few
	// UINs): look at the UINs first, then at everything.
	for _, handles := range []bool{false, true} {
		if batch, err = im.sortOut(ctx, batch, handles); err != nil {
			return err
		}
		if err := im.create(ctx, batch); !errors.Is(err, storage.ErrAlreadyExists) {
			return err
		}
	}
	return im.split(ctx, batch)
}

// create writes a batch in one transaction. It returns
// storage.ErrAlreadyExists, unwrapped, if a key is taken.
func (im *importer) create(ctx context.Context, batch []importItem) error {
	if len(batch) == 0 {
		return nil
	}
	recs := make([]storage.NewResident, len(batch))
	for i := range batch {
		recs[i] = batch[i].rec
	}
	err := im.r.store.CreateResidents(ctx, recs)
	switch {
	case err == nil:
		return im.done(ctx, batch)
	case errors.Is(err, storage.ErrAlreadyExists):
		return storage.ErrAlreadyExists
	}
	return fmt.Errorf("idrepo: import: %w", err)
}

// split writes a batch, halving it while the store refuses it.
func (im *importer) split(ctx context.Context, batch []importItem) error {
	err := im.create(ctx, batch)
	switch {
	case !errors.Is(err, storage.ErrAlreadyExists):
		return err
	case len(batch) == 1:
		return im.writeOne(ctx, batch[0])
	}
	half := len(batch) / 2
	if err := im.split(ctx, batch[:half]); err != nil {
		return err
	}
	return im.split(ctx, batch[half:])
}

// dedupe reports the rows of a batch whose given UIN or handles an earlier
// row of the batch has, and draws again a drawn UIN that an earlier row
// has.
func (im *importer) dedupe(ctx context.Context, batch []importItem) ([]importItem, error) {
	seen := make(map[string]bool, 3*len(batch))
	kept := make([]importItem, 0, len(batch))
	for _, it := range batch {
		for !it.uinGiven && seen["u"+string(it.rec.Resident.UINHash)] {
			if err := im.redraw(ctx, &it); err != nil {
				return nil, err
			}
		}
		var fields []FieldError
		if seen["u"+string(it.rec.Resident.UINHash)] {
			fields = append(fields, errUINTaken)
		}
		for _, h := range it.rec.Handles {
			if seen["h"+string(h.Hash)] {
				fields = append(fields, handleTaken(h.Kind))
			}
		}
		if len(fields) > 0 {
			im.addBad(it.line, fields)
			continue
		}
		seen["u"+string(it.rec.Resident.UINHash)] = true
		for _, h := range it.rec.Handles {
			seen["h"+string(h.Hash)] = true
		}
		kept = append(kept, it)
	}
	return kept, nil
}

// lookupConcurrency is how many lookups sortOut runs at once.
const lookupConcurrency = 8

// sortOut checks every row of a refused batch against the store: rows whose
// given UIN or (if handles) handles are taken are reported, drawn UINs that
// are taken are drawn again.
func (im *importer) sortOut(ctx context.Context, batch []importItem, handles bool) ([]importItem, error) {
	r := im.r
	type verdict struct {
		fields   []FieldError
		uinTaken bool
	}
	verdicts := make([]verdict, len(batch))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	sem := make(chan struct{}, lookupConcurrency)
	for i := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			it := &batch[i]
			var fields []FieldError
			var err error
			if handles {
				fields, err = r.takenHandles(ctx, it.rec.Handles, "")
			}
			if err == nil {
				_, err = r.store.GetResidentByUIN(ctx, it.rec.Resident.UINHash)
				switch {
				case err == nil:
					verdicts[i].uinTaken = true
				case errors.Is(err, storage.ErrNotFound):
					err = nil
				}
			}
			if err != nil {
				mu.Lock()
				firstErr = cmp.Or(firstErr, err)
				mu.Unlock()
				return
			}
			verdicts[i].fields = fields
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("idrepo: import: %w", firstErr)
	}
	kept := make([]importItem, 0, len(batch))
	for i, it := range batch {
		v := verdicts[i]
		if v.uinTaken && it.uinGiven {
			v.fields = append(v.fields, errUINTaken)
		}
		if len(v.fields) > 0 {
			im.addBad(it.line, v.fields)
			continue
		}
		if v.uinTaken {
			if err := im.redraw(ctx, &it); err != nil {
				return nil, err
			}
		}
		kept = append(kept, it)
	}
	return kept, nil
}

// redraw gives a row a new UIN.
func (im *importer) redraw(ctx context.Context, it *importItem) error {
	if it.attempted >= maxIDAttempts {
		return fmt.Errorf("idrepo: import: no free UIN after %d attempts", maxIDAttempts)
	}
	return im.seal(ctx, it)
}

var errUINTaken = FieldError{Field: "/uin", Rule: "unique", Message: "a resident with this UIN exists already"}

func handleTaken(kind string) FieldError {
	return FieldError{Field: "/" + fieldOfKind(kind), Rule: "unique", Message: "is already registered to another resident"}
}

// writeOne finds out why a row was refused and either reports it or retries
// it with a new UIN.
func (im *importer) writeOne(ctx context.Context, it importItem) error {
	r := im.r
	for {
		fields, err := r.takenHandles(ctx, it.rec.Handles, "")
		if err != nil {
			return err
		}
		if it.uinGiven {
			_, err := r.store.GetResidentByUIN(ctx, it.rec.Resident.UINHash)
			switch {
			case err == nil:
				fields = append(fields, errUINTaken)
			case !errors.Is(err, storage.ErrNotFound):
				return err
			}
		}
		if len(fields) > 0 {
			im.addBad(it.line, fields)
			im.progress(0)
			return nil
		}
		// A drawn UIN (or the internal id) was taken: draw again.
		if err := im.redraw(ctx, &it); err != nil {
			return err
		}
		err = r.store.CreateResidents(ctx, []storage.NewResident{it.rec})
		if err == nil {
			return im.done(ctx, []importItem{it})
		}
		if !errors.Is(err, storage.ErrAlreadyExists) {
			return fmt.Errorf("idrepo: import: %w", err)
		}
	}
}

// maxAuditsInFlight bounds the batches whose audit entries are being
// written while the next batch is.
const maxAuditsInFlight = 2

// done audits stored rows, while the writer goes on with the next batch, and
// then reports progress. A failure to audit stops the import.
func (im *importer) done(ctx context.Context, batch []importItem) error {
	entries := make([]storage.AuditEntry, len(batch))
	for i, it := range batch {
		entries[i] = storage.AuditEntry{Actor: im.opts.Actor, Action: "identity.import",
			Subject: it.rec.Resident.ID, Outcome: OutcomeSuccess}
	}
	// Stored rows are audited even if the import is stopping: the wait is
	// short, the appends in flight finish by themselves.
	im.audits <- struct{}{}
	im.auditing.Go(func() {
		defer func() { <-im.audits }()
		if _, err := im.r.audit.Append(context.WithoutCancel(ctx), entries...); err != nil {
			im.cancel(fmt.Errorf("idrepo: import: %w", err))
			return
		}
		im.progress(len(batch))
	})
	return nil
}

func (im *importer) progress(imported int) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.imported += imported
	if im.opts.Progress != nil {
		im.opts.Progress(im.imported, len(im.bad))
	}
}

func uinFieldError(err error) FieldError {
	return FieldError{Field: "/uin", Rule: "uin", Message: "not a valid UIN: " + err.Error()}
}

// csvColumn is what a CSV column holds.
type csvColumn struct {
	path []string // field, then object members
	lang string   // for "field#lang"
	uin  bool
}

// newCSVParser reads and checks the header and returns the row parser.
func (r *Repository) newCSVParser(in io.Reader) (func(ctx context.Context, out chan<- importRow) error, error) {
	cr := csv.NewReader(in)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = 0 // every row as long as the header
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("idrepo: import: CSV header: %w", err)
	}
	cols, err := r.csvColumns(header)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, out chan<- importRow) error {
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return nil
			}
			var row importRow
			var pe *csv.ParseError
			switch {
			case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
				row.line = pe.StartLine
				row.errs = []FieldError{{Rule: "csv", Message: fmt.Sprintf("the row has %d cells, the header %d", len(rec), len(cols))}}
			case errors.As(err, &pe):
				// A quoting error leaves the reader unable to go on reliably.
				return fmt.Errorf("idrepo: import: CSV line %d: %w", pe.Line, pe.Err)
			case err != nil:
				return fmt.Errorf("idrepo: import: %w", err)
			default:
				row.line, _ = cr.FieldPos(0)
				row.identity, row.uin, row.errs = csvIdentity(cols, rec)
			}
			select {
			case out <- row:
			case <-ctx.Done():
				return nil
			}
		}
	}, nil
}

// csvColumns parses the header.
func (r *Repository) csvColumns(header []string) ([]csvColumn, error) {
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\uFEFF") // a byte order mark from a spreadsheet
	}
	known := r.schema.Properties()
	seen := map[string]bool{}
	cols := make([]csvColumn, len(header))
	var errs []error
	for i, h := range header {
		h = strings.TrimSpace(h)
		if seen[h] {
			errs = append(errs, fmt.Errorf("column %d (%q) appears twice", i+1, h))
			continue
		}
		seen[h] = true
		if h == "uin" {
			cols[i] = csvColumn{uin: true}
			continue
		}
		name, lang, multi := strings.Cut(h, "#")
		path := strings.Split(name, ".")
		switch {
		case name == "" || slices.Contains(path, ""):
			errs = append(errs, fmt.Errorf("column %d (%q) names no field", i+1, h))
			continue
		case multi && (!languageCode(lang) || len(path) > 1):
			errs = append(errs, fmt.Errorf("column %d (%q): want field#lang with an ISO 639-3 code, like fullName#eng", i+1, h))
			continue
		case known != nil && !slices.Contains(known, path[0]):
			errs = append(errs, fmt.Errorf("column %d (%q): %s is not a field of the identity schema", i+1, h, path[0]))
			continue
		}
		cols[i] = csvColumn{path: path, lang: lang}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("idrepo: import: CSV header: %w", err)
	}
	return cols, nil
}

// csvIdentity builds an identity from a CSV record.
func csvIdentity(cols []csvColumn, rec []string) (map[string]any, string, []FieldError) {
	ident := map[string]any{}
	var uin string
	var errs []FieldError
	for i, col := range cols {
		v := rec[i]
		if v == "" {
			continue
		}
		if col.uin {
			uin = strings.TrimSpace(v)
			continue
		}
		if col.lang != "" {
			list, _ := ident[col.path[0]].([]any)
			ident[col.path[0]] = append(list, map[string]any{"language": col.lang, "value": v})
			continue
		}
		m := ident
		for _, p := range col.path[:len(col.path)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				if _, taken := m[p]; taken {
					errs = append(errs, FieldError{Field: pointer(col.path), Rule: "csv",
						Message: "the column conflicts with another column of the same field"})
					break
				}
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		last := col.path[len(col.path)-1]
		if _, taken := m[last]; taken {
			errs = append(errs, FieldError{Field: pointer(col.path), Rule: "csv",
				Message: "the column conflicts with another column of the same field"})
			continue
		}
		m[last] = v
	}
	return ident, uin, errs
}

// jsonlRow is one line of a JSON lines import.
type jsonlRow struct {
	Identity map[string]any `json:"identity"`
	UIN      string         `json:"uin"`
}

func parseJSONLines(ctx context.Context, in io.Reader, out chan<- importRow) error {
	br := bufio.NewReaderSize(in, 256<<10)
	for line := 1; ; line++ {
		b, err := readLine(br)
		if err == io.EOF && len(b) == 0 {
			return nil
		}
		if err != nil && err != io.EOF {
			if errors.Is(err, errLineTooLong) {
				row := importRow{line: line, errs: []FieldError{{Rule: "json",
					Message: fmt.Sprintf("the line is longer than %d bytes", maxImportLine)}}}
				select {
				case out <- row:
				case <-ctx.Done():
					return nil
				}
				continue
			}
			return fmt.Errorf("idrepo: import: line %d: %w", line, err)
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		row := importRow{line: line}
		var jr jsonlRow
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		d.DisallowUnknownFields()
		derr := d.Decode(&jr)
		if derr == nil {
			if _, terr := d.Token(); terr != io.EOF {
				derr = errTrailingJSON
			}
		}
		switch {
		case derr != nil:
			row.errs = []FieldError{{Rule: "json", Message: `want {"identity": {...}, "uin": "..."}: ` + jsonErrorText(derr)}}
		case jr.Identity == nil:
			row.errs = []FieldError{{Field: "/identity", Rule: "required", Message: "is required"}}
		default:
			row.identity, row.uin = jr.Identity, jr.UIN
		}
		select {
		case out <- row:
		case <-ctx.Done():
			return nil
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its end; a line over
// maxImportLine is skipped and reported as errLineTooLong.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) <= maxImportLine {
			buf = append(buf, chunk...)
		} else {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			return nil, errLineTooLong
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(buf, "\r\n"), err
	}
}

// errTrailingJSON reports data after a JSON value.
var errTrailingJSON = errors.New("unexpected data after the JSON value")

// jsonErrorText describes a JSON decoding error without quoting the input.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s must not be a JSON %s", te.Field, te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return "unknown member"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON value is cut short"
	case errors.Is(err, io.EOF):
		return "empty"
	case errors.Is(err, errTrailingJSON):
		return err.Error()
	}
	return "malformed JSON"
}
