package tasks

// Piece marks a part of a sample's message that recurs in other samples of
// the same user (a past record shown in several prompts):
// Messages[Msg].Content[Off:End], under Key (one text per key within one
// user's samples). A Piece is only a hint: a check that uses it to reuse
// what it computed for the text verifies that the bytes are the ones it
// saw under Key, and checks them afresh when they are not.
type Piece struct {
	Msg, Off, End, Key int
}
