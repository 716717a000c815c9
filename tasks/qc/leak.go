package qc

import (
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/fields"
	"github.com/humanllm/humanllm/tasks"
)

// Leaks reports whether the target is given away by the prompt: its whole
// word sequence appears in the prompt (targets of at least 4 words), or any
// run of n consecutive target words does. Comparison is on lower-cased
// words (strings.ToLower, then split on anything that is not a letter,
// digit or apostrophe), so punctuation and spacing do not matter.
func Leaks(target, prompt string, n int) bool {
	return leaksMessages(target, []tasks.Message{{Content: prompt}}, n)
}

// leaksMessages is Leaks with the prompt given as the messages whose
// contents, joined by "\n", form it. The "\n" is not part of any word, so
// the prompt's words are the messages' words in order and nothing needs to
// be joined.
//
// It used to hash every n-word shingle of the prompt (FNV over the words,
// one map entry each) and probe the target's shingles; now the target's
// words get small integer ids, the prompt is scanned once mapping each of
// its words to an id (or -1 when the target does not have that word), and
// only runs of n in-vocabulary prompt words are compared with the target's
// n-grams (hashed over ids, every hit verified). The answer is the exact
// n-gram match that the FNV version computed up to 64-bit hash collisions.
func leaksMessages(target string, prompt []tasks.Message, n int) bool {
	return leaksPieces(target, prompt, n, nil)
}

// leaksPieces is leaksMessages given the words of some parts of the
// prompt already split (see Checker): pieces, sorted by message and
// offset, not overlapping, each between two '\n' (or an end of its
// message). A word never holds a '\n', so the words of a message are
// those of the text between its pieces and those of the pieces, in order.
func leaksPieces(target string, prompt []tasks.Message, n int, pieces []checkedPiece) bool {
	sc := leakPool.Get().(*leakScratch)
	defer leakPool.Put(sc)
	sc.long.reset()
	sc.addTarget(target, &sc.long)
	return leaksSplit(sc, prompt, n, pieces, &sc.long)
}

// leaksSplit is leaksPieces given the target's words as ids in sc.tids
// (sc.addTarget), the keys of its long words and of those of the pieces
// made by long.
func leaksSplit(sc *leakScratch, prompt []tasks.Message, n int, pieces []checkedPiece, long *longWords) bool {
	tw := len(sc.tids)
	if tw == 0 {
		return false
	}
	if tw < n {
		if tw < 4 {
			return false
		}
		n = tw
	}
	// The target's n-grams are indexed on the first window that needs
	// them (most prompts have no run of n words all of them the target's).
	index := func() {
		if !sc.indexed || sc.n != n {
			sc.indexNgrams(n)
		}
	}

	// A leak is a window of n consecutive prompt words, all of them
	// target words, whose ids are a target n-gram. The prompt's words are
	// keyed first (wordKey: the keys of a piece's words are made once per
	// user); a key is then looked up only when a window needs it,
	// scanning each candidate window from its right end: a word the
	// target lacks rules out every window that holds it, so the search
	// jumps past it. Most prompt words are never looked up, and every
	// all-known window is still checked, as a left-to-right scan of every
	// word would.
	sc.keys = sc.keys[:0]
	for mi := range prompt {
		c := prompt[mi].Content
		pos := 0
		for ; len(pieces) > 0 && pieces[0].msg == mi; pieces = pieces[1:] {
			p := pieces[0]
			sc.keys = sc.appendKeys(sc.keys, c[pos:p.off], long)
			sc.keys = append(sc.keys, p.e.wordKeys(sc, c[p.off:p.end], long)...)
			pos = p.end
		}
		sc.keys = sc.appendKeys(sc.keys, c[pos:], long)
	}
	nw := len(sc.keys)
	sc.pids = slices.Grow(sc.pids[:0], nw)[:nw]
	clear(sc.pids) // unknownID
	id := func(q int) int32 {
		if v := sc.pids[q]; v != unknownID {
			return v
		}
		v := sc.vocabFind(sc.keys[q])
		sc.pids[q] = v
		return v
	}
	for p := 0; p+n <= nw; {
		q := p + n - 1
		for q >= p && id(q) > 0 {
			q--
		}
		if q >= p {
			p = q + 1 // no window holding word q
			continue
		}
		index()
		h := gramHash(sc.pids[p : p+n])
		if sc.hasNgram(sc.pids[p:p+n], h) {
			return true
		}
		for p+n < nw && id(p+n) > 0 {
			h = gramRoll(h, sc.top, sc.pids[p], sc.pids[p+n])
			p++
			if sc.hasNgram(sc.pids[p:p+n], h) {
				return true
			}
		}
		p += n + 1 // past word p+n, unknown (or the end)
	}
	return false
}

