package filter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"unicode"
	"unicode/utf8"
)

// UserHash64 is the stable salted hash of a platform user id:
// the first 8 bytes (big-endian) of HMAC-SHA256(salt, source "\x00" user).
// Different salts give unlinkable ids.
func UserHash64(salt, source, user string) uint64 {
	m := hmac.New(sha256.New, []byte(salt))
	m.Write([]byte(source))
	m.Write([]byte{0})
	m.Write([]byte(user))
	return binary.BigEndian.Uint64(m.Sum(nil))
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
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	sep := false
	started := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if sep && started {
				h ^= ' '
				h *= prime
			}
			sep = false
			started = true
			r = unicode.ToLower(r)
			var b [4]byte
			n := utf8.EncodeRune(b[:], r)
			for i := 0; i < n; i++ {
				h ^= uint64(b[i])
				h *= prime
			}
		} else {
			sep = true
		}
	}
	return h
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
	var words []uint64
	cur := uint64(14695981039346656037)
	in := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			r = unicode.ToLower(r)
			cur ^= uint64(r)
			cur *= 1099511628211
			in = true
		} else if in {
			words = append(words, cur)
			cur, in = 14695981039346656037, false
		}
	}
	if in {
		words = append(words, cur)
	}
	var v [64]int
	add := func(f uint64) {
		f = mix(f)
		for b := 0; b < 64; b++ {
			if f&(1<<b) != 0 {
				v[b]++
			} else {
				v[b]--
			}
		}
	}
	for _, w := range words {
		add(w)
	}
	var h uint64
	for b := 0; b < 64; b++ {
		if v[b] > 0 {
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
