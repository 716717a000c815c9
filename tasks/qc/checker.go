package qc

import (
	"sync"

	"github.com/humanllm/humanllm/tasks"
)

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
	cache   tasks.PieceCache[pieceEntry]
	long    longWords // numbers the long words of the user's texts
	checked []checkedPiece
	// sc is the leak check's scratch, holding the words of the last
	// target checked, tText (tValid), which had tStops function words
	// and, once tPIIDone, HasPII tPII.
	sc                     leakScratch
	tText                  string
	tStops                 int
	tValid, tPIIDone, tPII bool
	// sys is the last system message seen and sysPII its HasPII.
	sys    string
	sysPII bool
	sysSet bool
}

// pieceEntry is what a Checker keeps of the text of one piece.
type pieceEntry struct {
	piiDone, pii bool
	keysDone     bool
	keys         []uint64 // the keys of the words of text (leakScratch.appendKeys)
}

// hasPII is HasPII(text), text the piece's.
func (e *pieceEntry) hasPII(text string) bool {
	if !e.piiDone {
		e.pii, e.piiDone = HasPII(text), true
	}
	return e.pii
}

// wordKeys is sc.appendKeys(nil, text, long), text the piece's and long
// the Checker's (the keys of long words are its numbers, kept for the
// user as the entries are).
func (e *pieceEntry) wordKeys(sc *leakScratch, text string, long *longWords) []uint64 {
	if !e.keysDone {
		e.keys, e.keysDone = sc.appendKeys(e.keys[:0], text, long), true
	}
	return e.keys
}

// checkedPiece is a piece verified against the message it is in.
type checkedPiece struct {
	msg, off, end, key int
	e                  *pieceEntry
}

// keyTaken reports whether a piece already checked in this sample has
// key with a text other than text: the entry of key is that text's until
// the sample is checked.
func (c *Checker) keyTaken(key int, text string, s tasks.Sample) bool {
	for _, q := range c.checked {
		if q.key == key && s.Messages[q.msg].Content[q.off:q.end] != text {
			return true
		}
	}
	return false
}

var checkerPool = sync.Pool{New: func() any { return new(Checker) }}

// NewChecker returns a Checker applying opts, one that Release handed
// back when there is one (its memory is reused).
func NewChecker(opts Options) *Checker {
	c := checkerPool.Get().(*Checker)
	c.opts = opts
	c.Reset()
	return c
}

// Release hands c back to NewChecker; c must not be used after.
func (c *Checker) Release() {
	c.Reset()
	checkerPool.Put(c)
}

// Reset forgets the pieces seen so far: the next sample is another user's.
func (c *Checker) Reset() {
	c.cache.Reset()
	c.long.reset() // the keys of the target's long words with it
	c.tText, c.tValid = "", false
	c.sys, c.sysSet = "", false
}

// Check is Check(s, opts) for the Checker's opts, given the recurring
// pieces of s's messages.
func (c *Checker) Check(s tasks.Sample, pieces []tasks.Piece) string {
	return check(s, c.opts, c, pieces)
}

// verify returns the pieces that can be used: in order (by message, then
// offset), not overlapping, usable in their message, with their entries
// holding their text.
func (c *Checker) verify(s tasks.Sample, pieces []tasks.Piece) []checkedPiece {
	c.checked = c.checked[:0]
	lastMsg, lastEnd := -1, 0
	for _, p := range pieces {
		if p.Msg < 0 || p.Msg >= len(s.Messages) || p.Msg < lastMsg || p.Msg == lastMsg && p.Off < lastEnd {
			continue
		}
		content := s.Messages[p.Msg].Content
		if !p.Usable(content) {
			continue
		}
		text := content[p.Off:p.End]
		if c.keyTaken(p.Key, text, s) {
			continue // its entry is another text's in this very sample
		}
		e, fresh := c.cache.Get(p.Key, text)
		if fresh {
			*e = pieceEntry{keys: e.keys[:0]}
		}
		c.checked = append(c.checked, checkedPiece{msg: p.Msg, off: p.Off, end: p.End, key: p.Key, e: e})
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
		if HasPII(content[pos:p.off]) || p.e.hasPII(content[p.off:p.end]) {
			return true, checked // Check stops at the first PII
		}
		pos = p.end
	}
	return HasPII(content[pos:]), checked
}