// appendKeys appends the keys (wordKey, made with long) of the words of
// s, those wordIter.nextSpan gives one after the other, to keys. A word
// is a maximal run of word runes, so the words are where the class of the
// runes changes: for eight ASCII bytes at a time those changes are the
// bits of one mask, taken in turn, instead of two classifications per
// word; other bytes go rune by rune. A word of at most eight ASCII bytes
// (most words) is keyed here (asciiKey); others by wordKey.
func (sc *leakScratch) appendKeys(keys []uint64, s string, long *longWords) []uint64 {
	in := false // in a word, which starts at start
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			if x := fields.Load8(s, i); x&fields.High == 0 {
				w := wordBytes8(x)
				var prev uint64
				if in {
					prev = 1 << 7
				}
				for b := w ^ (w<<8 | prev); b != 0; b &= b - 1 {
					k := i + fields.FirstByte(b)
					if !in {
						start = k
					} else {
						// asciiKey(s, start, k), written out here: asciiKey
						// is past the inlining budget (TestAppendKeys holds
						// both to the reference keys).
						key := uint64(0)
						if n := k - start; n <= 8 && k >= 8 {
							if x := fields.Load8(s, k-8) >> ((64 - 8*n) & 63); x&fields.High == 0 {
								key = x | fields.Between(x, 'A', 'Z')>>2
							}
						}
						if key == 0 {
							key = sc.wordKey(s, start, k, long)
						}
						keys = append(keys, key)
					}
					in = !in
				}
				i += 8
				continue
			}
		}
		word, size := false, 1
		if c := s[i]; c < utf8.RuneSelf {
			word = wordClass[c] == wcWord
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			word = !(r == utf8.RuneError && size == 1) && (unicode.IsLetter(r) || unicode.IsDigit(r))
		}
		if word != in {
			if word {
				start = i
			} else {
				keys = append(keys, sc.wordKey(s, start, i, long))
			}
			in = word
		}
		i += size
	}
	if in {
		keys = append(keys, sc.wordKey(s, start, len(s), long))
	}
	return keys
}

// asciiKey is wordKey(s, start, end) for a word of at most eight ASCII
// bytes ending at or after byte 8 of s: lower-cased and packed from one
// eight-byte load; ok is false for other words. No key is 0.
func asciiKey(s string, start, end int) (key uint64, ok bool) {
	if n := end - start; n <= 8 && end >= 8 {
		if x := fields.Load8(s, end-8) >> ((64 - 8*n) & 63); x&fields.High == 0 { // n >= 1: the mask only tells the compiler the shift is < 64
			return x | fields.Between(x, 'A', 'Z')>>2, true
		}
	}
	return 0, false
}

// unknownID marks a prompt word not looked up yet (ids start at 1; -1
// is a word the target lacks).
const unknownID = 0

// wordIter yields the words of s exactly as strings.FieldsFunc(
// strings.ToLower(s), not letter/digit/apostrophe) does: their place in s
// and a hash of their lower-cased bytes (lowerWord gives the bytes).
// ToLower maps rune by rune and never changes whether a rune is a letter,
// digit or apostrophe (TestLowerKeepsWordClass checks every rune), so
// classifying the original runes splits the same way; invalid UTF-8 (which
// ToLower turns into U+FFFD) separates words.
//
// The hash packs up to 8 lower-cased bytes into a word and mixes once per
// 8 (then once more with the length), which is several times faster than
// a byte-at-a-time hash: every prompt (most of the output) goes through
// here.
type wordIter struct {
	s string
	i int
}

