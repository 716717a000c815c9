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
// the message as over the text around the piece and the piece apart.
type Piece struct {
	Msg, Off, End, Key int
}

// Usable reports whether p is a non-empty part of content between two
// '\n' (or an end of content), with a key a PieceCache keeps.
func (p Piece) Usable(content string) bool {
	return p.Key >= 0 && p.Key < MaxPieceKey && p.Off >= 0 && p.Off < p.End && p.End <= len(content) &&
		(p.Off == 0 || content[p.Off-1] == '\n') && (p.End == len(content) || content[p.End] == '\n')
}

// MaxPieceKey bounds the keys a PieceCache keeps.
const MaxPieceKey = 1 << 16

// PieceCache keeps, for the samples of one user at a time, a value made
// from the text of each piece key. It is not safe for concurrent use.
type PieceCache[T any] struct {
	gen   uint32
	slots []*pieceSlot[T] // by key; pointers, so that values stay put
}

type pieceSlot[T any] struct {
	gen  uint32
	text string
	val  T
}

// Reset forgets every text (and lets go of them): the next samples are
// another user's. The values stay, for Get to hand out again.
func (c *PieceCache[T]) Reset() {
	c.gen++
	for _, s := range c.slots {
		if s != nil {
			s.text = ""
			if c.gen == 0 { // wrapped: no slot may look current
				s.gen = 0
			}
		}
	}
	if c.gen == 0 {
		c.gen = 1
	}
}

// Get returns the value kept for key when it was made from text; else
// fresh is true and the value (the one of an older text, to be remade
// reusing its memory, or a zero value) is now kept for text. key must be
// in [0, MaxPieceKey) (see Usable).
func (c *PieceCache[T]) Get(key int, text string) (v *T, fresh bool) {
	if c.gen == 0 {
		c.gen = 1
	}
	for key >= len(c.slots) {
		c.slots = append(c.slots, nil)
	}
	s := c.slots[key]
	if s == nil {
		s = new(pieceSlot[T])
		c.slots[key] = s
	}
	if s.gen == c.gen && s.text == text {
		return &s.val, false
	}
	s.gen, s.text = c.gen, text
	return &s.val, true
}
