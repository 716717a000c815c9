package source

import (
	"strings"
	"testing"
	"time"
)

// Pathological inputs must stay linear.
func TestBloggerNoQuadratic(t *testing.T) {
	for _, unit := range []string{"<post>", "<date>", "<post>x</date>", "<date>1,May,2004<post>"} {
		in := strings.Repeat(unit, 200000)
		start := time.Now()
		recs, _ := parse(t, &bloggerAdapter{}, "x.xml", in)
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("%q x 200000: %v (%d posts)", unit, el, len(recs))
		}
	}
}
