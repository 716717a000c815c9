package tasks

// Piece marks a part of a sample's message that recurs in other samples of
// the same user (a past record shown in several prompts):
// Messages[Msg].Content[Off:End], under Key (one text per key within one
// user's samples). A Piece is only a hint: whoever reuses work on its text
// (PieceCache) checks that it is Usable and that its bytes are the ones
// seen under Key, and treats them as ordinary text when they are not.
//
// A usable piece lies between two '\n' of its message (or an end of it),
// so that a scan which treats '\n' as a separator (word splitting, the PII
// patterns, JSON escaping, which goes rune by rune) gives the same over
// the message as over the text around the piece and the piece apart. A
// piece may also start with a ' ' in the middle of a line (the header of
// a past record after its number): a ' ' separates words as a '\n' does,
// and ends a match of every PII pattern but the phone numbers', which
// whoever tests PII looks at across the piece's start (qc.Checker).
type Piece struct {
	Msg, Off, End, Key int
}

// Usable reports whether p is a non-empty part of content between two
// '\n' (or an end of content), or from a ' ' to a '\n' (or the end), with a
// key a PieceCache keeps.
func (p Piece) Usable(content string) bool {
	return p.Key >= 0 && p.Key < MaxPieceKey && p.Off >= 0 && p.Off < p.End && p.End <= len(content) &&
		(p.Off == 0 || content[p.Off-1] == '\n' || content[p.Off] == ' ') && (p.End == len(content) || content[p.End] == '\n')
}

// MidLine reports whether usable piece p starts in the middle of a line of
// content (with a ' ').
func (p Piece) MidLine(content string) bool {
	return p.Off > 0 && content[p.Off-1] != '\n'
}

// MaxPieceKey bounds the keys a PieceCache keeps.
const MaxPieceKey = 1 << 16

// PieceCache keeps, for the samples of one user at a time, a value made
// from the text of each piece key. It is not safe for concurrent use.
//
// Reset hands the values of the user's keys to a free list that Get
// reuses (their memory with them), so a cache kept from user to user
// holds about as many values as one user has pieces, whatever keys the
// users had.
type PieceCache[T any] struct {
	slots []*pieceSlot[T] // by key; pointers, so that values stay put
	used  []int           // keys with a slot, since Reset
	free  []*pieceSlot[T]
}

type pieceSlot[T any] struct {
	text string
	val  T
}

// Reset forgets every text (and lets go of them): the next samples are
// another user's. The values stay, for Get to hand out again.
func (c *PieceCache[T]) Reset() {
	for _, k := range c.used {
		s := c.slots[k]
		s.text = ""
		c.free = append(c.free, s)
		c.slots[k] = nil
	}
	c.used = c.used[:0]
}

// Peek returns the text kept under key and its value, ok false when key
// has none since Reset. It changes nothing.
func (c *PieceCache[T]) Peek(key int) (text string, v *T, ok bool) {
	if key >= 0 && key < len(c.slots) {
		if s := c.slots[key]; s != nil {
			return s.text, &s.val, true
		}
	}
	return "", nil, false
}

// Get returns the value kept for key when it was made from text; else
// fresh is true and the value (the one of an older text, to be remade
// reusing its memory, or a zero value) is now kept for text. key must be
// in [0, MaxPieceKey) (see Usable).
func (c *PieceCache[T]) Get(key int, text string) (v *T, fresh bool) {
	for key >= len(c.slots) {
		c.slots = append(c.slots, nil)
	}
	s := c.slots[key]
	if s == nil {
		if n := len(c.free); n > 0 {
			s, c.free = c.free[n-1], c.free[:n-1]
		} else {
			s = new(pieceSlot[T])
		}
		c.slots[key] = s
		c.used = append(c.used, key)
	} else if s.text == text {
		return &s.val, false
	}
	s.text = text
	return &s.val, true
}
