package issuer

// Fixtures of the status list tests: an in-memory storage.StatusLists.
// Names start with "st".

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// stLists is an in-memory storage.StatusLists. Statuses are set with set;
// SetPersonCredentialsStatus records its arguments and answers personCount.
type stLists struct {
	mu       sync.Mutex
	lists    []*storage.StatusList
	statuses map[string]map[int64]string // list id → index → status

	reserves    int   // ReserveStatusIndices calls
	entries     int   // StatusEntries calls
	failReserve error // ReserveStatusIndices fails with it
	// entriesGate, when set, holds StatusEntries until it is closed.
	entriesGate chan struct{}

	personCalls []stPersonCall
	personCount int
}

type stPersonCall struct{ personID, configurationID, from, status string }

var _ storage.StatusLists = (*stLists)(nil)

func (s *stLists) ReserveStatusIndices(_ context.Context, issuer, kind string, n int, size int64, newID string, key []byte) (storage.StatusList, int64, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserves++
	if s.failReserve != nil {
		return storage.StatusList{}, 0, 0, s.failReserve
	}
	if n < 1 || size < 1 || newID == "" || len(key) == 0 {
		return storage.StatusList{}, 0, 0, fmt.Errorf("stLists: bad reservation n=%d size=%d id=%q key=%d bytes", n, size, newID, len(key))
	}
	var open *storage.StatusList
	for _, l := range s.lists {
		if l.Issuer == issuer && l.Kind == kind {
			open = l
		}
	}
	if open == nil || open.Next == open.Size {
		for _, l := range s.lists {
			if l.ID == newID {
				return storage.StatusList{}, 0, 0, storage.ErrAlreadyExists
			}
		}
		open = &storage.StatusList{ID: newID, Issuer: issuer, Kind: kind, Size: size, Key: slices.Clone(key), CreatedAt: time.Now()}
		s.lists = append(s.lists, open)
	}
	first := open.Next
	got := min(int64(n), open.Size-open.Next)
	open.Next += got
	return *open, first, int(got), nil
}

func (s *stLists) list(id string) *storage.StatusList {
	for _, l := range s.lists {
		if l.ID == id {
			return l
		}
	}
	return nil
}

func (s *stLists) GetStatusList(_ context.Context, id string) (storage.StatusList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.list(id); l != nil {
		return *l, nil
	}
	return storage.StatusList{}, storage.ErrNotFound
}

func (s *stLists) ListStatusLists(_ context.Context, issuer, kind string) ([]storage.StatusList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []storage.StatusList
	for _, l := range s.lists {
		if l.Issuer == issuer && (kind == "" || l.Kind == kind) {
			out = append(out, *l)
		}
	}
	return out, nil
}

func (s *stLists) StatusEntries(_ context.Context, id string) ([]storage.StatusEntry, int64, error) {
	s.mu.Lock()
	gate := s.entriesGate
	s.entries++
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.list(id)
	if l == nil {
		return nil, 0, storage.ErrNotFound
	}
	var out []storage.StatusEntry
	for i, st := range s.statuses[id] {
		out = append(out, storage.StatusEntry{Index: i, Status: st})
	}
	slices.SortFunc(out, func(a, b storage.StatusEntry) int { return int(a.Index - b.Index) })
	return out, l.Version, nil
}

func (s *stLists) SetPersonCredentialsStatus(_ context.Context, personID, configurationID, from, status string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.personCalls = append(s.personCalls, stPersonCall{personID, configurationID, from, status})
	return s.personCount, nil
}

// set gives the credential at index of list id status (VALID removes it)
// and bumps the list's version.
func (s *stLists) set(id string, index int64, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.list(id)
	if l == nil {
		return errors.New("stLists: no list " + id)
	}
	if s.statuses == nil {
		s.statuses = map[string]map[int64]string{}
	}
	if s.statuses[id] == nil {
		s.statuses[id] = map[int64]string{}
	}
	if status == storage.CredentialValid {
		delete(s.statuses[id], index)
	} else {
		s.statuses[id][index] = status
	}
	l.Version++
	return nil
}

// add makes a list directly (for lists of another issuer or kind).
func (s *stLists) add(l storage.StatusList) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists = append(s.lists, &l)
}

// counts returns the numbers of ReserveStatusIndices and StatusEntries
// calls.
func (s *stLists) counts() (reserves, entries int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reserves, s.entries
}

// snapshot returns copies of the lists.
func (s *stLists) snapshot() []storage.StatusList {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storage.StatusList, len(s.lists))
	for i, l := range s.lists {
		out[i] = *l
	}
	return out
}
