package filter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math/bits"
	"sync"
	"unicode"
	"unicode/utf8"
)

// UserHash64 is the stable salted hash of a platform user id:
// the first 8 bytes (big-endian) of HMAC-SHA256(salt, source "\x00" user).
// Different salts give unlinkable ids.
func UserHash64(salt, source, user string) uint64 {
	pool, ok := hmacPools.Load(salt)
	if !ok {
		key := []byte(salt)
		pool, _ = hmacPools.LoadOrStore(salt, &sync.Pool{New: func() any {
			return &userHasher{h: hmac.New(sha256.New, key)}
		}})
	}
	p := pool.(*sync.Pool)
	u := p.Get().(*userHasher)
	u.buf = append(append(append(u.buf[:0], source...), 0), user...)
	u.h.Reset() // back to the keyed state
	u.h.Write(u.buf)
	v := binary.BigEndian.Uint64(u.h.Sum(u.sum[:0]))
	p.Put(u)
	return v
}

// hmacPools caches, per salt, keyed HMAC states (hmac.New costs more than
// hashing a short id).
var hmacPools sync.Map // salt -> *sync.Pool of *userHasher

type userHasher struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// UserHash is UserHash64 as 16 hex digits: the id written to outputs.
func UserHash(salt, source, user string) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], UserHash64(salt, source, user))
	return hex.EncodeToString(b[:])
}

// TextHash is a 64-bit FNV-1a hash of s normalised for exact-duplicate
// detection: letters and digits lower-cased, every run of other characters
// (spaces, punctuation) collapsed to one separator, trimmed at both ends.
// "Hello,  world!" and "hello world" hash the same.
func TextHash(s string) uint64 {
	t := newTextHasher()
	t.write(s)
	return t.h
}

// TextHash2 is TextHash(a + "\n" + b) without building the string (the
// pipeline hashes every record's title and text so).
func TextHash2(a, b string) uint64 {
	t := newTextHasher()
	t.write(a)
	t.sep = true // the "\n"
	t.write(b)
	return t.h
}

// textHasher is TextHash's state, so that a text can be fed in parts.
type textHasher struct {
	h            uint64
	sep, started bool
}

func newTextHasher() textHasher { return textHasher{h: 14695981039346656037} }

func (t *textHasher) write(s string) {
	const prime = 1099511628211
	h, sep, started := t.h, t.sep, t.started
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			default:
				sep = true
				continue
			}
			if sep && started {
				h ^= ' '
				h *= prime
			}
			sep, started = false, true
			h ^= uint64(c)
			h *= prime
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			sep = true
			continue
		}
		if sep && started {
			h ^= ' '
			h *= prime
		}
		sep, started = false, true
		var b [4]byte
		m := utf8.EncodeRune(b[:], unicode.ToLower(r))
		for k := 0; k < m; k++ {
			h ^= uint64(b[k])
			h *= prime
		}
	}
	t.h, t.sep, t.started = h, sep, started
}

// ExactSet is a set of 64-bit hashes in one open-addressing table (8 bytes
// a slot, load factor <= 1/2, so <= 16 bytes an element after growth). The
// zero value is ready to use. Not safe for concurrent use.
type ExactSet struct {
	slots   []uint64
	n       int
	hasZero bool
}

// Add inserts h and reports whether it was new.
func (s *ExactSet) Add(h uint64) bool {
	if h == 0 { // 0 marks an empty slot
		added := !s.hasZero
		s.hasZero = true
		return added
	}
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := mix(h) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return false
		case 0:
			s.slots[i] = h
			s.n++
			return true
		}
	}
}

// Len returns the number of elements.
func (s *ExactSet) Len() int {
	if s.hasZero {
		return s.n + 1
	}
	return s.n
}

func (s *ExactSet) grow() {
	old := s.slots
	size := 1024
	if len(old) > 0 {
		size = 2 * len(old)
	}
	s.slots = make([]uint64, size)
	mask := uint64(size - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := mix(h) & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = h
	}
}

func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// SimHash is a 64-bit SimHash of s over its words (runs of letters and
// digits, lower-cased). Near-identical texts (a word or two edited) have
// hashes at a small Hamming distance.
func SimHash(s string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	// Per-bit counts of 1s over the words' mixed hashes, kept bit-sliced:
	// plane[k] holds bit k of all 64 counts, so adding a word's hash to
	// every count at once is a ripple-carry add that stops when the carry
	// dies out (after two planes on average), instead of 64 separate
	// counts. The planes are flushed into ones before a count can pass 255.
	var ones [64]int
	var plane [8]uint64
	n, pending := 0, 0
	flush := func() {
		for k, p := range plane {
			for ; p != 0; p &= p - 1 {
				ones[bits.TrailingZeros64(p)] += 1 << k
			}
		}
		plane = [8]uint64{}
		pending = 0
	}
	add := func(w uint64) {
		carry := mix(w)
		for k := 0; carry != 0; k++ {
			carry, plane[k] = plane[k]&carry, plane[k]^carry
		}
		n++
		if pending++; pending == 255 {
			flush()
		}
	}
	cur := uint64(offset)
	in := false
	for i := 0; i < len(s); {
		c := s[i]
		var r rune
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			default:
				if in {
					add(cur)
					cur, in = offset, false
				}
				continue
			}
			r = rune(c)
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(s[i:])
			i += size
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				if in {
					add(cur)
					cur, in = offset, false
				}
				continue
			}
			r = unicode.ToLower(r)
		}
		cur ^= uint64(r)
		cur *= prime
		in = true
	}
	if in {
		add(cur)
	}
	flush()
	var h uint64
	for b := 0; b < 64; b++ {
		if 2*ones[b] > n {
			h |= 1 << b
		}
	}
	return h
}

// NearDup marks texts[i] true when an earlier, unmarked text has a SimHash
// within maxHamming bits. Candidates are found through four 16-bit bands
// (by pigeonhole, any pair within 3 bits shares a band), so the cost stays
// near linear; for maxHamming > 3 every pair is compared.
func NearDup(texts []string, maxHamming int) []bool {
	out := make([]bool, len(texts))
	hs := make([]uint64, len(texts))
	for i, t := range texts {
		hs[i] = SimHash(t)
	}
	if maxHamming > 3 {
		for i := range hs {
			for j := 0; j < i; j++ {
				if !out[j] && bits.OnesCount64(hs[i]^hs[j]) <= maxHamming {
					out[i] = true
					break
				}
			}
		}
		return out
	}
	var bands [4]map[uint16][]int
	for b := range bands {
		bands[b] = map[uint16][]int{}
	}
	for i, h := range hs {
	search:
		for b := 0; b < 4; b++ {
			for _, j := range bands[b][uint16(h>>(16*b))] {
				if bits.OnesCount64(h^hs[j]) <= maxHamming {
					out[i] = true
					break search
				}
			}
		}
		if out[i] {
			continue
		}
		for b := 0; b < 4; b++ {
			k := uint16(h >> (16 * b))
			bands[b][k] = append(bands[b][k], i)
		}
	}
	return out
}