// asciiWordLower maps an ASCII byte to its lower-case form when it is part
// of a word (letter, digit, apostrophe) and to 0 when it separates words.
var asciiWordLower = func() (t [utf8.RuneSelf]byte) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '\'':
			t[c] = byte(c)
		case c >= 'A' && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return t
}()

func mix(h uint64) uint64 {
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>32
}

func (it *wordIter) next() (start, end int, h uint64, ok bool) {
	start, end, ok = it.nextSpan()
	if !ok {
		return 0, 0, 0, false
	}
	return start, end, hashWord(it.s[start:end]), true
}

// nextSpan is next without the hash: the bounds of the next word. ASCII
// bytes are classified eight at a time (wordBytes8) while eight remain,
// then by one table look-up each (wordClass); only the bytes of longer
// runes are decoded.
func (it *wordIter) nextSpan() (start, end int, ok bool) {
	s, i := it.s, it.i
	// Skip to the word's first rune: the first ASCII word byte or byte of
	// a longer rune (decoded below) of eight.
	for i+8 <= len(s) {
		x := fields.Load8(s, i)
		if m := wordBytes8(x&fields.Low7) | x&fields.High; m != 0 {
			i += fields.FirstByte(m)
			if s[i] < utf8.RuneSelf {
				goto word // an ASCII word byte
			}
			break
		}
		i += 8
	}
	for i < len(s) {
		switch wordClass[s[i]] {
		case wcSep:
			i++
			continue
		case wcWide:
			r, size := utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && size == 1) || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
				i += size
				continue
			}
		}
		break
	}
	if i == len(s) {
		it.i = i
		return 0, 0, false
	}
word:
	start = i
	for i+8 <= len(s) {
		// To the first of eight that is an ASCII separator or a byte of a
		// longer rune (then decoded).
		x := fields.Load8(s, i)
		m := ^wordBytes8(x&fields.Low7)&fields.High | x&fields.High
		if m == 0 {
			i += 8
			continue
		}
		i += fields.FirstByte(m)
		if s[i] < utf8.RuneSelf {
			it.i = i
			return start, i, true
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			it.i = i
			return start, i, true
		}
		i += size
	}
	for i < len(s) {
		switch wordClass[s[i]] {
		case wcWord:
			i++
			continue
		case wcWide:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !(r == utf8.RuneError && size == 1) && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				i += size
				continue
			}
		}
		break
	}
	it.i = i
	return start, i, true
}

// wordBytes8 marks (bit 7 of each byte) the ASCII word bytes of x, eight
// bytes with bit 7 clear: letters (either case, folded by setting bit 5),
// digits and the apostrophe.
func wordBytes8(x uint64) uint64 {
	// fields.Between and fields.Equal, written out so that this inlines.
	const o = 0x0101010101010101
	y := x | 0x20*o
	letter := (y + (0x7f-'a'+1)*o) &^ (y + (0x7f-'z')*o)
	digit := (x + (0x7f-'0'+1)*o) &^ (x + (0x7f-'9')*o)
	t := x ^ '\''*o
	apos := ^((t + 0x7f*o) | t)
	return (letter | digit | apos) & fields.High
}

// Byte classes of nextSpan: an ASCII byte of a word (letter, digit,
// apostrophe), an ASCII byte between words, a byte of a longer rune or an
// invalid one.
const (
	wcWord = iota
	wcSep
	wcWide
)

var wordClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = wcWide
		case asciiWordLower[c] == 0:
			t[c] = wcSep
		}
	}
	return
}()

