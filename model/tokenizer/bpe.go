package tokenizer

import (
	"container/heap"
	"fmt"
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"unicode/utf8"
)

// BPEModel is a Hugging Face "BPE" model: a vocabulary, ranked merges and the
// options of tokenizer.json's "model" object. Build one with NewBPEModel; it
// is safe for concurrent use.
type BPEModel struct {
	// Serialized options, kept as read so that a tokenizer.json round trip is
	// faithful (nil = JSON null).
	Dropout                 *float64
	UnkToken                *string
	ContinuingSubwordPrefix *string
	EndOfWordSuffix         *string
	FuseUnk                 bool
	ByteFallback            bool
	IgnoreMerges            bool

	vocab    map[string]int32
	idToTok  []string
	hasID    []bool
	merges   map[uint64]uint64 // pair (a<<32|b) → rank<<32 | merged id
	mergeSeq [][2]string       // merges in rank order, as given
	unkID    int32             // -1 if none

	// Byte-level fast path: byteID[b] is the id of the byte-level rune for
	// byte b (-1 if absent); rawVocab maps raw bytes to the id of the vocab
	// entry whose byte-level decoding they are.
	byteID    [256]int32
	byteLevel bool // every byte has a byteID and no prefix/suffix is set
	rawVocab  map[string]int32
	rawTok    []string // id → raw bytes of a byte-level token ("" if not decodable)
	rawOK     []bool

	cache    wordCache // keyed by the model-level word (after pre-tokenization)
	rawCache wordCache // keyed by raw bytes (byte-level fast path)
}

