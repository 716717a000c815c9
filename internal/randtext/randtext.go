// Package randtext makes random texts for the randomised tests that hold
// a fast scanner to the plain code it replaced: texts built from an
// alphabet of fragments chosen so that every kind of byte falls at every
// place of the eight-byte steps.
package randtext

import (
	"math/rand/v2"
	"strings"
)

// Join returns rng.IntN(maxParts) fragments of alphabet, each drawn with
// rng, one after the other.
func Join(rng *rand.Rand, alphabet []string, maxParts int) string {
	var b strings.Builder
	for range rng.IntN(maxParts) {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}
