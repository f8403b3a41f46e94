package idrepo
import ("testing";"syscall";"time";"context";"strings";"sync";"fmt";"github.com/sanad-id/sanad/storage";"github.com/sanad-id/sanad/storage/storagetest")
type timingStore struct{ Store; mu sync.Mutex; d map[string]time.Duration; n map[string]int }
func (s *timingStore) add(k string, t0 time.Time) { s.mu.Lock(); s.d[k]+=time.Since(t0); s.n[k]++; s.mu.Unlock() }
func (s *timingStore) CreateResidents(ctx context.Context, rs []storage.NewResident) error { t0:=time.Now(); err := s.Store.CreateResidents(ctx, rs); k := fmt.Sprintf("create-%v-%d", err==nil, len(rs)); if len(rs) < 400 { k = fmt.Sprintf("create-%v-small", err==nil) }; s.add(k, t0); return err }
func (s *timingStore) AppendAudit(ctx context.Context, es []storage.AuditEntry, f func(*storage.AuditEntry)) ([]storage.AuditEntry, error) { t0:=time.Now(); defer s.add("audit", t0); return s.Store.AppendAudit(ctx, es, f) }
func TestZZTiming(t *testing.T) {
	for _, name := range []string{"postgres"} {
		var db Store
		if name == "sqlite" { db = storagetest.OpenSQLite(t) } else { db = storagetest.OpenPostgres(t) }
		ts := &timingStore{Store: db, d: map[string]time.Duration{}, n: map[string]int{}}
		r := newTestRepo(t, ts)
		data := importCSV(20000)
		var ru0, ru1 syscall.Rusage
		syscall.Getrusage(0, &ru0)
		t0 := time.Now()
		rep, err := r.Import(t.Context(), strings.NewReader(data), FormatCSV, ImportOptions{})
		syscall.Getrusage(0, &ru1)
		cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano())
		fmt.Println(name, rep.Imported, err, time.Since(t0), "cpu", cpu, ts.d, ts.n)
	}
}
