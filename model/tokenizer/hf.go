package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AddedToken is one entry of tokenizer.json's "added_tokens".
type AddedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// HFConfig are the parts of a Hugging Face tokenizer. Only Model is required.
type HFConfig struct {
	Model         *BPEModel
	AddedTokens   []AddedToken
	Normalizer    Normalizer
	PreTokenizer  PreTokenizer
	PostProcessor PostProcessor
	Decoder       Decoder
	// Truncation and Padding are kept as read (JSON) and written back; they
	// do not affect encoding here.
	Truncation, Padding json.RawMessage
}

// HF is a Hugging Face tokenizer.json tokenizer (BPE model) and, through
// LoadGPT2 and Train, this package's byte-level BPE tokenizers. Encoding
// follows the Hugging Face pipeline: added tokens are split out (those with
// normalized=false on the raw text, the others on the normalized text), the
// rest is normalized, pre-tokenized and run through BPE, then the
// post-processor adds its special tokens if asked.
//
// Differences from Hugging Face, by design: text may be any bytes (invalid
// UTF-8 counts as one-byte characters) and Decode returns raw bytes rather
// than replacing invalid UTF-8 with U+FFFD; BPE dropout is ignored (encoding
// is deterministic); offsets, truncation, padding and pair inputs are not
// implemented. The Unicode normalizers (NFC, NFD, NFKC, NFKD) use
// golang.org/x/text (Unicode 15.0) where Hugging Face uses the tables of
// unicode-normalization-alignments (Unicode 9.0) without the stream-safe
// rule: they differ on characters assigned after Unicode 9.0 and on runs
// of more than 30 combining marks. Character classes (the pre-tokenizer
// regexes, Digits, single_word, Lowercase) follow Hugging Face's Unicode
// 16/17 tables (unicode16.go), checked on every code point by the parity
// tests against the real library.
type HF struct {
	cfg HFConfig

	addedByID      map[int]*AddedToken
	addedByContent map[string]int
	decodeForm     map[int]string // added token id → its normalized form, if different
	specialContent map[string]bool
	rawSet         *addedMatcher // normalized=false tokens
	normSet        *addedMatcher // normalized=true tokens
	nonSpecial     bool          // some added token is not special
	maxAddedID     int

	bos, eos int
	fast     fastPath
}

type fastPath struct {
	ok     bool
	prefix bool     // prepend a space to each segment not starting with one
	scan   scanKind // built-in scanner, or 0
	m      matcher  // other Isolated split pattern, or nil = whole segment
}