// NewBPEModel builds a BPE model from a vocabulary (token → id) and merges in
// rank order (first = applied first), validating as Hugging Face does: every
// merge's parts and result must be in the vocabulary. A repeated merge takes
// the rank of its last occurrence. opts may be nil for the defaults; its
// vocabulary and merge fields are ignored.
func NewBPEModel(vocab map[string]int, merges [][2]string, opts *BPEModel) (*BPEModel, error) {
	m := &BPEModel{unkID: -1}
	if opts != nil {
		m.Dropout = opts.Dropout
		m.UnkToken = opts.UnkToken
		m.ContinuingSubwordPrefix = opts.ContinuingSubwordPrefix
		m.EndOfWordSuffix = opts.EndOfWordSuffix
		m.FuseUnk = opts.FuseUnk
		m.ByteFallback = opts.ByteFallback
		m.IgnoreMerges = opts.IgnoreMerges
	}
	if m.Dropout != nil && !(*m.Dropout >= 0 && *m.Dropout <= 1) {
		return nil, fmt.Errorf("bpe: dropout %v outside [0, 1]", *m.Dropout)
	}
	maxID := -1
	for tok, id := range vocab {
		if id < 0 || id > math.MaxInt32 {
			return nil, fmt.Errorf("bpe: token %q has invalid id %d", tok, id)
		}
		maxID = max(maxID, id)
	}
	if maxID >= len(vocab)+1<<16 {
		return nil, fmt.Errorf("bpe: vocabulary of %d tokens has id %d (ids must be nearly dense)", len(vocab), maxID)
	}
	m.vocab = make(map[string]int32, len(vocab))
	m.idToTok = make([]string, maxID+1)
	m.hasID = make([]bool, maxID+1)
	for tok, id := range vocab {
		m.vocab[tok] = int32(id)
		// Several tokens with one id: keep the smallest, for determinism.
		if !m.hasID[id] || tok < m.idToTok[id] {
			m.idToTok[id] = tok
		}
		m.hasID[id] = true
	}
	prefixLen := 0
	if m.ContinuingSubwordPrefix != nil {
		prefixLen = len(*m.ContinuingSubwordPrefix)
	}
	m.merges = make(map[uint64]uint64, len(merges))
	m.mergeSeq = merges
	for rank, mg := range merges {
		a, ok := m.vocab[mg[0]]
		if !ok {
			return nil, fmt.Errorf("bpe: merge %d: token %q not in vocabulary", rank, mg[0])
		}
		b, ok := m.vocab[mg[1]]
		if !ok {
			return nil, fmt.Errorf("bpe: merge %d: token %q not in vocabulary", rank, mg[1])
		}
		right := mg[1]
		if prefixLen > 0 && len(right) >= prefixLen {
			right = right[prefixLen:]
		}
		id, ok := m.vocab[mg[0]+right]
		if !ok {
			return nil, fmt.Errorf("bpe: merge %d: result %q not in vocabulary", rank, mg[0]+right)
		}
		m.merges[pairKey(a, b)] = uint64(rank)<<32 | uint64(uint32(id))
	}
	if m.UnkToken != nil {
		if id, ok := m.vocab[*m.UnkToken]; ok {
			m.unkID = id
		}
	}
	m.byteLevel = (m.ContinuingSubwordPrefix == nil || *m.ContinuingSubwordPrefix == "") &&
		(m.EndOfWordSuffix == nil || *m.EndOfWordSuffix == "")
	for b := range 256 {
		id, ok := m.vocab[byteToUTF8[b]]
		if !ok {
			id = -1
			m.byteLevel = false
		}
		m.byteID[b] = id
	}
	if m.byteLevel {
		m.rawVocab = make(map[string]int32, len(m.vocab))
		for tok, id := range m.vocab {
			if raw, ok := ByteLevelDecode(tok); ok {
				if old, dup := m.rawVocab[raw]; !dup || id < old {
					m.rawVocab[raw] = id
				}
			}
		}
	}
	m.rawTok = make([]string, len(m.idToTok))
	m.rawOK = make([]bool, len(m.idToTok))
	for id, tok := range m.idToTok {
		if m.hasID[id] {
			m.rawTok[id], m.rawOK[id] = ByteLevelDecode(tok)
		}
	}
	m.cache.init()
	m.rawCache.init()
	return m, nil
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// VocabSize is the largest id plus one.
func (m *BPEModel) VocabSize() int { return len(m.idToTok) }

// Len is the number of vocabulary entries.
func (m *BPEModel) Len() int { return len(m.vocab) }

// TokenID returns the id of a vocabulary token.
func (m *BPEModel) TokenID(tok string) (int, bool) {
	id, ok := m.vocab[tok]
	return int(id), ok
}

// Token returns the vocabulary token of an id.
func (m *BPEModel) Token(id int) (string, bool) {
	if id < 0 || id >= len(m.idToTok) || !m.hasID[id] {
		return "", false
	}
	return m.idToTok[id], true
}

// Merges returns the merges in rank order.
func (m *BPEModel) Merges() [][2]string { return m.mergeSeq }

// Vocab returns a copy of the vocabulary.
func (m *BPEModel) Vocab() map[string]int {
	v := make(map[string]int, len(m.vocab))
	for t, id := range m.vocab {
		v[t] = int(id)
	}
	return v
}

// appendRawBytes encodes the raw bytes of one pre-token chunk with the
// byte-level fast path (requires m.byteLevel): equivalent to mapping every
// byte to its byte-level rune and tokenizing the result as a word.
func (m *BPEModel) appendRawBytes(dst []int, chunk string, sc *scratch) []int {
	if len(chunk) == 1 {
		return append(dst, int(m.byteID[chunk[0]]))
	}
	if m.IgnoreMerges {
		if id, ok := m.rawVocab[chunk]; ok {
			return append(dst, int(id))
		}
	}
	if ids, ok := m.rawCache.get(chunk); ok {
		for _, id := range ids {
			dst = append(dst, int(id))
		}
		return dst
	}
	sym := sc.sym[:0]
	for i := 0; i < len(chunk); i++ {
		sym = append(sym, m.byteID[chunk[i]])
	}
	sym = m.mergeAll(sym, sc)
	sc.sym = sym
	if len(chunk) <= maxCachedWord {
		m.rawCache.put(chunk, sym)
	}
	for _, id := range sym {
		dst = append(dst, int(id))
	}
	return dst
}

// appendWord tokenizes one pre-token (in the model's alphabet, e.g. already
// byte-level mapped) as Hugging Face's BPE::tokenize does.
func (m *BPEModel) appendWord(dst []int, word string, sc *scratch) []int {
	if word == "" {
		return dst
	}
	if m.IgnoreMerges {
		if id, ok := m.vocab[word]; ok {
			return append(dst, int(id))
		}
	}
	if ids, ok := m.cache.get(word); ok {
		for _, id := range ids {
			dst = append(dst, int(id))
		}
		return dst
	}
	sym := m.wordSymbols(word, sc.sym[:0])
	sym = m.mergeAll(sym, sc)
	sc.sym = sym
	if len(word) <= maxCachedWord {
		m.cache.put(word, sym)
	}
	for _, id := range sym {
		dst = append(dst, int(id))
	}
	return dst
}

// wordSymbols splits a word into initial symbols (BPE::merge_word): one per
// character, with the continuing-subword prefix and end-of-word suffix,
// falling back to <0xHH> byte tokens or the (optionally fused) unknown token;
// a character with neither is dropped. Invalid UTF-8 bytes are characters of
// one byte.
func (m *BPEModel) wordSymbols(w string, sym []int32) []int32 {
	unk := int32(-1)
	for i := 0; i < len(w); {
		_, size := utf8.DecodeRuneInString(w[i:])
		s := w[i : i+size]
		if i > 0 && m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
			s = *m.ContinuingSubwordPrefix + s
		}
		if i+size == len(w) && m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
			s += *m.EndOfWordSuffix
		}
		i += size
		if id, ok := m.vocab[s]; ok {
			if unk >= 0 {
				sym = append(sym, unk)
				unk = -1
			}
			sym = append(sym, id)
			continue
		}
		if m.ByteFallback {
			n := len(sym)
			all := true
			for j := 0; j < len(s); j++ {
				id, ok := m.vocab[byteToken(s[j])]
				if !ok {
					all = false
					break
				}
				sym = append(sym, id)
			}
			if all {
				continue
			}
			sym = sym[:n]
		}
		if m.unkID >= 0 {
			if unk >= 0 && !m.FuseUnk {
				sym = append(sym, unk)
			}
			unk = m.unkID
		}
	}
	if unk >= 0 {
		sym = append(sym, unk)
	}
	return sym
}

