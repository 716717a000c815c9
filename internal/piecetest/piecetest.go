// Package piecetest builds prompts made of past-record pieces (tasks.Piece)
// for the tests of the code that trusts pieces only after checking them
// (qc.Checker, the prepare JSON encoder): correct pieces, and pieces spoilt
// in the ways such code must catch.
package piecetest

import (
	"math/rand/v2"
	"strings"

	"github.com/humanllm/humanllm/tasks"
)

// Prompt writes filler(rng.IntN(5)), then up to four past records, each
// as header + texts[k] + "\n\n" with a piece (message msg) over texts[k],
// then filler again. It returns the prompt and its pieces.
func Prompt(rng *rand.Rand, texts []string, msg int, header string, filler func(words int) string) (string, []tasks.Piece) {
	var b strings.Builder
	var pieces []tasks.Piece
	b.WriteString(filler(rng.IntN(5)))
	for range rng.IntN(5) {
		b.WriteString(header)
		k := rng.IntN(len(texts))
		off := b.Len()
		b.WriteString(texts[k])
		pieces = append(pieces, tasks.Piece{Msg: msg, Off: off, End: b.Len(), Key: k})
		b.WriteString("\n\n")
	}
	b.WriteString(filler(rng.IntN(5)))
	return b.String(), pieces
}

// Spoil breaks about half of the pieces, each in one of the ways a wrong
// hint can be wrong: a key with another (or no) text, an end or a start
// off by one, another message, two pieces out of order, an end past the
// prompt (promptLen long).
func Spoil(rng *rand.Rand, pieces []tasks.Piece, nkeys, promptLen int) {
	for i := range pieces {
		switch rng.IntN(12) {
		case 0:
			pieces[i].Key = rng.IntN(nkeys + 2)
		case 1:
			pieces[i].Off += rng.IntN(3) - 1
		case 2:
			pieces[i].End += rng.IntN(3) - 1
		case 3:
			pieces[i].Msg = rng.IntN(4) - 1
		case 4:
			if i > 0 {
				pieces[i], pieces[i-1] = pieces[i-1], pieces[i]
			}
		case 5:
			pieces[i].End = promptLen + 1
		}
	}
}
