package tokenizer

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func chunks(t *testing.T, pattern, s string) []string {
	t.Helper()
	out, err := PreTokenize(pattern, s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Expectations derived by hand from the regex semantics (alternatives tried
// in order, greedy quantifiers, \s+(?!\S) giving back the last whitespace
// character when a non-space follows).
var gpt2Chunks = []struct {
	in   string
	want []string
}{
	{"", nil},
	{" ", []string{" "}},
	{"Hello world", []string{"Hello", " world"}},
	{"Hello  world", []string{"Hello", " ", " world"}},
	{"Hello   world", []string{"Hello", "  ", " world"}},
	{"  leading spaces and trailing spaces  ", []string{" ", " leading", " spaces", " and", " trailing", " spaces", "  "}},
	{"a\n\nb", []string{"a", "\n", "\n", "b"}},
	{"a\n\n\nand\ttabs\t\there", []string{"a", "\n\n", "\n", "and", "\t", "tabs", "\t", "\t", "here"}},
	{"a \nb", []string{"a", " ", "\n", "b"}},
	{"a\n b", []string{"a", "\n", " b"}},
	{"x  ", []string{"x", "  "}},
	{"I'm we'd've they'll", []string{"I", "'m", " we", "'d", "'ve", " they", "'ll"}},
	{"it'S 'sup", []string{"it", "'", "S", " '", "sup"}},
	{"''s", []string{"''", "s"}},
	{"x's", []string{"x", "'s"}},
	{"2024 had 366", []string{"2024", " had", " 366"}},
	{"abc123def", []string{"abc", "123", "def"}},
	{"!!!??? ... ---", []string{"!!!???", " ...", " ---"}},
	{" !a", []string{" !", "a"}},
	{"héllo wörld", []string{"héllo", " wörld"}},
	{"日本語のテキスト、中文", []string{"日本語のテキスト", "、", "中文"}},
	{"hello 👋 world 🌍", []string{"hello", " 👋", " world", " 🌍"}},
	{"e\u0301", []string{"e", "\u0301"}},                       // a combining mark is not \p{L}
	{"a\u00a0b", []string{"a", "\u00a0", "b"}},                 // NBSP is \s but not ' '
	{"a\u00a0\u00a0b", []string{"a", "\u00a0", "\u00a0", "b"}}, // run of 2: gives back the last
	{"a \u3000b", []string{"a", " ", "\u3000", "b"}},
	{"Ⅻ½٣", []string{"Ⅻ½٣"}},                     // Nl, No, Nd are all \p{N}
	{"a\x80b", []string{"a", "\x80", "b"}},       // invalid byte: one "other" character
	{"\xff\xfe ok", []string{"\xff\xfe", " ok"}}, // run of invalid bytes
	{"a\x1cb", []string{"a", "\x1c", "b"}},       // U+001C is not White_Space
	{"\r\n", []string{"\r\n"}},
	{"x\r\ny", []string{"x", "\r", "\n", "y"}},
}

func TestGPT2PreTokenizer(t *testing.T) {
	for _, c := range gpt2Chunks {
		if got := chunks(t, PatternGPT2, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("GPT-2 split of %q = %q, want %q", c.in, got, c.want)
		}
	}
}

var llama3Chunks = []struct {
	in         string
	want       []string
	qwen2Diffs []string // expected for Qwen2 when it differs
}{
	{"Hello world", []string{"Hello", " world"}, nil},
	{"Hello  world", []string{"Hello", " ", " world"}, nil},
	{"I'M WE'D'VE they'Ll", []string{"I", "'M", " WE", "'D", "'VE", " they", "'Ll"}, nil},
	{"'hello", []string{"'hello"}, nil}, // [^\r\n\p{L}\p{N}]?\p{L}+
	{"(word) x", []string{"(word", ")", " x"}, nil},
	{"\tword", []string{"\tword"}, nil},
	{"\nword", []string{"\n", "word"}, nil},
	{"1234567", []string{"123", "456", "7"}, []string{"1", "2", "3", "4", "5", "6", "7"}},
	{"x 12", []string{"x", " ", "12"}, []string{"x", " ", "1", "2"}},
	{"a ...\n\nb", []string{"a", " ...\n\n", "b"}, nil}, // punctuation swallows following newlines
	{"a  \n  b", []string{"a", "  \n", " ", " b"}, nil},
	{"a \n \n b", []string{"a", " \n \n", " b"}, nil},
	{"a\r\n\r\nb", []string{"a", "\r\n\r\n", "b"}, nil},
	{"end  ", []string{"end", "  "}, nil},
	{"x\u017f", []string{"x\u017f"}, nil},
	{"it\u2019s", []string{"it", "\u2019s"}, nil}, // typographic apostrophe: not a contraction, but "other"+letters
	{"it'\u017f", []string{"it", "'\u017f"}, nil}, // (?i)'s matches the long s
	{"a\x80b", []string{"a", "\x80b"}, nil},
	{"$$$ 100", []string{"$$$", " ", "100"}, []string{"$$$", " ", "1", "0", "0"}},
}

func TestLlama3Qwen2PreTokenizer(t *testing.T) {
	for _, c := range llama3Chunks {
		if got := chunks(t, PatternLlama3, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Llama-3 split of %q = %q, want %q", c.in, got, c.want)
		}
		want := c.want
		if c.qwen2Diffs != nil {
			want = c.qwen2Diffs
		}
		if got := chunks(t, PatternQwen2, c.in); !reflect.DeepEqual(got, want) {
			t.Errorf("Qwen2 split of %q = %q, want %q", c.in, got, want)
		}
	}
}

// ---- oracle: try each alternative in order at each position ----

type oracleAlt struct {
	re        *regexp.Regexp // anchored, lookahead-free alternative
	lookahead bool           // \s+(?!\S)
}

func isSpaceAt(s string, i int) bool {
	r, w := utf8.DecodeRuneInString(s[i:])
	return !(r == utf8.RuneError && w == 1) && unicode.IsSpace(r)
}

func newOracle(t testing.TB, alts ...string) []oracleAlt {
	var out []oracleAlt
	for _, a := range alts {
		if a == `\s+(?!\S)` {
			out = append(out, oracleAlt{lookahead: true})
			continue
		}
		g, err := translateRegex(a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, oracleAlt{re: regexp.MustCompile(`^(?:` + g + `)`)})
	}
	return out
}

func oracleSplit(alts []oracleAlt, s string) []string {
	var out []string
	gap := -1
	for i := 0; i < len(s); {
		end := -1
		for _, a := range alts {
			if a.lookahead {
				var ends []int
				for j := i; j < len(s) && isSpaceAt(s, j); {
					_, w := utf8.DecodeRuneInString(s[j:])
					j += w
					ends = append(ends, j)
				}
				for k := len(ends) - 1; k >= 0; k-- {
					if e := ends[k]; e == len(s) || isSpaceAt(s, e) {
						end = e
						break
					}
				}
			} else if loc := a.re.FindStringIndex(s[i:]); loc != nil && loc[1] > 0 {
				end = i + loc[1]
			}
			if end >= 0 {
				break
			}
		}
		if end < 0 { // no alternative matches here: part of a gap
			if gap < 0 {
				gap = i
			}
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
			continue
		}
		if gap >= 0 {
			out = append(out, s[gap:i])
			gap = -1
		}
		out = append(out, s[i:end])
		i = end
	}
	if gap >= 0 {
		out = append(out, s[gap:])
	}
	return out
}

func oracles(t testing.TB) map[string][]oracleAlt {
	return map[string][]oracleAlt{
		PatternGPT2: newOracle(t, `'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`, ` ?\p{L}+`, ` ?\p{N}+`,
			` ?[^\s\p{L}\p{N}]+`, `\s+(?!\S)`, `\s+`),
		PatternLlama3: newOracle(t, `(?i:'s|'t|'re|'ve|'m|'ll|'d)`, `[^\r\n\p{L}\p{N}]?\p{L}+`, `\p{N}{1,3}`,
			` ?[^\s\p{L}\p{N}]+[\r\n]*`, `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`),
		PatternQwen2: newOracle(t, `(?i:'s|'t|'re|'ve|'m|'ll|'d)`, `[^\r\n\p{L}\p{N}]?\p{L}+`, `\p{N}`,
			` ?[^\s\p{L}\p{N}]+[\r\n]*`, `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`),
	}
}

var trickyPieces = []string{
	"a", "Z", "é", "ß", "日", "1", "٣", "Ⅻ", "½", " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u3000",
	"\u2028", "\u0085", "\v", "\f", "'", "'s", "'S", "'ll", "'LL", "'ve", "'Re", "'d", "'t", "'M", "ſ", "\u2019",
	"!", "?", ".", "$", "(", "😀", "\u0301", "\x80", "\xff", "\xe6\x97", "\x00", "\x1c", "_", "-", "word", "123",
	"\u1c89", "\U00010d40", "\u0897", // Unicode 16.0: a letter, a digit, a mark
}

func randomTricky(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(12); n >= 0; n-- {
		b.WriteString(trickyPieces[r.IntN(len(trickyPieces))])
	}
	return b.String()
}

func TestPreTokenizersMatchOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	or := oracles(t)
	inputs := []string{}
	for _, c := range gpt2Chunks {
		inputs = append(inputs, c.in)
	}
	for _, c := range llama3Chunks {
		inputs = append(inputs, c.in)
	}
	for range 20000 {
		inputs = append(inputs, randomTricky(r))
	}
	for pat, alts := range or {
		for _, s := range inputs {
			want := oracleSplit(alts, s)
			got := chunks(t, pat, s)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("pattern %.20q… on %q:\n got  %q\n want %q", pat, s, got, want)
			}
		}
	}
}

func FuzzPreTokenizers(f *testing.F) {
	for _, c := range gpt2Chunks {
		f.Add(c.in)
	}
	f.Add("I'M  \r\n\t x1234 ...\n\n")
	or := oracles(f)
	f.Fuzz(func(t *testing.T, s string) {
		for pat, alts := range or {
			want := oracleSplit(alts, s)
			got, err := PreTokenize(pat, s)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("pattern %.20q… on %q:\n got  %q\n want %q", pat, s, got, want)
			}
			if strings.Join(got, "") != s {
				t.Fatalf("chunks do not tile the input")
			}
		}
	})
}

