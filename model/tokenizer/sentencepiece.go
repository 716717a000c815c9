package tokenizer

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// SentencePiece is the llama2.c tokenizer (tokenizer.bin / tok512.bin): a
// sentencepiece BPE vocabulary with scores, encoded as llama2.c's run.c
// encode() does: a dummy-prefix space, one piece per UTF-8 character (or its
// <0xHH> byte pieces), then repeatedly merging the adjacent pair whose
// concatenation is the piece with the highest score (leftmost on ties).
//
// Ids 0, 1, 2 are <unk>, BOS and EOS (sentencepiece's layout). Decode drops
// BOS/EOS, turns <0xHH> pieces into raw bytes and removes the dummy-prefix
// space from the first piece of the text (and after each BOS), so
// Decode(Encode(s)) == s for every byte string s.
type SentencePiece struct {
	MaxTokenLength int
	pieces         []string
	scores         []float32
	ids            map[string]int32
	byteIDs        [256]int32       // id of <0xHH>, or -1
	pairs          map[uint64]int32 // (left, right) → id of the concatenated piece
	spaceID        int32
}

// LoadSentencePiece reads a llama2.c tokenizer file holding vocabSize
// pieces; vocabSize 0 reads pieces until the end of the file.
func LoadSentencePiece(path string, vocabSize int) (*SentencePiece, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadSentencePiece(f, vocabSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// maxPieceLen bounds one piece's length when reading.
const maxPieceLen = 1 << 16

// ReadSentencePiece reads the llama2.c tokenizer format: int32
// max_token_length, then per piece float32 score, int32 length, bytes (all
// little-endian).
func ReadSentencePiece(r io.Reader, vocabSize int) (*SentencePiece, error) {
	var maxLen int32
	if err := binary.Read(r, binary.LittleEndian, &maxLen); err != nil {
		return nil, fmt.Errorf("llama2.c tokenizer: header: %w", err)
	}
	var pieces []string
	var scores []float32
	for i := 0; vocabSize == 0 || i < vocabSize; i++ {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if vocabSize == 0 && errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("llama2.c tokenizer: piece %d: %w", i, err)
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(hdr[:4]))
		n := int32(binary.LittleEndian.Uint32(hdr[4:]))
		if n < 0 || n > maxPieceLen {
			return nil, fmt.Errorf("llama2.c tokenizer: piece %d has length %d", i, n)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("llama2.c tokenizer: piece %d: %w", i, err)
		}
		pieces = append(pieces, string(buf))
		scores = append(scores, score)
	}
	return NewSentencePiece(pieces, scores, int(maxLen))
}

// NewSentencePiece builds the tokenizer from pieces and scores (ids in
// order). It needs the single-space piece " " (the dummy prefix).
func NewSentencePiece(pieces []string, scores []float32, maxTokenLength int) (*SentencePiece, error) {
	if len(pieces) != len(scores) {
		return nil, errors.New("llama2.c tokenizer: pieces and scores differ in length")
	}
	if len(pieces) > math.MaxInt32 {
		return nil, errors.New("llama2.c tokenizer: too many pieces")
	}
	t := &SentencePiece{
		MaxTokenLength: maxTokenLength,
		pieces:         pieces,
		scores:         scores,
		ids:            make(map[string]int32, len(pieces)),
		pairs:          map[uint64]int32{},
		spaceID:        -1,
	}
	for i, p := range pieces {
		if _, dup := t.ids[p]; !dup {
			t.ids[p] = int32(i)
		}
	}
	for b := range 256 {
		t.byteIDs[b] = -1
		if id, ok := t.ids[byteToken(byte(b))]; ok {
			t.byteIDs[b] = id
		}
	}
	if id, ok := t.ids[" "]; ok {
		t.spaceID = id
	} else {
		return nil, errors.New(`llama2.c tokenizer: no " " piece (needed for the dummy prefix)`)
	}
	// Every way to write a piece as the concatenation of two pieces.
	for id, p := range pieces {
		if t.ids[p] != int32(id) {
			continue // a duplicate: lookups find the first
		}
		for k := 1; k < len(p); k++ {
			a, ok1 := t.ids[p[:k]]
			b, ok2 := t.ids[p[k:]]
			if ok1 && ok2 {
				t.pairs[pairKey(a, b)] = int32(id)
			}
		}
	}
	return t, nil
}

// VocabSize implements Tokenizer.
func (t *SentencePiece) VocabSize() int { return len(t.pieces) }

// BOS implements Tokenizer (id 1).
func (t *SentencePiece) BOS() int { return t.fixed(1) }

// EOS implements Tokenizer (id 2).
func (t *SentencePiece) EOS() int { return t.fixed(2) }

func (t *SentencePiece) fixed(id int) int {
	if id < len(t.pieces) {
		return id
	}
	return -1
}

// TokenID implements Tokenizer.
func (t *SentencePiece) TokenID(piece string) (int, bool) {
	id, ok := t.ids[piece]
	return int(id), ok
}

// Token implements Tokenizer.
func (t *SentencePiece) Token(id int) (string, bool) {
	if id < 0 || id >= len(t.pieces) {
		return "", false
	}
	return t.pieces[id], true
}

// Score returns a piece's score.
func (t *SentencePiece) Score(id int) float32 { return t.scores[id] }

// Encode implements Tokenizer (no BOS/EOS).
func (t *SentencePiece) Encode(text string) []int { return t.EncodeOpts(text, EncodeOptions{}) }

// EncodeWithSpecial implements Tokenizer; llama2.c has no special tokens
// written in text, so it is Encode.
func (t *SentencePiece) EncodeWithSpecial(text string) []int {
	return t.EncodeOpts(text, EncodeOptions{Special: true})
}

// EncodeOpts implements Tokenizer; AddSpecialTokens and AddBOS prepend BOS.
func (t *SentencePiece) EncodeOpts(text string, o EncodeOptions) []int {
	var ids []int
	if o.AddSpecialTokens {
		o.AddBOS = true
	}
	if text != "" {
		sym := make([]int32, 0, len(text)+1)
		sym = append(sym, t.spaceID)
		sym = t.appendChars(sym, text)
		sym = t.merge(sym)
		ids = make([]int, 0, len(sym)+2)
		for _, s := range sym {
			ids = append(ids, int(s))
		}
	}
	return addBOSEOS(ids, o, t.BOS(), t.EOS())
}

// appendChars splits text as run.c does: a character is a non-continuation
// byte followed by up to three continuation bytes (no further validation);
// it becomes its piece if there is one, else one <0xHH> piece per byte.
func (t *SentencePiece) appendChars(sym []int32, text string) []int32 {
	start := 0
	for i := 0; i < len(text); i++ {
		if text[i]&0xC0 != 0x80 {
			start = i
		}
		if i+1 < len(text) && text[i+1]&0xC0 == 0x80 && i+1-start < 4 {
			continue
		}
		ch := text[start : i+1]
		if id, ok := t.ids[ch]; ok {
			sym = append(sym, id)
		} else {
			for j := 0; j < len(ch); j++ {
				id := t.byteIDs[ch[j]]
				if id < 0 {
					id = int32(ch[j]) + 3 // run.c's fixed layout
					if int(id) >= len(t.pieces) {
						id = 0
					}
				}
				sym = append(sym, id)
			}
		}
		start = i + 1
	}
	return sym
}

type spEntry struct {
	score float32
	pos   int32
	left  int32
	right int32
	id    int32
}

type spHeap []spEntry

func (h spHeap) Len() int { return len(h) }
func (h spHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score > h[j].score
	}
	return h[i].pos < h[j].pos
}
func (h spHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *spHeap) Push(x any)   { *h = append(*h, x.(spEntry)) }
func (h *spHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// merge applies run.c's merge loop: while some adjacent pair concatenates
// to a piece, merge the pair with the highest score, leftmost on ties. A
// priority queue of (score, position) entries, checked against the current
// symbols when popped, gives the same sequence of merges.
func (t *SentencePiece) merge(sym []int32) []int32 {
	n := len(sym)
	if n < 2 {
		return sym
	}
	next := make([]int32, n)
	prev := make([]int32, n)
	for i := range n {
		next[i], prev[i] = int32(i+1), int32(i-1)
	}
	next[n-1] = -1
	var h spHeap
	push := func(p, q int32) {
		if id, ok := t.pairs[pairKey(sym[p], sym[q])]; ok {
			h = append(h, spEntry{t.scores[id], p, sym[p], sym[q], id})
			heap.Fix(&h, len(h)-1)
		}
	}
	for i := 0; i+1 < n; i++ {
		push(int32(i), int32(i+1))
	}
	for len(h) > 0 {
		e := heap.Pop(&h).(spEntry)
		p := e.pos
		q := next[p]
		if sym[p] != e.left || q < 0 || sym[q] != e.right {
			continue
		}
		sym[p] = e.id
		sym[q] = -1
		next[p] = next[q]
		if next[q] >= 0 {
			prev[next[q]] = p
		}
		if prev[p] >= 0 {
			push(prev[p], p)
		}
		if next[p] >= 0 {
			push(p, next[p])
		}
	}
	out := sym[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, sym[i])
	}
	return out
}

// Decode implements Tokenizer.
func (t *SentencePiece) Decode(ids []int) string { return t.DecodeOpts(ids, DecodeOptions{}) }

// DecodeOpts implements Tokenizer. BOS and EOS always decode to nothing
// (they are sentencepiece control symbols).
func (t *SentencePiece) DecodeOpts(ids []int, _ DecodeOptions) string {
	var b strings.Builder
	first := true
	for _, id := range ids {
		if id < 0 || id >= len(t.pieces) {
			continue
		}
		if id == t.BOS() || id == t.EOS() {
			first = id == t.BOS() || first
			continue
		}
		p := t.pieces[id]
		if c, ok := parseByteToken(p); ok {
			b.WriteByte(c)
			first = false
			continue
		}
		if first && strings.HasPrefix(p, " ") {
			p = p[1:]
		}
		first = false
		b.WriteString(p)
	}
	return b.String()
}

var _ Tokenizer = (*SentencePiece)(nil)
