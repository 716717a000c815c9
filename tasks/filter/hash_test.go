package filter

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
	"unicode"
	"unicode/utf8"
)

// References for TextHash and SimHash, written from their definitions rune
// by rune: the words (maximal runs of letters and digits, lower-cased rune
// by rune), each word's hash over its bytes padded to whole eight-byte
// chunks, the word hashes chained in order (TextHash) or voting bit by bit
// (SimHash). The fast paths must give the same values.
func refWords(s string) [][]byte {
	var words [][]byte
	var cur []byte
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			cur = utf8.AppendRune(cur, unicode.ToLower(r))
		} else if cur != nil {
			words, cur = append(words, cur), nil
		}
	}
	if cur != nil {
		words = append(words, cur)
	}
	return words
}

func refWordHash(w []byte) uint64 {
	padded := make([]byte, (len(w)+7)/8*8)
	copy(padded, w)
	st := uint64(wordSeed)
	for i := 0; i < len(padded); i += 8 {
		st = bits.RotateLeft64((st^binary.LittleEndian.Uint64(padded[i:]))*wordMul, 29)
	}
	return wordFinal(st, len(w))
}

func refTextHash(s string) uint64 {
	h := uint64(chainSeed)
	for _, w := range refWords(s) {
		h = bits.RotateLeft64((h^refWordHash(w))*chainMul, 27)
	}
	return h
}

func refSimHash(s string) uint64 {
	var v [64]int
	for _, w := range refWords(s) {
		f := refWordHash(w)
		for b := 0; b < 64; b++ {
			if f&(1<<b) != 0 {
				v[b]++
			} else {
				v[b]--
			}
		}
	}
	var h uint64
	for b := 0; b < 64; b++ {
		if v[b] > 0 {
			h |= 1 << b
		}
	}
	return h
}

func TestHashesMatchReference(t *testing.T) {
	texts, _ := bloggerTexts(t)
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []rune("aZ09 .,!?-_\n\tÉéßİıΣσ日本\u0301\u00a0'@#")
	for i := 0; i < 3000; i++ {
		r := make([]rune, rng.IntN(80))
		for k := range r {
			r[k] = alphabet[rng.IntN(len(alphabet))]
		}
		texts = append(texts, string(r), string([]byte{0xff, 'a', 0xc3}))
	}
	for _, s := range texts {
		if TextHash(s) != refTextHash(s) {
			t.Fatalf("TextHash differs on %q", s)
		}
		if SimHash(s) != refSimHash(s) {
			t.Fatalf("SimHash differs on %q", s)
		}
	}
	long := make([]byte, 0, 1<<20) // > 255 words: lane flushes
	for len(long) < 1<<20 {
		long = append(long, texts[rng.IntN(len(texts))]...)
	}
	if SimHash(string(long)) != refSimHash(string(long)) {
		t.Fatal("SimHash differs on a long text")
	}
}

// FuzzTextHash2 holds TextHash2 to TextHash of the joined string.
func FuzzTextHash2(f *testing.F) {
	f.Add("Title", "Hello,  world!")
	f.Add("", "")
	f.Add("a\xff", "ÉCOLE d'été")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := TextHash2(a, b), TextHash(a+"\n"+b); got != want {
			t.Fatalf("TextHash2(%q, %q) = %x, want %x", a, b, got, want)
		}
	})
}

// FuzzTextHashes2 holds the fused pass to TextHash2 and SimHash of the
// joined string.
func FuzzTextHashes2(f *testing.F) {
	f.Add("Title", "Hello,  world!")
	f.Add("", "")
	f.Add("a\xff", "ÉCOLE d'été")
	f.Add("end", "start")
	f.Add("İstanbul ΣΑΣ", "日本\u0301\u00a0x")
	f.Fuzz(func(t *testing.T, a, b string) {
		exact, sim := TextHashes2(a, b)
		if want := TextHash2(a, b); exact != want {
			t.Fatalf("TextHashes2(%q, %q) exact = %x, want %x", a, b, exact, want)
		}
		if want := refSimHash(a + "\n" + b); sim != want {
			t.Fatalf("TextHashes2(%q, %q) sim = %x, want %x", a, b, sim, want)
		}
	})
}

func TestTextHashesCorpus(t *testing.T) {
	texts, _ := bloggerTexts(t)
	for i, s := range texts {
		title := texts[(i*7)%len(texts)]
		if len(title) > 80 {
			title = title[:80]
		}
		exact, sim := TextHashes2(title, s)
		if exact != refTextHash(title+"\n"+s) || sim != refSimHash(title+"\n"+s) {
			t.Fatalf("TextHashes2 differs on text %d", i)
		}
	}
}

// TestNearDupHashesSmall: the pairwise scan used for few texts marks what
// the banded lookup marks.
func TestNearDupHashesSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 2000; trial++ {
		n := 1 + rng.IntN(64)
		hs := make([]uint64, n)
		for i := range hs {
			if i > 0 && rng.IntN(3) == 0 {
				h := hs[rng.IntN(i)]
				for k := rng.IntN(6); k > 0; k-- {
					h ^= 1 << rng.IntN(64)
				}
				hs[i] = h
			} else {
				hs[i] = rng.Uint64()
			}
		}
		for d := 0; d <= 3; d++ {
			got := NearDupHashes(hs, d)
			want := nearDupBanded(hs, d)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("trial %d, hamming %d: text %d marked %v, banded %v", trial, d, i, got[i], want[i])
				}
			}
		}
	}
}

// nearDupBanded is the banded lookup NearDupHashes uses for many texts,
// run on any number.
func nearDupBanded(hs []uint64, maxHamming int) []bool {
	out := make([]bool, len(hs))
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
			bands[b][uint16(h>>(16*b))] = append(bands[b][uint16(h>>(16*b))], i)
		}
	}
	return out
}

// TestSimAccSum holds simAcc's vote, taken from the bit planes before any
// flush and from the counts after, to plain per-bit counts, for every
// number of words around the flush (255) and with votes near the half.
func TestSimAccSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= 600; n++ {
		for trial := 0; trial < 4; trial++ {
			var a simAcc
			var counts [64]int
			bias := rng.Uint64() // some bits vote one way more often
			for range n {
				w := rng.Uint64()
				if trial&1 == 1 {
					w = w&bias | rng.Uint64()&^bias&rng.Uint64()
				}
				a.add(w)
				for b := range counts {
					counts[b] += int(w >> b & 1)
				}
			}
			var want uint64
			for b, c := range counts {
				if 2*c > n {
					want |= 1 << b
				}
			}
			if got := a.sum(); got != want {
				t.Fatalf("%d words: sum %x, want %x", n, got, want)
			}
		}
	}
}