// The GPT-2 chunking of the shared test cases, encoded chunk by chunk, gives
// the expected ids (so the pre-tokenizer agrees with gpt-3-encoder/tiktoken).
func TestGPT2ChunksAgainstTestCases(t *testing.T) {
	tok := loadGPT2(t)
	up, cross := loadGPT2Cases(t)
	sc := new(scratch)
	for _, c := range append(up, cross...) {
		var ids []int
		for _, ch := range chunks(t, PatternGPT2, c.Text) {
			ids = tok.Model().appendWord(ids, ByteLevelEncode(ch), sc)
		}
		if len(ids) == 0 {
			ids = []int{}
		}
		if len(c.IDs) == 0 {
			c.IDs = []int{}
		}
		if !reflect.DeepEqual(ids, c.IDs) {
			t.Errorf("%q: chunk-wise ids %v, want %v", c.Text, ids, c.IDs)
		}
	}
}

func TestRegexFallback(t *testing.T) {
	// Lookahead-free patterns go through Go's regexp with Unicode \s.
	got := chunks(t, `\s+|\w+`, "a\u00a0b c")
	if want := []string{"a", "\u00a0", "b", " ", "c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fallback split = %q, want %q", got, want)
	}
	for _, p := range []string{`\s+(?!\S)|\w+`, `(?<=a)b`, `(?>a)`, `[\S]`, `[a[b]]`} {
		if _, err := compilePattern(p); !errors.Is(err, ErrUnsupportedRegex) {
			t.Errorf("compilePattern(%q) error = %v, want ErrUnsupportedRegex", p, err)
		}
	}
	if _, err := compilePattern(`(?i:'s|'t)|\p{L}+|[^\s\p{L}]+`); err != nil {
		t.Errorf("a look-ahead-free pattern failed: %v", err)
	}
}