// hashWord hashes the lower-cased bytes of w, a word of wordIter: up to 8
// bytes are packed into a word and mixed once per 8 (then once more with
// the length), which is several times faster than a byte-at-a-time hash.
func hashWord(w string) uint64 {
	var acc, h uint64
	n := 0
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			acc = acc<<8 | uint64(asciiWordLower[c])
			n++
			if n&7 == 0 {
				h = mix(h ^ acc)
				acc = 0
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(w[i:])
		var b [utf8.UTFMax]byte
		for _, x := range b[:utf8.EncodeRune(b[:], unicode.ToLower(r))] {
			acc = acc<<8 | uint64(x)
			n++
			if n&7 == 0 {
				h = mix(h ^ acc)
				acc = 0
			}
		}
		i += size
	}
	return mix(h ^ acc ^ uint64(n)<<56)
}

// lowerWord appends the lower-cased bytes of w, a word of wordIter, to
// buf: what strings.ToLower makes of it.
func lowerWord(buf []byte, w string) []byte {
	for i := 0; i < len(w); {
		if c := w[i]; c < utf8.RuneSelf {
			buf = append(buf, asciiWordLower[c])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(w[i:])
		buf = utf8.AppendRune(buf, unicode.ToLower(r))
		i += size
	}
	return buf
}

// equalLower reports whether lowerWord(w) equals lw.
func equalLower(w string, lw []byte, buf *[]byte) bool {
	if len(w) == len(lw) {
		ascii := true
		for i := 0; i < len(w); i++ {
			c := w[i]
			if c >= utf8.RuneSelf {
				ascii = false
				break
			}
			if asciiWordLower[c] != lw[i] {
				return false
			}
		}
		if ascii {
			return true
		}
	}
	*buf = lowerWord((*buf)[:0], w)
	return string(*buf) == string(lw)
}

// leakScratch is the reusable state of leaksMessages. Its hash tables are
// not cleared between calls: a slot belongs to the current call only when
// its gen is the call's.
type leakScratch struct {
	gen     uint32
	word    []byte // scratch for lower-casing
	vocab   []vocabSlot
	vstop   []bool   // by id: whether the word is an English function word
	tids    []int32  // target words as ids
	tkeys   []uint64 // target words' keys
	keys    []uint64 // prompt words' keys
	pids    []int32  // prompt words as ids, -1 for words the target lacks, unknownID before a look-up
	grams   []gramSlot
	ggen    uint32 // the current grams' gen
	n       int    // of the grams indexed, when indexed
	indexed bool
	top     uint64    // gramBase^(n-1)
	long    longWords // the long words of Check without a Checker
}

// A word's key (wordKey) is its lower-cased bytes packed into an integer
// (packWord) when they are at most 8 (most words): no word holds a 0
// byte, so the packing is one to one, and its low byte, the word's first,
// is not 0. A longer word's key is its number in a longWords (from 1)
// shifted left by 8: its low byte is 0. Two words have the same key
// exactly when they are the same lower-cased, and the leak check compares
// keys alone.
type vocabSlot struct {
	key uint64
	id  int32
	gen uint32
}

type gramSlot struct {
	h   uint64
	pos int32 // start in tids
	gen uint32
}

var leakPool = sync.Pool{New: func() any { return new(leakScratch) }}

func (sc *leakScratch) reset() {
	sc.tids, sc.pids = sc.tids[:0], sc.pids[:0]
	sc.vstop = append(sc.vstop[:0], false) // ids start at 1
	sc.indexed = false
	sc.gen++
	if sc.gen == 0 { // wrapped: no slot may look current
		clear(sc.vocab)
		sc.gen = 1
	}
	if len(sc.vocab) == 0 {
		sc.vocab = make([]vocabSlot, 256)
	}
}

// addTarget starts a leak check (reset) and gives the target's words
// (those of wordIter) ids, in sc.tids, their keys made with long; it
// returns how many of them are English function words (isStopword),
// which the language check counts: both need each word lower-cased, and
// a word that recurs is looked up in enStop once.
func (sc *leakScratch) addTarget(target string, long *longWords) (stops int) {
	return sc.addTargetPieces(target, long, nil)
}

// addTargetPieces is addTarget given the keys of some parts of the target
// already made (see Checker): pieces of the target, in order, not
// overlapping, each between two '\n' (or an end of it). A word never
// holds a '\n', so the target's words are those of the text between its
// pieces and those of the pieces, in order.
func (sc *leakScratch) addTargetPieces(target string, long *longWords, pieces []checkedPiece) (stops int) {
	sc.reset()
	sc.tkeys = sc.tkeys[:0]
	pos := 0
	for _, p := range pieces {
		sc.tkeys = sc.appendKeys(sc.tkeys, target[pos:p.off], long)
		sc.tkeys = append(sc.tkeys, p.e.wordKeys(sc, target[p.off:p.end], long)...)
		pos = p.end
	}
	sc.tkeys = sc.appendKeys(sc.tkeys, target[pos:], long)
	for _, key := range sc.tkeys {
		id := sc.vocabAdd(key)
		sc.tids = append(sc.tids, id)
		if sc.vstop[id] {
			stops++
		}
	}
	return stops
}

// wordKey is the key of the word s[start:end] (see vocabSlot), made with
// long when it is long.
func (sc *leakScratch) wordKey(s string, start, end int, long *longWords) uint64 {
	if key, ok := asciiKey(s, start, end); ok {
		return key
	}
	n := end - start
	w := s[start:end]
	if isASCII(w) {
		if n <= 8 {
			var x uint64
			for i := n - 1; i >= 0; i-- {
				x = x<<8 | uint64(asciiWordLower[w[i]])
			}
			return x
		}
		return uint64(long.number(w, hashWord(w), &sc.word)) << 8
	}
	sc.word = lowerWord(sc.word[:0], w)
	if len(sc.word) <= 8 {
		return packWord(sc.word)
	}
	return uint64(long.number(w, hashWord(w), &sc.word)) << 8
}

// vocabFind returns the id of the target word with key, -1 if none has it.
func (sc *leakScratch) vocabFind(key uint64) int32 {
	mask := uint64(len(sc.vocab) - 1)
	for i := mix(key) & mask; ; i = (i + 1) & mask {
		e := &sc.vocab[i]
		if e.gen != sc.gen {
			return -1
		}
		if e.key == key {
			return e.id
		}
	}
}

// vocabAdd returns the id of the target word with key, adding it to the
// vocabulary when it is new.
func (sc *leakScratch) vocabAdd(key uint64) int32 {
	if id := sc.vocabFind(key); id > 0 {
		return id
	}
	id := int32(len(sc.vstop))
	if int(id)*2 > len(sc.vocab) {
		old := sc.vocab
		sc.vocab = make([]vocabSlot, 2*len(old))
		for _, e := range old {
			if e.gen == sc.gen {
				sc.vocabInsert(e)
			}
		}
	}
	// Every function word has at most 8 bytes (see stopSet); a long
	// word's key has a low byte 0, which no packed word has.
	sc.vstop = append(sc.vstop, stopSet.has(key))
	sc.vocabInsert(vocabSlot{key: key, id: id, gen: sc.gen})
	return id
}

func (sc *leakScratch) vocabInsert(e vocabSlot) {
	mask := uint64(len(sc.vocab) - 1)
	i := mix(e.key) & mask
	for sc.vocab[i].gen == sc.gen {
		i = (i + 1) & mask
	}
	sc.vocab[i] = e
}

// longWords numbers the distinct words longer than 8 bytes lower-cased,
// from 1: a Checker keeps one per user (the keys of its pieces' words are
// made once), Check one per call. Its table is not cleared on reset: a
// slot is current when its gen is.
type longWords struct {
	gen   uint32
	slots []longSlot
	arena []byte // the words, lower-cased, back to back
	n     int32
}

type longSlot struct {
	h        uint64
	off, len int32
	num      int32
	gen      uint32
}

func (d *longWords) reset() {
	d.arena = d.arena[:0]
	d.n = 0
	d.gen++
	if d.gen == 0 {
		clear(d.slots)
		d.gen = 1
	}
	if len(d.slots) == 0 {
		d.slots = make([]longSlot, 64)
	}
}

// number returns the number of w, a word of wordIter whose lower-cased
// form is longer than 8 bytes, with h its hashWord; buf is scratch.
func (d *longWords) number(w string, h uint64, buf *[]byte) int32 {
	if len(d.slots) == 0 {
		d.reset()
	}
	mask := uint64(len(d.slots) - 1)
	i := h & mask
	for ; d.slots[i].gen == d.gen; i = (i + 1) & mask {
		e := &d.slots[i]
		if e.h == h && equalLower(w, d.arena[e.off:e.off+e.len], buf) {
			return e.num
		}
	}
	if int(d.n+1)*2 > len(d.slots) {
		old := d.slots
		d.slots = make([]longSlot, 2*len(old))
		mask = uint64(len(d.slots) - 1)
		for _, e := range old {
			if e.gen == d.gen {
				k := e.h & mask
				for d.slots[k].gen == d.gen {
					k = (k + 1) & mask
				}
				d.slots[k] = e
			}
		}
		for i = h & mask; d.slots[i].gen == d.gen; i = (i + 1) & mask {
		}
	}
	off := len(d.arena)
	d.arena = lowerWord(d.arena, w)
	d.n++
	d.slots[i] = longSlot{h: h, off: int32(off), len: int32(len(d.arena) - off), num: d.n, gen: d.gen}
	return d.n
}

// The n-gram hash is polynomial in the ids, sum over i of
// ids[i] * gramBase^(n-1-i) (mod 2^64), so that the hash of the next
// window is one step from the last one's (gramRoll) instead of n mixes;
// the table is indexed by mix of it. Collisions are resolved by comparing
// ids.
const gramBase = 0x9e3779b97f4a7c15

// gramHash hashes n word ids (all >= 1).
func gramHash(ids []int32) uint64 {
	var h uint64
	for _, id := range ids {
		h = h*gramBase + uint64(id)
	}
	return h
}

// gramRoll is gramHash of the window one word on: h is the hash of a
// window that starts with id out and out is followed by in; top is
// gramBase^(n-1) (sc.top).
func gramRoll(h, top uint64, out, in int32) uint64 {
	return (h-uint64(out)*top)*gramBase + uint64(in)
}

// indexNgrams puts every n-gram of the target's ids in an open-addressing
// table (load factor <= 1/2).
func (sc *leakScratch) indexNgrams(n int) {
	sc.n, sc.indexed = n, true
	sc.ggen++
	if sc.ggen == 0 { // wrapped: no slot may look current
		clear(sc.grams)
		sc.ggen = 1
	}
	sc.top = 1
	for range n - 1 {
		sc.top *= gramBase
	}
	cnt := len(sc.tids) - n + 1
	size := max(len(sc.grams), 64)
	for size < 2*cnt {
		size *= 2
	}
	if size > len(sc.grams) {
		sc.grams = make([]gramSlot, size)
	}
	mask := uint64(size - 1)
	h := gramHash(sc.tids[:n])
	for p := 0; p < cnt; p++ {
		if p > 0 {
			h = gramRoll(h, sc.top, sc.tids[p-1], sc.tids[p+n-1])
		}
		i := mix(h) & mask
		for sc.grams[i].gen == sc.ggen {
			i = (i + 1) & mask
		}
		sc.grams[i] = gramSlot{h: h, pos: int32(p), gen: sc.ggen}
	}
}

// hasNgram reports whether ids (n of them, hashing to h) is an n-gram of
// the target.
func (sc *leakScratch) hasNgram(ids []int32, h uint64) bool {
	mask := uint64(len(sc.grams) - 1)
	for i := mix(h) & mask; sc.grams[i].gen == sc.ggen; i = (i + 1) & mask {
		g := sc.grams[i]
		if g.h == h && slices.Equal(sc.tids[g.pos:int(g.pos)+sc.n], ids) {
			return true
		}
	}
	return false
}
