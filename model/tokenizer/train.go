package tokenizer

import (
	"container/heap"
	"fmt"
	"iter"
	"strings"
)

// TrainOptions configures Train.
type TrainOptions struct {
	// Pattern is the pre-tokenizer regex: PatternGPT2 (the default),
	// PatternLlama3, PatternQwen2 or any regex Go's regexp accepts.
	Pattern string
	// SpecialTokens get the first ids (0, 1, …) and become special added
	// tokens.
	SpecialTokens []string
	// BOS and EOS name special tokens (added to SpecialTokens if missing).
	// With BOS set the tokenizer's post-processor prepends it when encoding
	// with AddSpecialTokens (as Llama-3's does). When the tokenizer is
	// reloaded from tokenizer.json, BOS comes back from the post-processor;
	// EOS only if it has a well-known name ("</s>", "<|endoftext|>",
	// "<|end_of_text|>", "<eos>"), since the format has no EOS field.
	BOS, EOS string
	// MinFrequency stops training when the best pair occurs fewer times.
	MinFrequency int
	// MaxTokenLength, if positive, bounds the length of a token in bytes.
	MaxTokenLength int
	// Progress, if set, is called after each merge with the number of
	// merges done and the number that the vocabulary size allows.
	Progress func(done, total int)
}

// Train learns a byte-level BPE tokenizer from texts, with the algorithm of
// Hugging Face's BpeTrainer: the vocabulary starts with the special tokens
// and the 256 byte-level characters (ordered by code point), then the most
// frequent adjacent pair of tokens within pre-tokenized words is merged
// (ties: the pair of smallest ids) until the vocabulary has vocabSize
// entries or no pair occurs MinFrequency times. The result is deterministic
// for the same texts in the same order (and does not depend on the order).
func Train(texts iter.Seq[string], vocabSize int, o TrainOptions) (*HF, error) {
	if o.Pattern == "" {
		o.Pattern = PatternGPT2
	}
	m, err := compilePattern(o.Pattern)
	if err != nil {
		return nil, err
	}
	specials := append([]string(nil), o.SpecialTokens...)
	for _, s := range []string{o.BOS, o.EOS} {
		if s != "" && !contains(specials, s) {
			specials = append(specials, s)
		}
	}
	seen := map[string]bool{}
	for _, s := range specials {
		if s == "" || seen[s] {
			return nil, fmt.Errorf("train: special token %q is empty or repeated", s)
		}
		seen[s] = true
	}
	if vocabSize < len(specials)+256 {
		return nil, fmt.Errorf("train: vocabulary size %d is below the %d special tokens + 256 bytes", vocabSize, len(specials))
	}

	// Word counts.
	counts := map[string]int64{}
	var spans []span
	for text := range texts {
		spans = m.matches(text, spans[:0])
		if _, ok := m.(scanKind); !ok {
			spans = splitBy(text, spans, behaviorIsolated, false, nil)
		}
		for _, sp := range spans {
			w := text[sp.start:sp.end]
			if c, ok := counts[w]; ok {
				counts[w] = c + 1
			} else {
				counts[strings.Clone(w)] = 1
			}
		}
	}

	// Vocabulary: special tokens, then the byte alphabet by code point.
	var idToTok []string
	tokToID := map[string]int32{}
	addTok := func(t string) int32 {
		if id, ok := tokToID[t]; ok {
			return id
		}
		id := int32(len(idToTok))
		idToTok = append(idToTok, t)
		tokToID[t] = id
		return id
	}
	for _, s := range specials {
		addTok(s)
	}
	var byteID [256]int32
	for r := rune(0); r < rune(len(runeToByte)); r++ {
		if b := runeToByte[r]; b >= 0 {
			byteID[b] = addTok(string(r))
		}
	}
	tokLen := make([]int, len(idToTok)) // raw byte length of each token
	for b := range 256 {
		tokLen[byteID[b]] = 1
	}

	tr := &trainer{pairCounts: map[uint64]int64{}, where: map[uint64][]int32{}, maxLen: o.MaxTokenLength, tokLen: &tokLen}
	for w, c := range counts {
		sym := make([]int32, len(w))
		for i := 0; i < len(w); i++ {
			sym[i] = byteID[w[i]]
		}
		tr.words = append(tr.words, sym)
		tr.counts = append(tr.counts, c)
	}
	counts = nil
	for i, w := range tr.words {
		for j := 0; j+1 < len(w); j++ {
			tr.addPair(pairKey(w[j], w[j+1]), tr.counts[i], int32(i))
		}
	}
	for p, c := range tr.pairCounts {
		if c > 0 {
			tr.q = append(tr.q, queued{p, c})
		}
	}
	heap.Init(&tr.q)
	tr.fresh = map[uint64]struct{}{}

	var merges [][2]string
	total := vocabSize - len(idToTok)
	minFreq := int64(max(o.MinFrequency, 1))
	lastVisit := make([]int32, len(tr.words))
	for i := range lastVisit {
		lastVisit[i] = -1
	}
	for len(idToTok) < vocabSize && tr.q.Len() > 0 {
		top := heap.Pop(&tr.q).(queued)
		if cur := tr.pairCounts[top.pair]; cur != top.count {
			if cur > 0 {
				heap.Push(&tr.q, queued{top.pair, cur})
			}
			continue
		}
		if top.count < minFreq {
			break
		}
		a, b := int32(top.pair>>32), int32(uint32(top.pair))
		newTok := idToTok[a] + idToTok[b]
		newID := addTok(newTok)
		if int(newID) == len(tokLen) {
			tokLen = append(tokLen, tokLen[a]+tokLen[b])
		}
		merges = append(merges, [2]string{idToTok[a], idToTok[b]})
		mergeNo := int32(len(merges))
		ws := tr.where[top.pair]
		delete(tr.where, top.pair)
		tr.pairCounts[top.pair] = 0
		tr.merging = top.pair
		clear(tr.fresh)
		for _, wi := range ws {
			if lastVisit[wi] == mergeNo {
				continue
			}
			lastVisit[wi] = mergeNo
			tr.mergeWord(wi, a, b, newID)
		}
		for p := range tr.fresh {
			if c := tr.pairCounts[p]; c > 0 {
				heap.Push(&tr.q, queued{p, c})
			}
		}
		if o.Progress != nil {
			o.Progress(len(merges), total)
		}
	}

	// As in Hugging Face's trained models, the special tokens are in the
	// model vocabulary too (and in added_tokens).
	vocab := make(map[string]int, len(idToTok))
	for i, t := range idToTok {
		vocab[t] = i
	}
	model, err := NewBPEModel(vocab, merges, nil)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	cfg := HFConfig{Model: model, Decoder: ByteLevel{AddPrefixSpace: true, TrimOffsets: true, UseRegex: true}}
	for _, s := range specials {
		cfg.AddedTokens = append(cfg.AddedTokens, AddedToken{ID: int(tokToID[s]), Content: s, Special: true})
	}
	if o.Pattern == PatternGPT2 {
		cfg.PreTokenizer = ByteLevel{AddPrefixSpace: false, TrimOffsets: true, UseRegex: true}
	} else {
		sp, err := NewSplit(o.Pattern, behaviorIsolated, false)
		if err != nil {
			return nil, err
		}
		cfg.PreTokenizer = PreTokenizerSequence{[]PreTokenizer{sp, ByteLevel{AddPrefixSpace: false, TrimOffsets: true, UseRegex: false}}}
	}
	bl := ByteLevel{AddPrefixSpace: true, TrimOffsets: false, UseRegex: true}
	if o.BOS != "" {
		bosID := int(tokToID[o.BOS])
		tp := &TemplateProcessing{
			Single: []TemplatePiece{{SpecialToken: o.BOS}, {Sequence: "A"}},
			Pair:   []TemplatePiece{{SpecialToken: o.BOS}, {Sequence: "A"}, {SpecialToken: o.BOS, TypeID: 1}, {Sequence: "B", TypeID: 1}},
			SpecialTokens: map[string]TemplateSpecial{
				o.BOS: {ID: o.BOS, IDs: []int{bosID}, Tokens: []string{o.BOS}},
			},
		}
		cfg.PostProcessor = ProcessorSequence{[]PostProcessor{bl, tp}}
	} else {
		cfg.PostProcessor = bl
	}
	h, err := NewHF(cfg)
	if err != nil {
		return nil, err
	}
	h.SetBOS(-1)
	h.SetEOS(-1)
	if o.BOS != "" {
		h.SetBOS(int(tokToID[o.BOS]))
	}
	if o.EOS != "" {
		h.SetEOS(int(tokToID[o.EOS]))
	}
	return h, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

type trainer struct {
	words      [][]int32
	counts     []int64
	pairCounts map[uint64]int64
	where      map[uint64][]int32 // pair → words that (may) contain it
	q          trainQueue
	fresh      map[uint64]struct{} // pairs whose count grew in the current merge
	merging    uint64              // the pair being merged
	maxLen     int
	tokLen     *[]int
}

func (t *trainer) addPair(p uint64, c int64, word int32) {
	t.pairCounts[p] += c
	if l := t.where[p]; len(l) == 0 || l[len(l)-1] != word {
		t.where[p] = append(l, word)
	}
	if t.fresh != nil {
		t.fresh[p] = struct{}{}
	}
}

// sub removes c occurrences of pair p. The pair being merged is skipped: its
// count was set to zero, as every occurrence is merged or destroyed.
func (t *trainer) sub(p uint64, c int64) {
	if p != t.merging {
		t.pairCounts[p] -= c
	}
}

// allowed reports whether merging tokens a and b respects MaxTokenLength.
func (t *trainer) allowed(a, b int32) bool {
	return t.maxLen <= 0 || (*t.tokLen)[a]+(*t.tokLen)[b] <= t.maxLen
}

// mergeWord replaces every (a, b) in word wi by id, left to right, updating
// the pair counts (Hugging Face's Word::merge).
func (t *trainer) mergeWord(wi, a, b, id int32) {
	w := t.words[wi]
	c := t.counts[wi]
	for i := 0; i+1 < len(w); i++ {
		if w[i] != a || w[i+1] != b {
			continue
		}
		if i > 0 {
			t.sub(pairKey(w[i-1], a), c)
			if t.allowed(w[i-1], id) {
				t.addPair(pairKey(w[i-1], id), c, wi)
			}
		}
		w[i] = id
		w = append(w[:i+1], w[i+2:]...)
		if i+1 < len(w) {
			t.sub(pairKey(b, w[i+1]), c)
			if t.allowed(id, w[i+1]) {
				t.addPair(pairKey(id, w[i+1]), c, wi)
			}
		}
	}
	t.words[wi] = w
}

type queued struct {
	pair  uint64
	count int64
}

// trainQueue pops the highest count first, then the smallest pair.
type trainQueue []queued

func (q trainQueue) Len() int { return len(q) }
func (q trainQueue) Less(i, j int) bool {
	if q[i].count != q[j].count {
		return q[i].count > q[j].count
	}
	return q[i].pair < q[j].pair
}
func (q trainQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *trainQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *trainQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