// NewHF assembles a tokenizer. Added token ids are assigned as Hugging Face
// does when it loads a tokenizer.json: a token already in the model
// vocabulary (or added earlier) keeps that id, any other gets the next free
// id after the vocabulary; the ID fields given are ignored. BOS and EOS are
// guessed from the post-processor (the special tokens before/after the
// sequence) or else from well-known special token names; SetBOS and SetEOS
// override them.
func NewHF(c HFConfig) (*HF, error) {
	if c.Model == nil {
		return nil, errors.New("tokenizer: HF needs a model")
	}
	h := &HF{
		cfg:            c,
		addedByID:      map[int]*AddedToken{},
		addedByContent: map[string]int{},
		decodeForm:     map[int]string{},
		specialContent: map[string]bool{},
		maxAddedID:     -1,
	}
	h.cfg.AddedTokens = nil
	nextID := c.Model.Len() // Hugging Face's next id for new tokens
	for _, t := range c.AddedTokens {
		if t.Content == "" {
			continue
		}
		if id, ok := h.addedByContent[t.Content]; ok && *h.addedByID[id] == withID(t, id) {
			continue
		}
		var id int
		if v, ok := h.addedByContent[t.Content]; ok {
			id = v
		} else if v, ok := c.Model.TokenID(t.Content); ok {
			id = v
		} else {
			id = nextID
			nextID++
		}
		t.ID = id
		h.addedByContent[t.Content] = id
		if t.Special {
			h.specialContent[t.Content] = true
		}
		if old, ok := h.addedByID[id]; ok {
			// Hugging Face replaces the token of that id.
			for i := range h.cfg.AddedTokens {
				if h.cfg.AddedTokens[i].ID == id && h.cfg.AddedTokens[i].Content == old.Content {
					h.cfg.AddedTokens = append(h.cfg.AddedTokens[:i], h.cfg.AddedTokens[i+1:]...)
					break
				}
			}
		}
		tt := t
		h.addedByID[id] = &tt
		h.cfg.AddedTokens = append(h.cfg.AddedTokens, t)
		h.maxAddedID = max(h.maxAddedID, id)
		if t.Normalized && c.Normalizer != nil {
			if n := c.Normalizer.normalize(t.Content); n != t.Content {
				h.decodeForm[id] = n
			}
		}
	}
	sort.SliceStable(h.cfg.AddedTokens, func(i, j int) bool { return h.cfg.AddedTokens[i].ID < h.cfg.AddedTokens[j].ID })
	var raw, normd []addedEntry
	for id, t := range h.addedByID {
		if !t.Special {
			h.nonSpecial = true
		}
		if t.Normalized {
			p := t.Content
			if n, ok := h.decodeForm[id]; ok {
				p = n
			}
			normd = append(normd, addedEntry{p, id})
		} else {
			raw = append(raw, addedEntry{t.Content, id})
		}
	}
	h.rawSet = newAddedMatcher(raw)
	h.normSet = newAddedMatcher(normd)
	h.bos, h.eos = h.guessBOSEOS()
	h.detectFast()
	return h, nil
}

func withID(t AddedToken, id int) AddedToken { t.ID = id; return t }

// Config returns the tokenizer's parts (AddedTokens with their assigned ids).
func (h *HF) Config() HFConfig {
	c := h.cfg
	c.AddedTokens = append([]AddedToken(nil), h.cfg.AddedTokens...)
	return c
}

// Model returns the BPE model.
func (h *HF) Model() *BPEModel { return h.cfg.Model }

// AddedTokens returns the added tokens with their ids, by id.
func (h *HF) AddedTokens() []AddedToken { return append([]AddedToken(nil), h.cfg.AddedTokens...) }

// SetBOS and SetEOS set the BOS/EOS ids (-1: none).
func (h *HF) SetBOS(id int) { h.bos = id }

// SetEOS sets the EOS id (-1: none).
func (h *HF) SetEOS(id int) { h.eos = id }

// BOS implements Tokenizer.
func (h *HF) BOS() int { return h.bos }

// EOS implements Tokenizer.
func (h *HF) EOS() int { return h.eos }

// VocabSize implements Tokenizer: the largest id (model or added) plus one.
func (h *HF) VocabSize() int { return max(h.cfg.Model.VocabSize(), h.maxAddedID+1) }

// TokenID implements Tokenizer (added tokens first, as Hugging Face).
func (h *HF) TokenID(tok string) (int, bool) {
	if id, ok := h.addedByContent[tok]; ok {
		return id, true
	}
	return h.cfg.Model.TokenID(tok)
}

// Token implements Tokenizer.
func (h *HF) Token(id int) (string, bool) {
	if t, ok := h.addedByID[id]; ok {
		return t.Content, true
	}
	return h.cfg.Model.Token(id)
}

// IsSpecial reports whether id is a special added token.
func (h *HF) IsSpecial(id int) bool {
	t, ok := h.addedByID[id]
	return ok && t.Special
}

var (
	bosNames = []string{"<|begin_of_text|>", "<s>", "<bos>", "<|startoftext|>", "<|im_start|>"}
	eosNames = []string{"<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>"}
)

