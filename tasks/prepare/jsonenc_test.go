package prepare

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/humanllm/humanllm/tasks"
)

func checkSampleJSON(t *testing.T, s tasks.Sample) {
	t.Helper()
	want, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendSampleJSON(nil, &s); !bytes.Equal(got, want) {
		t.Fatalf("appendSampleJSON:\n got %s\nwant %s", got, want)
	}
}

func TestSampleJSONMatchesMarshal(t *testing.T) {
	var all []byte
	for c := 0; c < 256; c++ {
		all = append(all, byte(c))
	}
	for _, s := range []string{"", string(all), "a\u2028b\u2029c\u2027", "<&>\"\\", "é€😀\xff\xfe\xc3", "\x00\x1f\x7f"} {
		checkSampleJSON(t, tasks.Sample{Messages: []tasks.Message{{Role: "user", Content: s}, {Role: s, Content: "x"}}, Task: s, Source: "reddit", User: s})
	}
	checkSampleJSON(t, tasks.Sample{})
	checkSampleJSON(t, tasks.Sample{Messages: []tasks.Message{}})
}

func FuzzSampleJSON(f *testing.F) {
	f.Add("hello", "a\u2028<b>&\"\\\n\t\x01\xff", "action.post")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		checkSampleJSON(t, tasks.Sample{Messages: []tasks.Message{{Role: a, Content: b}, {Role: "assistant", Content: c}}, Task: c, Source: a, User: b})
	})
}

// FuzzWordCount holds wordCount to the rune-decoding loop it replaced.
func FuzzWordCount(f *testing.F) {
	for _, s := range []string{"", " a  b\tc\nd\re ", "é\xff x\u00a0y", "\v\f", "abcdefgh ijklmnop\xa0\x8a\x89\x8d q  \t\r\nrstuvwxyz é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, in := 0, false
		for rest := s; len(rest) > 0; {
			r, size := utf8.DecodeRuneInString(rest)
			rest = rest[size:]
			sp := r == ' ' || r == '\n' || r == '\t' || r == '\r'
			if !sp && !in {
				n++
			}
			in = !sp
		}
		if got := wordCount(s); got != n {
			t.Fatalf("wordCount(%q) = %d, want %d", s, got, n)
		}
	})
}
