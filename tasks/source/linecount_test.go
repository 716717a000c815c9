package source

import (
	"math/rand/v2"
	"testing"
)

// oracleLineAt is lineCounter.at as first written: a byte-by-byte scan
// with one byte of look-ahead.
type oracleLineCounter struct {
	data []byte
	off  int
	line int
}

func (c *oracleLineCounter) at(off int) int {
	d := c.data
	for i := c.off; i < off && i < len(d); i++ {
		switch d[i] {
		case '\n':
			c.line++
		case '\r':
			if i+1 >= len(d) || d[i+1] != '\n' {
				c.line++
			}
		case 0xC2:
			if i+1 < len(d) && d[i+1] == 0x85 {
				c.line++
			}
		}
	}
	if off > c.off {
		c.off = off
	}
	return c.line
}

func TestLineCounterMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	alphabet := []byte("ab\r\n\xc2\x85<")
	for trial := 0; trial < 3000; trial++ {
		data := make([]byte, rng.IntN(200))
		for i := range data {
			data[i] = alphabet[rng.IntN(len(alphabet))]
		}
		got := lineCounter{data: data, line: 1}
		want := oracleLineCounter{data: data, line: 1}
		for off := 0; off <= len(data)+3; off += rng.IntN(9) {
			if g, w := got.at(off), want.at(off); g != w {
				t.Fatalf("%q at %d: line %d, want %d", data, off, g, w)
			}
		}
	}
}
