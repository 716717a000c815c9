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
//     HasPII("\n" + y) (TestHasPIISplitsAtNewlines);
//   - a piece may also start with a ' ' mid-line (tasks.Piece): a ' ' ends
//     every match but a phone number's in the same way, so HasPII(x + " " +
//     y) == HasPII(x) || HasPII(" " + y) || phoneAcross (TestHasPIISplitsAtSpace).
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
	tLetters               letterCount
	tValid, tPIIDone, tPII bool
	// sys is the last system message seen and sysPII its HasPII.
	sys    string
	sysPII bool
	sysSet bool
	// stamp numbers the samples verified: an entry whose stamp is the
	// current one is used by a piece of the sample being checked.
	stamp uint64
}

// pieceEntry is what a Checker keeps of the text of one piece.
type pieceEntry struct {
	piiDone, pii bool
	keysDone     bool
	keys         []uint64 // the keys of the words of text (leakScratch.appendKeys)
	stamp        uint64   // Checker.stamp of the last sample that used it
	// The digits of the run of phoneByte that starts the text, and
	// whether it has a '+' (for a piece that starts mid-line: see
	// phoneAcross), once leadDone.
	leadDone, leadPlus bool
	leadDigits         int
	lettersDone        bool
	letterCount        // of the text, once lettersDone
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

// phoneAcross is phoneAcross(content, off) for content[off:] starting
// with text, the entry's. A phone number has a '+' or at least ten digits
// (see phoneRe), all in its run of phone bytes; the run that starts text
// is counted once per user, so the regexp runs only when the run across
// off (the bytes before off and that one) has what a number needs.
func (e *pieceEntry) phoneAcross(content string, off int, text string) bool {
	if !phoneByte[content[off-1]] {
		return false
	}
	if !e.leadDone {
		e.leadDigits, e.leadPlus = phoneDigits(text[:phoneRun(text)])
		e.leadDone = true
	}
	i := off - 1
	for i > 0 && phoneByte[content[i-1]] {
		i--
	}
	d, plus := phoneDigits(content[i:off])
	if !plus && !e.leadPlus && d+e.leadDigits < 10 {
		return false
	}
	return phoneAcross(content, off)
}

// letters is letterCounts(text), text the piece's.
func (e *pieceEntry) letters(text string) letterCount {
	if !e.lettersDone {
		e.letterCount, e.lettersDone = letterCounts(text), true
	}
	return e.letterCount
}

// targetLetters is letterCounts(t) given the pieces of t (see
// leakScratch.addTargetPieces), whose counts are made once per user.
func targetLetters(t string, pieces []checkedPiece) letterCount {
	var n letterCount
	pos := 0
	for _, p := range pieces {
		n = n.add(letterCounts(t[pos:p.off])).add(p.e.letters(t[p.off:p.end]))
		pos = p.end
	}
	return n.add(letterCounts(t[pos:]))
}

// checkedPiece is a piece verified against the message it is in.
type checkedPiece struct {
	msg, off, end, key int
	e                  *pieceEntry
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
	c.stamp++
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
		if t, e, ok := c.cache.Peek(p.Key); ok && e.stamp == c.stamp && t != text {
			continue // its entry is another text's in this very sample
		}
		e, fresh := c.cache.Get(p.Key, text)
		if fresh {
			*e = pieceEntry{keys: e.keys[:0]}
		}
		e.stamp = c.stamp
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
		if HasPII(content[pos:p.off]) || p.e.hasPII(content[p.off:p.end]) ||
			p.off > 0 && content[p.off-1] != '\n' && p.e.phoneAcross(content, p.off, content[p.off:p.end]) {
			return true, checked // Check stops at the first PII
		}
		pos = p.end
	}
	return HasPII(content[pos:]), checked
}
