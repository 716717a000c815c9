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

	"github.com/humanllm/humanllm/internal/fields"
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

// TextHash is a 64-bit hash of s normalised for exact-duplicate detection:
// the sequence of its words, a word being a maximal run of letters and
// digits (unicode.IsLetter, unicode.IsDigit), lower-cased rune by rune
// (unicode.ToLower). Everything else (spaces, punctuation, invalid bytes)
// only separates words, so "Hello,  world!" and "hello world" hash the same.
// Each word is hashed on its own (wordHash) and the word hashes are
// chained in order (chainWord).
func TextHash(s string) uint64 {
	var w wordHasher
	w.init()
	w.write(s)
	return w.h
}

// TextHash2 is TextHash(a + "\n" + b) without building the string (the
// pipeline hashes every record's title and text so): a write ends its last
// word, and the "\n" would have ended it too.
func TextHash2(a, b string) uint64 {
	exact, _ := TextHashes2(a, b)
	return exact
}

// The word hash reads a word's normalised bytes (lower-cased UTF-8) eight
// at a time from the word's first byte, as little-endian words, the last
// one zero-padded: st = rotl((st ^ chunk) * k1, 29) from wordSeed, then
// fmix64(st ^ length). An ASCII word is hashed in place, its chunks
// lower-cased with a few word-wide operations; a word with longer runes is
// normalised into a buffer first, which gives the same chunks.
const (
	wordSeed  = 0x9e3779b97f4a7c15
	wordMul   = 0x87c37b91114253d5
	chainSeed = 0xcbf29ce484222325
	chainMul  = 0x4cf5ad432745937f
)

func wordStep(st, chunk uint64) uint64 {
	return bits.RotateLeft64((st^chunk)*wordMul, 29)
}