func (h *HF) guessBOSEOS() (int, int) {
	bos, eos := -1, -1
	var walk func(p PostProcessor)
	walk = func(p PostProcessor) {
		switch p := p.(type) {
		case *TemplateProcessing:
			seen := false
			for _, pc := range p.Single {
				if pc.SpecialToken == "" {
					seen = true
					continue
				}
				if ids := p.SpecialTokens[pc.SpecialToken].IDs; len(ids) == 1 {
					if !seen && bos < 0 {
						bos = ids[0]
					} else if seen {
						eos = ids[0]
					}
				}
			}
		case *RobertaProcessing:
			bos, eos = p.Cls.ID, p.Sep.ID
		case *BertProcessing:
			bos, eos = p.Cls.ID, p.Sep.ID
		case ProcessorSequence:
			for _, q := range p.Processors {
				walk(q)
			}
		}
	}
	walk(h.cfg.PostProcessor)
	byName := func(names []string) int {
		for _, n := range names {
			if id, ok := h.addedByContent[n]; ok && h.addedByID[id].Special {
				return id
			}
		}
		return -1
	}
	if bos < 0 {
		bos = byName(bosNames)
		if bos >= 0 && h.addedByID[bos].Content == "<|im_start|>" {
			bos = -1 // a chat marker, not a BOS
		}
	}
	if eos < 0 {
		eos = byName(eosNames)
	}
	return bos, eos
}

func (h *HF) detectFast() {
	h.fast = fastPath{}
	if !h.cfg.Model.byteLevel {
		return
	}
	switch p := h.cfg.PreTokenizer.(type) {
	case ByteLevel:
		h.fast = fastPath{ok: true, prefix: p.AddPrefixSpace}
		if p.UseRegex {
			h.fast.scan = scanGPT2
		}
	case PreTokenizerSequence:
		if len(p.PreTokenizers) != 2 {
			return
		}
		sp, ok1 := p.PreTokenizers[0].(*Split)
		bl, ok2 := p.PreTokenizers[1].(ByteLevel)
		if !ok1 || !ok2 || sp.Behavior != behaviorIsolated || sp.Invert || bl.UseRegex || bl.AddPrefixSpace {
			return
		}
		h.fast = fastPath{ok: true}
		if k, ok := sp.m.(scanKind); ok {
			h.fast.scan = k
		} else {
			h.fast.m = sp.m
		}
	}
}

// Encode implements Tokenizer.
func (h *HF) Encode(text string) []int { return h.EncodeOpts(text, EncodeOptions{}) }

// EncodeWithSpecial implements Tokenizer.
func (h *HF) EncodeWithSpecial(text string) []int {
	return h.EncodeOpts(text, EncodeOptions{Special: true})
}

// segment is a piece of the input: an added token (id >= 0) or text.
type segment struct {
	s       string
	id      int
	atStart bool
}

// EncodeOpts implements Tokenizer.
func (h *HF) EncodeOpts(text string, o EncodeOptions) []int {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	ids := make([]int, 0, len(text)/3+4)
	if (!o.Special && !h.nonSpecial || len(h.addedByID) == 0) && h.cfg.Normalizer == nil {
		if text != "" {
			ids = h.encodeText(ids, segment{text, -1, true}, sc)
		}
	} else {
		for _, sg := range h.segments(text, o.Special) {
			if sg.id >= 0 {
				ids = append(ids, sg.id)
			} else {
				ids = h.encodeText(ids, sg, sc)
			}
		}
	}
	if h.cfg.PostProcessor != nil {
		ids = h.cfg.PostProcessor.process(ids, o.AddSpecialTokens)
	}
	return addBOSEOS(ids, o, h.bos, h.eos)
}

