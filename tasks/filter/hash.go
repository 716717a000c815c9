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
	var d dualHasher
	d.init()
	d.write(s)
	return d.simSum()
}

// TextHashes2 returns TextHash2(a, b) and SimHash(a + "\n" + b) from one
// pass over the texts: both hash the same lower-cased letters and digits
// (the pipeline computes them together while reading, and carries the
// SimHash to the per-user near-duplicate check).
func TextHashes2(a, b string) (exact, sim uint64) {
	var d dualHasher
	d.init()
	d.write(a)
	d.endWord()
	d.sep = true // the "\n"
	d.write(b)
	return d.h, d.simSum()
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// dualHasher computes TextHash (h, over the normalised text) and SimHash
// (cur, one FNV-1a per word, fed to sim) in one pass: two independent
// multiply chains that the CPU overlaps.
type dualHasher struct {
	h, cur           uint64
	sep, started, in bool
	sim              simAcc
}

func (d *dualHasher) init() {
	d.h, d.cur = fnvOffset, fnvOffset
}

// endWord ends the current SimHash word, if any.
func (d *dualHasher) endWord() {
	if d.in {
		d.sim.add(d.cur)
		d.cur, d.in = fnvOffset, false
	}
}

func (d *dualHasher) simSum() uint64 {
	d.endWord()
	return d.sim.sum()
}

// alnumLower maps an ASCII letter or digit to its lower-case form, other
// ASCII bytes to 0 and the bytes of longer runes (or invalid ones) to 0xFF.
var alnumLower = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = 0xFF
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			t[c] = byte(c)
		case c >= 'A' && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return
}()

func (d *dualHasher) write(s string) {
	h, cur, sep, started, in := d.h, d.cur, d.sep, d.started, d.in
	for i := 0; i < len(s); {
		lc := alnumLower[s[i]]
		if lc == 0 {
			i++
			if in {
				d.sim.add(cur)
				cur, in = fnvOffset, false
			}
			sep = true
			continue
		}
		var r rune
		var enc [utf8.UTFMax]byte
		var b []byte
		if lc != 0xFF {
			if sep && started {
				h = (h ^ ' ') * fnvPrime
			}
			sep, started, in = false, true, true
			// The rest of an ASCII run of letters and digits.
			h = (h ^ uint64(lc)) * fnvPrime
			cur = (cur ^ uint64(lc)) * fnvPrime
			for i++; i < len(s); i++ {
				lc = alnumLower[s[i]]
				if lc == 0 || lc == 0xFF {
					break
				}
				h = (h ^ uint64(lc)) * fnvPrime
				cur = (cur ^ uint64(lc)) * fnvPrime
			}
			continue
		}
		var size int
		r, size = utf8.DecodeRuneInString(s[i:])
		i += size
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			if in {
				d.sim.add(cur)
				cur, in = fnvOffset, false
			}
			sep = true
			continue
		}
		if sep && started {
			h = (h ^ ' ') * fnvPrime
		}
		sep, started, in = false, true, true
		r = unicode.ToLower(r)
		b = enc[:utf8.EncodeRune(enc[:], r)]
		for _, x := range b {
			h = (h ^ uint64(x)) * fnvPrime
		}
		cur = (cur ^ uint64(r)) * fnvPrime
	}
	d.h, d.cur, d.sep, d.started, d.in = h, cur, sep, started, in
}

// simAcc sums SimHash's per-bit votes over the words' mixed hashes, kept
// bit-sliced: plane[k] holds bit k of all 64 counts, so adding a word's
// hash to every count at once is a ripple-carry add that stops when the
// carry dies out (after two planes on average), instead of 64 separate
// counts. The planes are flushed into ones before a count can pass 255.
type simAcc struct {
	ones       [64]int
	plane      [8]uint64
	n, pending int
}

func (a *simAcc) add(w uint64) {
	// The ripple through all eight planes, unrolled: no branch on where
	// the carry dies out (a mispredicted loop exit at most words), and
	// the planes past that point are left as they are (x^0, x&0).
	c, p := mix(w), &a.plane
	p[0], c = p[0]^c, p[0]&c
	p[1], c = p[1]^c, p[1]&c
	p[2], c = p[2]^c, p[2]&c
	p[3], c = p[3]^c, p[3]&c
	p[4], c = p[4]^c, p[4]&c
	p[5], c = p[5]^c, p[5]&c
	p[6], c = p[6]^c, p[6]&c
	p[7] ^= c
	a.n++
	if a.pending++; a.pending == 255 {
		a.flush()
	}
}

func (a *simAcc) flush() {
	for k, p := range a.plane {
		for ; p != 0; p &= p - 1 {
			a.ones[bits.TrailingZeros64(p)] += 1 << k
		}
	}
	a.plane = [8]uint64{}
	a.pending = 0
}

func (a *simAcc) sum() uint64 {
	a.flush()
	var h uint64
	for b := 0; b < 64; b++ {
		if 2*a.ones[b] > a.n {
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
	hs := make([]uint64, len(texts))
	for i, t := range texts {
		hs[i] = SimHash(t)
	}
	return NearDupHashes(hs, maxHamming)
}

// NearDupHashes is NearDup given the texts' SimHashes.
func NearDupHashes(hs []uint64, maxHamming int) []bool {
	out := make([]bool, len(hs))
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
	if len(hs) <= 64 {
		// Few texts (most users): compare with every earlier kept one,
		// which finds the same pairs as the bands without their maps.
		for i, h := range hs {
			for j := 0; j < i; j++ {
				if !out[j] && bits.OnesCount64(h^hs[j]) <= maxHamming {
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
