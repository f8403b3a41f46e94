package statuslist

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math/bits"
	"sync"
)

// MinPermutationKey is the shortest key NewPermutation accepts (128 bits).
const MinPermutationKey = 16

// permutationRounds is the number of Feistel rounds. Four rounds of a
// pseudorandom function make a strong pseudorandom permutation
// (Luby-Rackoff); eight leave a margin for the small half-widths of short
// lists.
const permutationRounds = 8

// maxPermutationSize bounds Size so both halves fit in 31 bits.
const maxPermutationSize = 1 << 62

// ErrPermutationKey: a permutation key is shorter than MinPermutationKey.
var ErrPermutationKey = errors.New("statuslist: permutation key shorter than 16 bytes")

// Permutation maps allocation counters 0..Size-1 to list indices,
// bijectively and unpredictably without Key.
//
// It is a balanced Feistel network on the smallest even number of bits w
// whose range covers Size (at least 2), with HMAC-SHA256 over (size,
// round, right half) as round function, and cycle walking: the network is
// applied again while the result is not below Size, which keeps the map a
// bijection of [0, Size). Since 2^w < 4*Size, a walk takes fewer than 4
// steps on average. The same key and size always give the same map, so
// only the key and a counter need to be stored. A Permutation is safe for
// concurrent use.
type Permutation struct {
	size uint64
	half uint   // bits in each half
	mask uint64 // (1 << half) - 1
	pool sync.Pool
}

// NewPermutation returns the permutation of [0, size) under key, which
// must be at least MinPermutationKey bytes (a secret of the issuer; with
// it the allocation order can be recomputed).
func NewPermutation(key []byte, size int) (*Permutation, error) {
	if len(key) < MinPermutationKey {
		return nil, ErrPermutationKey
	}
	if size < 1 || uint64(size) > maxPermutationSize {
		return nil, fmt.Errorf("statuslist: permutation size %d is not from 1 to 2^62", size)
	}
	w := uint(bits.Len64(uint64(size - 1)))
	if w < 2 {
		w = 2
	}
	w += w & 1
	p := &Permutation{size: uint64(size), half: w / 2, mask: 1<<(w/2) - 1}
	k := append([]byte(nil), key...)
	p.pool.New = func() any { return &roundState{mac: hmac.New(sha256.New, k)} }
	return p, nil
}

// Size is the number of counters and indices.
func (p *Permutation) Size() int { return int(p.size) }

// roundState is one goroutine's HMAC and buffers.
type roundState struct {
	mac hash.Hash
	in  [17]byte
	sum [sha256.Size]byte
}

// Index returns the list index of allocation counter, in [0, Size).
// A counter outside [0, Size) is ErrRange.
func (p *Permutation) Index(counter int64) (int, error) {
	if counter < 0 || uint64(counter) >= p.size {
		return 0, fmt.Errorf("%w: counter %d of %d", ErrRange, counter, p.size)
	}
	s := p.pool.Get().(*roundState)
	defer p.pool.Put(s)
	binary.BigEndian.PutUint64(s.in[:8], p.size)
	x := uint64(counter)
	for {
		x = p.encrypt(s, x)
		if x < p.size {
			return int(x), nil
		}
	}
}

// encrypt applies the Feistel network to x, a value of 2*half bits.
func (p *Permutation) encrypt(s *roundState, x uint64) uint64 {
	l, r := x>>p.half, x&p.mask
	for round := byte(0); round < permutationRounds; round++ {
		s.in[8] = round
		binary.BigEndian.PutUint64(s.in[9:], r)
		s.mac.Reset()
		s.mac.Write(s.in[:])
		f := binary.BigEndian.Uint64(s.mac.Sum(s.sum[:0])[:8]) & p.mask
		l, r = r, l^f
	}
	return l<<p.half | r
}