// encodeText pre-tokenizes and BPE-encodes one normalized text segment.
func (h *HF) encodeText(ids []int, sg segment, sc *scratch) []int {
	m := h.cfg.Model
	if h.fast.ok {
		s := sg.s
		if h.fast.prefix && !strings.HasPrefix(s, " ") {
			s = " " + s
		}
		switch {
		case h.fast.scan != 0:
			for i := 0; i < len(s); {
				j := h.fast.scan.next(s, i)
				ids = m.appendRawBytes(ids, s[i:j], sc)
				i = j
			}
		case h.fast.m != nil:
			ms := h.fast.m.matches(s, sc.spans[:0])
			parts := splitBy(s, ms, behaviorIsolated, false, nil)
			sc.spans = ms
			for _, p := range parts {
				ids = m.appendRawBytes(ids, s[p.start:p.end], sc)
			}
		case s != "":
			ids = m.appendRawBytes(ids, s, sc)
		}
		return ids
	}
	pts := []pretok{{sg.s, sg.atStart}}
	if h.cfg.PreTokenizer != nil {
		pts = h.cfg.PreTokenizer.preTokenize(pts)
	}
	for _, p := range pts {
		ids = m.appendWord(ids, p.s, sc)
	}
	return ids
}

// segments splits text around added tokens and normalizes the rest, as
// Hugging Face's AddedVocabulary::extract_and_normalize. Special tokens are
// only recognised if special is set.
func (h *HF) segments(text string, special bool) []segment {
	var out []segment
	for _, sg := range h.findMatches(text, h.rawSet, special, true) {
		if sg.id >= 0 {
			out = append(out, sg)
			continue
		}
		if h.cfg.Normalizer != nil {
			var shifted bool
			sg.s, shifted = normalizeTracked(h.cfg.Normalizer, sg.s)
			sg.atStart = sg.atStart && !shifted
		}
		for _, s2 := range h.findMatches(sg.s, h.normSet, special, sg.atStart) {
			if s2.id >= 0 || s2.s != "" {
				out = append(out, s2)
			}
		}
	}
	return out
}