func wordFinal(st uint64, n int) uint64 {
	h := st ^ uint64(n)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// chainWord adds a word hash to a text hash: order matters, so "a b" and
// "b a" differ.
func chainWord(h, w uint64) uint64 {
	return bits.RotateLeft64((h^w)*chainMul, 27)
}

// wordHashBytes is the word hash of normalised bytes b.
func wordHashBytes(b []byte) uint64 {
	st := uint64(wordSeed)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		st = wordStep(st, binary.LittleEndian.Uint64(b[i:]))
	}
	if i < len(b) {
		var c uint64
		for k := i; k < len(b); k++ {
			c |= uint64(b[k]) << (8 * (k - i))
		}
		st = wordStep(st, c)
	}
	return wordFinal(st, len(b))
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

// SimHash is a 64-bit SimHash of s over its words (TextHash's words, each
// voting with its word hash). Near-identical texts (a word or two edited) have
// hashes at a small Hamming distance.
func SimHash(s string) uint64 {
	var w wordHasher
	w.init()
	w.write(s)
	return w.sim.sum()
}

// TextHashes2 returns TextHash2(a, b) and SimHash(a + "\n" + b) from one
// pass over the texts: both are made of the same word hashes (the pipeline
// computes them together while reading, and carries the SimHash to the
// per-user near-duplicate check).
func TextHashes2(a, b string) (exact, sim uint64) {
	var w wordHasher
	w.init()
	w.write(a)
	w.write(b)
	return w.h, w.sim.sum()
}

// wordHasher splits text into words and feeds each word's hash to the text
// hash (h) and to SimHash's votes (sim).
type wordHasher struct {
	h   uint64
	sim simAcc
	buf []byte // a word with longer runes, normalised
}

func (w *wordHasher) init() { w.h = chainSeed }

func (w *wordHasher) word(x uint64) {
	w.h = chainWord(w.h, x)
	w.sim.add(x)
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

// asciiWord8 marks (bit 7) the bytes of x that are ASCII letters or digits
// and returns them lower-cased where they are capitals.
func asciiWord8(x uint64) (mask, lower uint64) {
	y := x & fields.Low7
	upper := fields.Between(y, 'A', 'Z')
	mask = (fields.Between(y, '0', '9') | fields.Between(y|0x2020202020202020, 'a', 'z')) &^ (x & fields.High)
	return mask, x | upper>>2
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// write feeds the words of s; a word never continues into the next write.
func (w *wordHasher) write(s string) {
	for i := 0; i < len(s); {
		c := s[i]
		lc := alnumLower[c]
		if lc == 0 {
			i++
			continue
		}
		if lc == 0xFF {
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(r) {
				i += n
				continue
			}
			i = w.slowWord(s, i)
			continue
		}
		// An ASCII word, hashed in place eight bytes at a time.
		start := i
		st := uint64(wordSeed)
		for {
			if i+8 > len(s) {
				var ch uint64
				k := 0
				for ; i < len(s); i++ {
					l := alnumLower[s[i]]
					if l == 0 || l == 0xFF {
						break
					}
					ch |= uint64(l) << (8 * k)
					k++
				}
				if k > 0 {
					st = wordStep(st, ch)
				}
				break
			}
			x := fields.Load8(s, i)
			m, lo := asciiWord8(x)
			if m == fields.High {
				st = wordStep(st, lo)
				i += 8
				continue
			}
			n := fields.FirstByte(^m & fields.High)
			if n > 0 {
				st = wordStep(st, lo&(1<<(8*n)-1))
				i += n
			}
			break
		}
		if i < len(s) && s[i] >= utf8.RuneSelf {
			if r, _ := utf8.DecodeRuneInString(s[i:]); isWordRune(r) {
				// The word goes on with longer runes: normalise it whole.
				i = w.slowWord(s, start)
				continue
			}
		}
		w.word(wordFinal(st, i-start))
	}
}

// slowWord hashes the word that starts at s[i] (a letter or digit) through
// the normalising buffer and returns where it ends.
func (w *wordHasher) slowWord(s string, i int) int {
	b := w.buf[:0]
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			l := alnumLower[c]
			if l == 0 {
				break
			}
			b = append(b, l)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			break
		}
		b = utf8.AppendRune(b, unicode.ToLower(r))
		i += n
	}
	w.buf = b
	w.word(wordHashBytes(b))
	return i
}

// simAcc sums SimHash's per-bit votes over the words' mixed hashes, kept
// bit-sliced: plane[k] holds bit k of all 64 counts, so adding a word's
// hash to every count at once is a ripple-carry add that stops when the
// carry dies out (after two planes on average), instead of 64 separate
// counts. Before a count can pass 255 the planes are added into acc, the
// counts of the words before, bit-sliced too (a full adder per plane;
// 32 planes count up to 2^32-1 words, more than any text here has).
type simAcc struct {
	plane      [8]uint64
	acc        [32]uint64
	n, pending int
}

func (a *simAcc) add(w uint64) {
	// The ripple through all eight planes, unrolled: no branch on where
	// the carry dies out (a mispredicted loop exit at most words), and
	// the planes past that point are left as they are (x^0, x&0). w is a
	// word hash, already finalised (wordFinal): its bits vote as they are.
	c, p := w, &a.plane
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
	var c uint64
	for k, p := range a.plane {
		x := a.acc[k]
		a.acc[k] = x ^ p ^ c
		c = x&p | c&(x^p)
	}
	for k := len(a.plane); c != 0 && k < len(a.acc); k++ {
		a.acc[k], c = a.acc[k]^c, a.acc[k]&c
	}
	a.plane = [8]uint64{}
	a.pending = 0
}

// sum is the vote: bit b is set when more than half the words have it.
func (a *simAcc) sum() uint64 {
	t := uint64(a.n/2 + 1) // 2*count > n: count >= t
	if a.pending == a.n {
		// No flush yet (under 255 words, most texts): the counts are
		// the planes.
		return atLeast(a.plane[:], t)
	}
	a.flush()
	return atLeast(a.acc[:], t)
}

// atLeast marks the counts held bit-sliced in planes (plane k: bit k of
// each) that are at least t, comparing them all at once from the top bit
// down: gt marks the counts already above t on the bits seen, eq those
// equal to it so far.
func atLeast(planes []uint64, t uint64) uint64 {
	if t>>len(planes) != 0 {
		return 0 // t is beyond every count the planes can hold
	}
	gt, eq := uint64(0), ^uint64(0)
	for k := len(planes) - 1; k >= 0; k-- {
		p := planes[k]
		if t>>k&1 != 0 {
			eq &= p
		} else {
			gt |= eq & p
			eq &^= p
		}
	}
	return gt | eq
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
