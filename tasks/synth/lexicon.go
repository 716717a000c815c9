package synth

import (
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// lexicon interns lower-cased words. Each distinct word gets a small id and
// its word-class flags once; the style measures, keywords and topics then
// count by id in slices. They used to look every word occurrence up in up
// to ten maps, with a fresh strings.ToLower copy and per-record count maps,
// which was most of the heuristic backend's remaining time. Nothing here
// changes what is counted: flags are the same set lookups and predicates on
// the same lower-cased string, and no result depends on the ids' values.
//
// A lexicon is kept (in lexiconPool) from one user to the next, so that the
// common words are interned and classified once per worker rather than once
// per user; it is emptied when it grows past maxLexiconWords.
type lexicon struct {
	slots  []lexSlot
	hashes []uint64 // by id
	words  []string // lower-cased, by id
	flags  []uint16 // by id
	trim   []int32  // id of the word without a final "'s"; -1 until needed
	buf    []byte
	// tokenize's words to look up, empty between uses
	pending []pendingWord
	counts  []uint8 // mattrIDs' scratch, all zero between uses

	// Counters by id for the keywords and the topics, empty between uses:
	// their slices grow to the lexicon's size once, not once per user.
	kw, topic wordCounter

	// The scratch slices of a user's pass in measureHistory (its styleAcc
	// and a record's words), empty between uses, kept from one user to
	// the next for the same reason.
	sentLens           []int
	lowerIDs, spanToks []int32
	spans              [][2]int32
	spanCand           []bool
	styleToks, toks    []wordTok
	topicToks          []wordTok   // topicOf's, when it splits the text itself
	titleToks          []wordTok   // a record's title words (measureHistory)
	salientToks        [][]wordTok // salientPicks' word buffers
}

// maxLexiconWords bounds a kept lexicon to a few MB (one per worker, and
// the pipeline's peak RSS budget is 512 MB); common words come back within
// a user or two after it is emptied.
const maxLexiconWords = 1 << 16

// Word-class flags of a lower-cased word.
const (
	flFirstPerson  = 1 << iota // firstPerson
	flContraction              // contraction, or an apostrophe contraction
	flInformal                 // informal
	flLaugh                    // isLaugh
	flArticle                  // articles (the first of these four that applies)
	flPreposition              // prepositions
	flPronoun                  // pronouns
	flInterjection             // interjections
	flContent                  // isContentWord
	flThoughtFP                // a first-person word of IsThoughtSentence
	flThoughtKey               // a word that a thought phrase needs (thoughtKey)
)

func wordFlags(lw string) uint16 {
	var f uint16
	if firstPerson[lw] {
		f |= flFirstPerson
	}
	if contraction[lw] || (strings.Contains(lw, "'") && isContraction(lw)) {
		f |= flContraction
	}
	if informal[lw] {
		f |= flInformal
	}
	if isLaugh(lw) {
		f |= flLaugh
	}
	switch {
	case articles[lw]:
		f |= flArticle
	case prepositions[lw]:
		f |= flPreposition
	case pronouns[lw]:
		f |= flPronoun
	case interjections[lw]:
		f |= flInterjection
	}
	if isContentWord(lw) {
		f |= flContent
	}
	switch lw {
	case "i", "i'm", "im", "i've", "me", "my":
		f |= flThoughtFP
	}
	if thoughtKey(lw) {
		f |= flThoughtKey
	}
	return f
}

var lexiconPool = sync.Pool{New: func() any { return &lexicon{} }}

func getLexicon() *lexicon { return lexiconPool.Get().(*lexicon) }

func putLexicon(l *lexicon) {
	if len(l.words) > maxLexiconWords {
		clear(l.slots)
		l.words, l.hashes, l.flags, l.trim = l.words[:0], l.hashes[:0], l.flags[:0], l.trim[:0]
		l.counts = nil
		l.kw, l.topic = wordCounter{}, wordCounter{}
	}
	lexiconPool.Put(l)
}

// id returns the id of strings.ToLower(w).
func (l *lexicon) id(w string) int32 {
	// ASCII: lower-case into buf while hashing (8 bytes packed into a word
	// per mixing step); only a new word is copied.
	b := l.buf[:0]
	var acc, h, x0 uint64
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			return l.idLower(strings.ToLower(w))
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
		acc = acc<<8 | uint64(c)
		if i&7 == 7 {
			if i == 7 {
				x0 = acc
			}
			h = lexMix(h ^ acc)
			acc = 0
		}
	}
	l.buf = b
	if len(b) < 8 {
		x0 = acc
	}
	return l.lookup(b, lexMix(h^acc^uint64(len(b))<<56), x0) // as idLower hashes
}

