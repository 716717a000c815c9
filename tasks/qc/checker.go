package qc

import "github.com/humanllm/humanllm/tasks"

// Checker is Check for the samples of one user at a time, reusing the work
// on the texts that recur in them: every past record shown in a prompt
// appears in several prompts of the same user (up to five action
// prompts, the style prompts and the profile's history), and so does the
// system prompt in every sample. The answer is always Check's.
//
// The recurring texts are named by the formulator (tasks.Piece); a piece
// is used only when it lies between two '\n' of its message (or at an
// end) and its bytes equal the text the Checker saw under its key, else
// its bytes are checked with the rest of the message. Both checks that
// scan the prompt split at such a piece exactly:
//   - the words of the leak check never hold a '\n', so a message's words
//     are those of its pieces and of the text between them, in order;
//   - no match of the PII patterns holds a '\n', and one that ends (or
//     starts) at a '\n' needs only a non-word character there, as it does
//     at the end (start) of a text: HasPII(x + "\n" + y) == HasPII(x) ||
//     HasPII("\n" + y) (TestHasPIISplitsAtNewlines).
//
// A Checker is not safe for concurrent use; use one per worker.
type Checker struct {
	opts    Options
	gen     uint32
	cache   []pieceEntry // by key
	checked []checkedPiece
	// sys is the last system message seen and sysPII its HasPII.
	sys    string
	sysPII bool
	sysSet bool
}

// maxPieceKey bounds the keys a Checker keeps (a piece with a larger key
// is checked as part of its message).
const maxPieceKey = 1 << 16

// pieceEntry is what a Checker keeps of the text of one key.
type pieceEntry struct {
	gen          uint32
	text         string
	piiDone, pii bool
	spansDone    bool
	spans        []wordSpan // appendWordSpans(text)
}

func (e *pieceEntry) hasPII() bool {
	if !e.piiDone {
		e.pii, e.piiDone = HasPII(e.text), true
	}
	return e.pii
}

func (e *pieceEntry) wordSpans() []wordSpan {
	if !e.spansDone {
		e.spans, e.spansDone = appendWordSpans(e.spans[:0], 0, e.text), true
	}
	return e.spans
}

// checkedPiece is a piece verified against the message it is in.
type checkedPiece struct {
	msg, off, end int
	e             *pieceEntry
}

// NewChecker returns a Checker applying opts.
func NewChecker(opts Options) *Checker { return &Checker{opts: opts, gen: 1} }

// Reset forgets the pieces seen so far: the next sample is another user's.
func (c *Checker) Reset() {
	c.gen++
	if c.gen == 0 {
		clear(c.cache)
		c.gen = 1
	}
}

// Check is Check(s, opts) for the Checker's opts, given the recurring
// pieces of s's messages.
func (c *Checker) Check(s tasks.Sample, pieces []tasks.Piece) string {
	return check(s, c.opts, c, pieces)
}

// verify returns the pieces that can be used: in order (by message, then
// offset), not overlapping, each between two '\n' of its message (or an
// end of it), with their entries holding their text.
func (c *Checker) verify(s tasks.Sample, pieces []tasks.Piece) []checkedPiece {
	c.checked = c.checked[:0]
	// Grow the cache first: checked points into it.
	maxKey := -1
	for _, p := range pieces {
		if p.Key < maxPieceKey {
			maxKey = max(maxKey, p.Key)
		}
	}
	if maxKey >= len(c.cache) {
		c.cache = append(c.cache, make([]pieceEntry, maxKey+1-len(c.cache))...)
	}
	lastMsg, lastEnd := -1, 0
	for _, p := range pieces {
		if p.Msg < 0 || p.Msg >= len(s.Messages) || p.Key < 0 || p.Key >= maxPieceKey {
			continue
		}
		if p.Msg < lastMsg || p.Msg == lastMsg && p.Off < lastEnd {
			continue
		}
		content := s.Messages[p.Msg].Content
		if p.Off < 0 || p.End > len(content) || p.Off >= p.End {
			continue
		}
		if p.Off > 0 && content[p.Off-1] != '\n' || p.End < len(content) && content[p.End] != '\n' {
			continue
		}
		text := content[p.Off:p.End]
		e := &c.cache[p.Key]
		if e.gen != c.gen || e.text != text {
			*e = pieceEntry{gen: c.gen, text: text, spans: e.spans[:0]}
		}
		c.checked = append(c.checked, checkedPiece{msg: p.Msg, off: p.Off, end: p.End, e: e})
		lastMsg, lastEnd = p.Msg, p.End
	}
	return c.checked
}

// messagePII is HasPII(m.Content) for message mi, using the checked
// pieces of mi at the front of checked; it returns the rest of checked.
func (c *Checker) messagePII(mi int, m tasks.Message, checked []checkedPiece) (bool, []checkedPiece) {
	for len(checked) > 0 && checked[0].msg < mi {
		checked = checked[1:]
	}
	if len(checked) == 0 || checked[0].msg != mi {
		if m.Role == "system" {
			if !c.sysSet || m.Content != c.sys {
				c.sys, c.sysPII, c.sysSet = m.Content, HasPII(m.Content), true
			}
			return c.sysPII, checked
		}
		return HasPII(m.Content), checked
	}
	content := m.Content
	pos := 0
	for ; len(checked) > 0 && checked[0].msg == mi; checked = checked[1:] {
		p := checked[0]
		if HasPII(content[pos:p.off]) || p.e.hasPII() {
			return true, checked // Check stops at the first PII
		}
		pos = p.end
	}
	return HasPII(content[pos:]), checked
}
