package filter

import (
	"math/bits"
	"math/rand/v2"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The first implementations of TextHash and SimHash (rune by rune), kept as
// references: the fast paths must give the same values.
func refTextHash(s string) uint64 {
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
func refSimHash(s string) uint64 {
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