func TestSplitBehaviors(t *testing.T) {
	// Hugging Face's NormalizedString::split test.
	s := "The-final--countdown"
	want := map[string][]string{
		behaviorRemoved:            {"The", "final", "countdown"},
		behaviorIsolated:           {"The", "-", "final", "-", "-", "countdown"},
		behaviorMergedWithPrevious: {"The-", "final-", "-", "countdown"},
		behaviorMergedWithNext:     {"The", "-final", "-", "-countdown"},
		behaviorContiguous:         {"The", "-", "final", "--", "countdown"},
	}
	for beh, w := range want {
		ms := literalMatcher("-").matches(s, nil)
		var got []string
		for _, sp := range splitBy(s, ms, beh, false, nil) {
			got = append(got, s[sp.start:sp.end])
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %q, want %q", beh, got, w)
		}
	}
	// invert: the pattern matches words, the gaps are the delimiters.
	m, _ := compilePattern(`\w+`)
	ms := m.matches("ab, cd", nil)
	var got []string
	for _, sp := range splitBy("ab, cd", ms, behaviorRemoved, true, nil) {
		got = append(got, "ab, cd"[sp.start:sp.end])
	}
	if want := []string{"ab", "cd"}; !reflect.DeepEqual(got, want) {
		t.Errorf("inverted Removed: %q, want %q", got, want)
	}
}