// findMatches is Hugging Face's AddedVocabulary::find_matches.
func (h *HF) findMatches(s string, set *addedMatcher, special, atStart bool) []segment {
	if s == "" {
		return nil
	}
	if set == nil {
		return []segment{{s, -1, atStart}}
	}
	var out []segment
	startOffset := 0
	for i := 0; i < len(s); {
		ms, me, id, ok := set.find(s, i)
		if !ok {
			break
		}
		i = me
		t := h.addedByID[id]
		if !special && t.Special {
			continue
		}
		if t.SingleWord {
			startSpace := ms == 0 || !endsWithWord(s[:ms])
			stopSpace := me == len(s) || !startsWithWord(s[me:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		start, stop := ms, me
		if t.LStrip {
			start = max(len(strings.TrimRightFunc(s[:start], unicode.IsSpace)), startOffset)
		}
		if t.RStrip {
			stop += len(s[stop:]) - len(strings.TrimLeftFunc(s[stop:], unicode.IsSpace))
		}
		if startOffset < start {
			out = append(out, segment{s[startOffset:start], -1, atStart && startOffset == 0})
		}
		out = append(out, segment{s[start:stop], id, false})
		startOffset = stop
	}
	if startOffset < len(s) {
		out = append(out, segment{s[startOffset:], -1, atStart && startOffset == 0})
	}
	return out
}

// isWordRune is Rust regex's Unicode \w: Alphabetic, marks, decimal
// numbers, connector punctuation and the joiners.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) ||
		unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) || r == 0x200C || r == 0x200D ||
		r >= 0x0897 && (unicode.Is(letters16, r) || unicode.Is(marks16, r) || unicode.Is(numbers16, r)) // Unicode 16.0, as Hugging Face
}

func endsWithWord(s string) bool {
	r, w := utf8.DecodeLastRuneInString(s)
	return w > 0 && !(r == utf8.RuneError && w == 1) && isWordRune(r)
}

func startsWithWord(s string) bool {
	r, w := utf8.DecodeRuneInString(s)
	return w > 0 && !(r == utf8.RuneError && w == 1) && isWordRune(r)
}

type addedEntry struct {
	content string
	id      int
}

// addedMatcher finds added tokens leftmost-longest (as the Aho-Corasick
// automaton Hugging Face uses).
type addedMatcher struct {
	byFirst [256][]addedEntry // longest first
}

func newAddedMatcher(es []addedEntry) *addedMatcher {
	if len(es) == 0 {
		return nil
	}
	m := &addedMatcher{}
	for _, e := range es {
		if e.content == "" { // e.g. a token that normalizes to nothing
			continue
		}
		m.byFirst[e.content[0]] = append(m.byFirst[e.content[0]], e)
	}
	for i := range m.byFirst {
		l := m.byFirst[i]
		sort.Slice(l, func(a, b int) bool {
			if len(l[a].content) != len(l[b].content) {
				return len(l[a].content) > len(l[b].content)
			}
			return l[a].content < l[b].content
		})
	}
	return m
}

// find returns the leftmost-longest match starting at or after from.
func (m *addedMatcher) find(s string, from int) (start, end, id int, ok bool) {
	for i := from; i < len(s); i++ {
		for _, e := range m.byFirst[s[i]] {
			if strings.HasPrefix(s[i:], e.content) {
				return i, i + len(e.content), e.id, true
			}
		}
	}
	return 0, 0, 0, false
}

// Decode implements Tokenizer.
func (h *HF) Decode(ids []int) string { return h.DecodeOpts(ids, DecodeOptions{}) }

// DecodeOpts implements Tokenizer, as Hugging Face's decode: ids become
// tokens (added tokens first; unknown ids are skipped), which go through the
// decoder (or are joined by spaces if there is none).
func (h *HF) DecodeOpts(ids []int, o DecodeOptions) string {
	if _, ok := h.cfg.Decoder.(ByteLevel); ok {
		return h.decodeByteLevel(ids, o)
	}
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		var t string
		if a, ok := h.addedByID[id]; ok {
			t = a.Content
			if n, ok := h.decodeForm[id]; ok {
				t = n
			}
		} else if mt, ok := h.cfg.Model.Token(id); ok {
			t = mt
		} else {
			continue
		}
		if o.SkipSpecial && h.specialContent[t] {
			continue
		}
		toks = append(toks, t)
	}
	if h.cfg.Decoder == nil {
		return strings.Join(toks, " ")
	}
	return strings.Join(h.cfg.Decoder.decodeChain(toks), "")
}

// decodeByteLevel is DecodeOpts for a lone ByteLevel decoder, using the
// model's precomputed raw bytes.
func (h *HF) decodeByteLevel(ids []int, o DecodeOptions) string {
	m := h.cfg.Model
	buf := make([]byte, 0, 4*len(ids))
	for _, id := range ids {
		var t string
		if a, ok := h.addedByID[id]; ok {
			t = a.Content
			if n, ok := h.decodeForm[id]; ok {
				t = n
			}
		} else if id >= 0 && id < len(m.rawOK) && m.rawOK[id] {
			if o.SkipSpecial && h.specialContent[m.idToTok[id]] {
				continue
			}
			buf = append(buf, m.rawTok[id]...)
			continue
		} else if mt, ok := m.Token(id); ok {
			t = mt
		} else {
			continue
		}
		if o.SkipSpecial && h.specialContent[t] {
			continue
		}
		var ok bool
		if buf, ok = appendByteLevelDecoded(buf, t); !ok {
			buf = append(buf, t...)
		}
	}
	return string(buf)
}

var _ Tokenizer = (*HF)(nil)

// String describes the tokenizer briefly.
func (h *HF) String() string {
	return fmt.Sprintf("HF BPE tokenizer: %d model tokens, %d merges, %d added tokens, BOS %d, EOS %d",
		h.cfg.Model.Len(), len(h.cfg.Model.mergeSeq), len(h.addedByID), h.bos, h.eos)
}
