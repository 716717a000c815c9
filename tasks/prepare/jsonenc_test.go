package prepare

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/piecetest"
	"github.com/humanllm/humanllm/internal/randtext"
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

// refWordCount is the rune-decoding loop the encoder's word count
// replaced: runs of runes other than ' ', '\n', '\t' and '\r'.
func refWordCount(s string) int {
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
	return n
}

// FuzzWordCount holds the word count of appendJSONBodyWords to
// refWordCount, and its bytes to appendJSONString's.
func FuzzWordCount(f *testing.F) {
	for _, s := range []string{"", " a  b\tc\nd\re ", "é\xff x\u00a0y", "\v\f", "abcdefgh ijklmnop\xa0\x8a\x89\x8d q  \t\r\nrstuvwxyz é",
		"ab<cd efgh\" ij", "word\u2028word a&b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, n := appendJSONBodyWords(nil, s)
		if want := refWordCount(s); n != want {
			t.Fatalf("appendJSONBodyWords(%q) counts %d words, want %d", s, n, want)
		}
		if want := appendJSONString(nil, s); string(got) != string(want[1:len(want)-1]) {
			t.Fatalf("appendJSONBodyWords(%q) = %s, want %s", s, got, want)
		}
	})
}

// TestSampleJSONPieces: with the pieces of a user's prompts, right or
// spoiled (a key reused for another text, offsets off by one, unordered,
// another message), appendSample still writes json.Marshal's bytes and
// counts the words of the prompt and the target as wordCount does.
func TestSampleJSONPieces(t *testing.T) {
	frags := []string{"word", "Wörter", "<b>", "&", "\"q\"", `\`, "\u2028", "\u2029", "\xff", "\xe2\x80", "é", "😀",
		"\x01", "\t", " ", "  ", "\n", "\n\n", "\r"}
	rng := rand.New(rand.NewPCG(8, 9))
	text := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(frags[rng.IntN(len(frags))])
		}
		return b.String()
	}
	used := 0
	for user := range 200 {
		var pc tasks.PieceCache[pieceJSON]
		texts := make([]string, 1+rng.IntN(6))
		header := "\nPost 1:\n"
		for k := range texts {
			texts[k] = text(1 + rng.IntN(30))
			if user%2 == 0 { // pieces that start mid-line with a ' ' (tasks.Piece), after a word
				texts[k] = " " + texts[k]
				header = "\nPost 12"
			}
		}
		for range 1 + rng.IntN(6) {
			prompt, pieces := piecetest.Prompt(rng, texts, 1, header, text)
			piecetest.Spoil(rng, pieces, len(texts), len(prompt))
			s := tasks.Sample{Messages: []tasks.Message{
				{Role: "system", Content: text(3)}, {Role: "user", Content: prompt}, {Role: "assistant", Content: text(5)},
			}, Task: "action.post", Source: "reddit", User: "u"}
			want, err := json.Marshal(&s)
			if err != nil {
				t.Fatal(err)
			}
			got, pw, tw := appendSample(nil, &s, pieces, &pc)
			if !bytes.Equal(got, want) {
				t.Fatalf("pieces %+v:\n got %s\nwant %s", pieces, got, want)
			}
			if wp, wt := refWordCount(s.Messages[0].Content)+refWordCount(s.Messages[1].Content), refWordCount(s.Messages[2].Content); pw != wp || tw != wt {
				t.Fatalf("words %d, %d; want %d, %d", pw, tw, wp, wt)
			}
			used += len(pieces)
		}
	}
	if used < 200 {
		t.Fatalf("only %d pieces: the test does not exercise them", used)
	}
}

// TestJSONBodyEightAtATime holds appendJSONBody, which steps over safe
// bytes eight at a time, to json.Marshal, and its word count to
// refWordCount, on random texts of safe bytes,
// every kind of escaped byte, runes of two to four bytes, U+2028/U+2029
// and invalid bytes, so that each falls at every place of an eight-byte
// step and in the tail.
func TestJSONBodyEightAtATime(t *testing.T) {
	alphabet := []string{"a", "Z", " ", "  ", "0", "~", "=", ";", "?", "\"", "\\", "<", ">", "&", "\n", "\t", "\r", "\b", "\f", "\v", "\u00a0",
		"\x00", "\x1f", "\x7f", "é", "€", "😀", "\u2028", "\u2029", "\xff", "\xe2\x80", "abcdefgh"}
	rng := rand.New(rand.NewPCG(10, 11))
	for range 20000 {
		s := randtext.Join(rng, alphabet, 40)
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		if _, n := appendJSONBodyWords(nil, s); n != refWordCount(s) {
			t.Fatalf("appendJSONBodyWords(%q) counts %d words, want %d", s, n, refWordCount(s))
		}
	}
}