func lexMix(h uint64) uint64 {
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// idLower returns the id of an already lower-cased word.
func (l *lexicon) idLower(lw string) int32 {
	var acc, h, x0 uint64
	for i := 0; i < len(lw); i++ {
		acc = acc<<8 | uint64(lw[i])
		if i&7 == 7 {
			if i == 7 {
				x0 = acc
			}
			h = lexMix(h ^ acc)
			acc = 0
		}
	}
	if len(lw) < 8 {
		x0 = acc
	}
	return l.lookup([]byte(lw), lexMix(h^acc^uint64(len(lw))<<56), x0)
}

// lookup finds or adds the word lw with hash h in the open-addressing
// table (a Go map cost twice as much per word). x0 packs the word's first
// 8 bytes (all of them, right-aligned, when it is shorter): with the length
// it identifies a word of up to 8 bytes, most words, so that a lookup
// compares the slot only and does not touch the word's string.
func (l *lexicon) lookup(lw []byte, h, x0 uint64) int32 {
	if len(l.words)*2 >= len(l.slots) {
		l.grow()
	}
	mask := uint64(len(l.slots) - 1)
	n := uint16(min(len(lw), 1<<16-1))
	for i := h & mask; ; i = (i + 1) & mask {
		e := l.slots[i]
		if e.id == 0 {
			l.slots[i] = lexSlot{x0: x0, h: uint16(h >> 48), n: n, id: int32(len(l.words)) + 1}
			return l.add(string(lw), h)
		}
		if e.h == uint16(h>>48) && e.x0 == x0 && e.n == n && (len(lw) <= 8 || l.words[e.id-1] == string(lw)) {
			return e.id - 1
		}
	}
}

// lookupASCII is lookup for a word of ASCII letters, digits and
// apostrophes given as written (w): h and x0 are those of its lower-cased
// bytes, which are built only when the word is new.
func (l *lexicon) lookupASCII(w string, h, x0 uint64) int32 {
	if len(l.words)*2 >= len(l.slots) {
		l.grow()
	}
	mask := uint64(len(l.slots) - 1)
	n := uint16(min(len(w), 1<<16-1))
	for i := h & mask; ; i = (i + 1) & mask {
		e := l.slots[i]
		if e.id == 0 {
			b := l.buf[:0]
			for j := 0; j < len(w); j++ {
				c := w[j]
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				b = append(b, c)
			}
			l.buf = b
			l.slots[i] = lexSlot{x0: x0, h: uint16(h >> 48), n: n, id: int32(len(l.words)) + 1}
			return l.add(string(b), h)
		}
		if e.h == uint16(h>>48) && e.x0 == x0 && e.n == n && (len(w) <= 8 || equalLowerASCII(l.words[e.id-1], w)) {
			return e.id - 1
		}
	}
}

// equalLowerASCII reports whether lw equals the ASCII word w lower-cased.
func equalLowerASCII(lw, w string) bool {
	if len(lw) != len(w) {
		return false
	}
	for j := 0; j < len(w); j++ {
		c := w[j]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lw[j] {
			return false
		}
	}
	return true
}

// lexSlot is a table slot: the word's first bytes, id + 1 (0: empty),
// length and the top of its hash.
type lexSlot struct {
	x0 uint64
	id int32
	h  uint16
	n  uint16
}

func (l *lexicon) grow() {
	old := l.slots
	l.slots = make([]lexSlot, max(2*len(old), 1024))
	mask := uint64(len(l.slots) - 1)
	for _, e := range old {
		if e.id == 0 {
			continue
		}
		h := l.hashes[e.id-1]
		i := h & mask
		for l.slots[i].id != 0 {
			i = (i + 1) & mask
		}
		l.slots[i] = e
	}
}

func (l *lexicon) add(lw string, h uint64) int32 {
	id := int32(len(l.words))
	l.words = append(l.words, lw)
	l.hashes = append(l.hashes, h)
	l.flags = append(l.flags, wordFlags(lw))
	l.trim = append(l.trim, -1)
	return id
}

// trimmed returns the id of strings.TrimSuffix(word, "'s"). It is small
// enough to be inlined into the keyword loop (a call per word was most of
// its cost); the first time for a word goes to trimSlow.
func (l *lexicon) trimmed(id int32) int32 {
	if t := l.trim[id]; t >= 0 {
		return t
	}
	return l.trimSlow(id)
}

func (l *lexicon) trimSlow(id int32) int32 {
	t := id
	if lw := l.words[id]; strings.HasSuffix(lw, "'s") {
		t = l.idLower(lw[:len(lw)-2])
	}
	l.trim[id] = t
	return t
}

// wordCounter counts word ids with their first position, like the
// map[string]int pairs (counts, first) that topWords ranked.
type wordCounter struct {
	n       []int32 // by id; 0 = not seen
	first   []int32
	touched []int32 // ids seen, in first-seen order
}

func (c *wordCounter) add(id int32, pos int) {
	if int(id) >= len(c.n) {
		c.n = append(c.n, make([]int32, int(id)+1-len(c.n))...)
		c.first = append(c.first, make([]int32, int(id)+1-len(c.first))...)
	}
	if c.n[id] == 0 {
		c.first[id] = int32(pos)
		c.touched = append(c.touched, id)
	}
	c.n[id]++
}

func (c *wordCounter) distinct() int { return len(c.touched) }

func (c *wordCounter) reset() {
	for _, id := range c.touched {
		c.n[id] = 0
	}
	c.touched = c.touched[:0]
}

// top is topWords for the counted ids: the k most frequent, ties broken by
// first occurrence then alphabetically. That order is total (each word has
// one first position), so selecting the k best gives what sorting all of
// them and cutting did.
func (c *wordCounter) top(l *lexicon, k int) []wordFreq {
	less := func(a, b wordFreq) bool {
		if a.n != b.n {
			return a.n > b.n
		}
		if a.first != b.first {
			return a.first < b.first
		}
		return a.w < b.w
	}
	if len(c.touched) > 4*k {
		// Keep the best k in a small sorted slice.
		best := make([]wordFreq, 0, k+1)
		for _, id := range c.touched {
			if len(best) == k && int(c.n[id]) < best[k-1].n {
				continue // less by its count alone: no need to read its word
			}
			f := wordFreq{l.words[id], int(c.n[id]), int(c.first[id])}
			if len(best) == k && !less(f, best[k-1]) {
				continue
			}
			i := sort.Search(len(best), func(i int) bool { return less(f, best[i]) })
			best = append(best, wordFreq{})
			copy(best[i+1:], best[i:])
			best[i] = f
			if len(best) > k {
				best = best[:k]
			}
		}
		return best
	}
	all := make([]wordFreq, 0, len(c.touched))
	for _, id := range c.touched {
		all = append(all, wordFreq{l.words[id], int(c.n[id]), int(c.first[id])})
	}
	sort.Slice(all, func(i, j int) bool { return less(all[i], all[j]) })
	if len(all) > k {
		all = all[:k]
	}
	return all
}