var byteTokens [256]string

func init() {
	for b := range 256 {
		byteTokens[b] = fmt.Sprintf("<0x%02X>", b)
	}
}

// byteToken is the byte-fallback token of b, "<0xHH>".
func byteToken(b byte) string { return byteTokens[b] }

// scratch holds reusable buffers for one encoding call.
type scratch struct {
	sym   []int32
	ranks []uint64
	spans []span
	next  []int32
	prev  []int32
	h     mergeHeap
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

const noMerge = math.MaxUint64

// linearMergeMax is the word length up to which mergeAll rescans an array of
// pair ranks; longer words use a heap.
const linearMergeMax = 48

// mergeAll applies the merges to sym, lowest rank first and, among equal
// ranks, leftmost first (the order of Hugging Face's Word::merge_all, and for
// well-formed merge lists the same result as GPT-2's bpe()).
func (m *BPEModel) mergeAll(sym []int32, sc *scratch) []int32 {
	if len(sym) < 2 {
		return sym
	}
	if len(sym) > linearMergeMax {
		return m.mergeHeap(sym, sc)
	}
	ranks := sc.ranks[:0]
	for i := 0; i+1 < len(sym); i++ {
		ranks = append(ranks, m.pairRank(sym[i], sym[i+1]))
	}
	for {
		best, bi := uint64(noMerge), -1
		for i, r := range ranks {
			if r < best {
				best, bi = r, i
			}
		}
		if bi < 0 {
			break
		}
		sym[bi] = int32(uint32(best))
		copy(sym[bi+1:], sym[bi+2:])
		sym = sym[:len(sym)-1]
		copy(ranks[bi:], ranks[bi+1:])
		ranks = ranks[:len(ranks)-1]
		if bi > 0 {
			ranks[bi-1] = m.pairRank(sym[bi-1], sym[bi])
		}
		if bi < len(ranks) {
			ranks[bi] = m.pairRank(sym[bi], sym[bi+1])
		}
	}
	sc.ranks = ranks
	return sym
}

// pairRank returns rank<<32|merged id for a mergeable pair, else noMerge.
func (m *BPEModel) pairRank(a, b int32) uint64 {
	if v, ok := m.merges[pairKey(a, b)]; ok {
		return v
	}
	return noMerge
}

type mergeEntry struct {
	rank uint64 // rank<<32 | new id
	pos  int32
}

type mergeHeap []mergeEntry

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if h[i].rank>>32 != h[j].rank>>32 {
		return h[i].rank < h[j].rank
	}
	return h[i].pos < h[j].pos
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeEntry)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// mergeHeap is mergeAll for long words: a linked list of symbols and a
// priority queue of candidate merges (rank, position), validated when popped.
func (m *BPEModel) mergeHeap(sym []int32, sc *scratch) []int32 {
	n := len(sym)
	next, prev := sc.next[:0], sc.prev[:0]
	for i := range n {
		next = append(next, int32(i+1))
		prev = append(prev, int32(i-1))
	}
	next[n-1] = -1
	alive := func(i int32) bool { return sym[i] >= 0 }
	h := sc.h[:0]
	for i := 0; i+1 < n; i++ {
		if r := m.pairRank(sym[i], sym[i+1]); r != noMerge {
			h = append(h, mergeEntry{r, int32(i)})
		}
	}
	heap.Init(&h)
	for h.Len() > 0 {
		e := heap.Pop(&h).(mergeEntry)
		p := e.pos
		if !alive(p) || next[p] < 0 {
			continue
		}
		q := next[p]
		if m.pairRank(sym[p], sym[q]) != e.rank {
			continue // stale
		}
		sym[p] = int32(uint32(e.rank))
		sym[q] = -1
		next[p] = next[q]
		if next[q] >= 0 {
			prev[next[q]] = p
		}
		if pp := prev[p]; pp >= 0 {
			if r := m.pairRank(sym[pp], sym[p]); r != noMerge {
				heap.Push(&h, mergeEntry{r, pp})
			}
		}
		if nq := next[p]; nq >= 0 {
			if r := m.pairRank(sym[p], sym[nq]); r != noMerge {
				heap.Push(&h, mergeEntry{r, p})
			}
		}
	}
	out := sym[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, sym[i])
	}
	sc.next, sc.prev, sc.h = next, prev, h
	return out
}

// maxCachedWord is the longest word (in bytes) that is cached.
const maxCachedWord = 256

// wordCache is a bounded, sharded cache of word → ids. A shard that is full
// is emptied before the next insertion, so memory stays bounded whatever
// the input.
type wordCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

const (
	cacheShards   = 16
	cacheShardCap = 4096
)

type cacheShard struct {
	mu sync.RWMutex
	m  map[string][]int32
	_  [40]byte // keep shards on separate cache lines
}

func (c *wordCache) init() {
	c.seed = maphash.MakeSeed()
	for i := range c.shards {
		c.shards[i].m = make(map[string][]int32)
	}
}

func (c *wordCache) shard(w string) *cacheShard {
	return &c.shards[maphash.String(c.seed, w)%cacheShards]
}

func (c *wordCache) get(w string) ([]int32, bool) {
	s := c.shard(w)
	s.mu.RLock()
	ids, ok := s.m[w]
	s.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(w string, ids []int32) {
	s := c.shard(w)
	v := append([]int32(nil), ids...)
	k := strings.Clone(w)
	s.mu.Lock()
	if len(s.m) >= cacheShardCap {
		clear(s.m)
	}
	s.m[k] = v
	s.mu.Unlock()
}
