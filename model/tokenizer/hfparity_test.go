package tokenizer

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/nodetest"
	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/tasks/source"
)

// Parity with Hugging Face tokenizers (the Rust library through its official
// Node binding, `make hfjs`): every tokenizer.json we read or write must
// encode and decode a varied corpus exactly as it does. One node process per
// tokenizer runs the whole batch.
//
// What is compared, per text:
//   - ids: our EncodeOpts{Special} = HF encode(add_special_tokens=False)
//     (HF always recognises added tokens, special ones included);
//   - ids_post: with AddSpecialTokens = HF add_special_tokens=True;
//   - decoding HF's ids: our Decode / DecodeOpts{SkipSpecial} = HF decode
//     with skip_special_tokens False / True.
//
// Invalid UTF-8 cannot reach HF as such (its input is a string): what it
// would see from bytes.decode("utf-8", "replace") — each maximal invalid
// subsequence replaced by U+FFFD — is what both sides encode. Decoding is
// then compared on our ids of the raw bytes: we return the raw bytes by
// design (Decode(Encode(s)) == s), HF replaces invalid UTF-8, so our output
// is compared after the replacement HF's decoder applies: per maximal
// subsequence for ByteLevel (String::from_utf8_lossy), and for ByteFallback
// decoders one U+FFFD per byte of a run of byte tokens that is not valid
// UTF-8 (applied to the ids before our Decode). Decode(Encode(s)) == s is
// checked too for the tokenizers without a normalizer.

// hfRow is one output line of testdata/hf_tokenizers.mjs.
type hfRow struct {
	IDs      []int  `json:"ids"`
	IDsPost  []int  `json:"ids_post"`
	Text     string `json:"text"`
	TextSkip string `json:"text_skip"`
	Decoded  string `json:"decoded"`
}

// hfHead is the first output line of testdata/hf_tokenizers.mjs.
type hfHead struct {
	Version string `json:"tokenizers"`
	Vocab   int    `json:"vocab_size"`
}

// runHF runs testdata/hf_tokenizers.mjs on the JSON lines in, with the
// tokenizer spec (a tokenizer.json path, or gpt2:DIR) and mode args.
func runHF[T any](t *testing.T, in []any, spec string, mode ...string) (hfHead, []T) {
	t.Helper()
	raw, rows := nodetest.RunJSONL[T](t, nodetest.HFJS, 5*time.Minute, filepath.Join("testdata", "hf_tokenizers.mjs"), in, append([]string{spec}, mode...)...)
	var head hfHead
	if err := json.Unmarshal(raw, &head); err != nil {
		t.Fatalf("HF tokenizers output: %v", err)
	}
	return head, rows
}

// lossyUTF8 is Rust's String::from_utf8_lossy (what Python's
// bytes.decode("utf-8", "replace") also does): each maximal prefix of a
// valid sequence that is cut short, or each byte that starts none, becomes
// one U+FFFD.
func lossyUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || n > 1 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		b.WriteRune(utf8.RuneError)
		i += maximalSubpart(s[i:])
	}
	return b.String()
}

// maximalSubpart is the length of the maximal subpart of an ill-formed
// sequence at the start of s (Unicode §3.9, table 3-7), at least 1.
func maximalSubpart(s string) int {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch c := s[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(s); n++ {
		if s[n] < lo || s[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}

func TestLossyUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"ok":                    "ok",
		"\xff":                  "\uFFFD",
		"a\xe6\x97b":            "a\uFFFDb",     // a cut 3-byte sequence: one
		"\xe6\x97\xe6\x97":      "\uFFFD\uFFFD", // two cut sequences
		"\xed\xa0\x80":          "\uFFFD\uFFFD\uFFFD",
		"\xf0\x9f\x98":          "\uFFFD",
		"\xf0\x9f\x98\x80\x80":  "😀\uFFFD",
		"\xc0\xaf":              "\uFFFD\uFFFD",
		"\xe0\x80\xaf":          "\uFFFD\uFFFD\uFFFD",
		"\xf4\x90\x80\x80":      "\uFFFD\uFFFD\uFFFD\uFFFD",
		"\xe2\x82\xac\xe2\x82x": "€\uFFFDx",
	} {
		if got := lossyUTF8(in); got != want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", in, got, want)
		}
	}
}

// hfCorpus is the text batch: a sample of the real logs across all sources
// (as the source adapters read them, and raw lines of the files), hand-made
// edge cases, the tokenizer's added tokens in text, and random mixes of
// tricky pieces.
func hfCorpus(t *testing.T, added []string) []string {
	texts := append([]string(nil), realSample(t)...)
	texts = append(texts, fuzzSeeds...)
	texts = append(texts, edgeTexts...)
	for _, a := range added {
		texts = append(texts, a, a+a, "x"+a+"y", " "+a+" ", "\n"+a+"\n", a[:len(a)-1], "Hello"+a+"world "+a[1:],
			"<|im_start|>user\n"+a+" hi<|im_end|>", strings.ToUpper(a), "  "+a+"  x", "\t"+a+"\t", "word"+a, a+"word",
			"a "+a+", "+a+"!", a+"\n\n", "\u200d"+a+"\u200c", "\u0897"+a+"½", "²"+a+"Ⅻ", "_"+a+"\u0301")
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 1500 {
		texts = append(texts, randomTricky(r))
	}
	for i := 0; len(added) > 0 && i < 500; i++ {
		texts = append(texts, randomTricky(r)+added[r.IntN(len(added))]+randomTricky(r))
	}
	return texts
}

var edgeTexts = []string{
	// emoji: ZWJ sequences, skin tones, flags, keycaps, variation selectors
	"👩‍👩‍👧‍👦 family 👍🏽 ok 🇫🇷🇯🇵 1️⃣ ❤️ ☺︎", "🙂🙂🙂 lol😂😂", "text🎸guitar🎸",
	// CJK, Korean, Japanese kana, full-width forms
	"日本語のテキストです。東京タワー！", "中文文本，标点符号。", "한국어 텍스트 입니다", "ＦＵＬＬ　ｗｉｄｔｈ　１２３",
	// other scripts, RTL, combining marks, Zalgo
	"مرحبا بالعالم", "नमस्ते दुनिया", "ภาษาไทย", "Ελληνικά κείμενο", "Привет, мир!",
	"cafe\u0301 na\u0308ive e\u0301\u0301\u0301", "Z\u0351\u0352a\u0353l\u0354g\u0355o\u0356", "\u0301leading mark",
	// whitespace runs, tabs, newlines, CR/LF, unusual spaces
	"a  b   c    d     e", "     ", "\t\t\tindented\n\t\tmore", "line1\nline2\n\n\nline5", "crlf\r\nline\r\n\r\n",
	"trailing   \n", "\n\n\n", " \n \n ", "\u00a0nbsp\u00a0\u00a0x", "ideo\u3000space", "\u2028\u2029sep", "\v\f\x85",
	"word\u200bzero\u200cwidth\u200djoin\ufeffbom",
	// numbers, contractions, punctuation, URLs, code
	"1234567890 3.14159 1,000,000 ١٢٣", "I'm you're he'll they've she'd can't I'M YOU'RE", "'''s ''ll",
	"https://example.com/a?b=c&d=e#f", "func main() { fmt.Println(\"hi\") }", "!!!???...---___***",
	"x = {\"a\": [1, 2], 'b': None}", "<b>bold</b> &amp; &lt;tag&gt;",
	// control characters and invalid UTF-8
	"\x00\x01\x02\x1f\x7f", "bad \xff byte", "cut \xe6\x97 seq", "\xed\xa0\x80 surrogate", "\xc0\xaf overlong",
	"\xf0\x9f\x98 cut emoji", "\x80\x81\x82", "mixed 😀\xff日本\xfe",
	// look-alikes of special tokens
	"<|endoftext", "endoftext|>", "<||>", "< |im_start| >", "<s></s><unk>", "<0x41><0xFF>",
	// a long word and a long whitespace run
	strings.Repeat("a", 3000), strings.Repeat(" ", 1000) + "x", strings.Repeat("ab ", 500),
}

var realSampleCache []string

// realSample is ~3000 texts of the shared real logs: up to 700 record
// texts (texts, titles, parent texts, item titles) per source, taken evenly
// through each, and 300 raw lines of the files.
func realSample(t *testing.T) []string {
	if realSampleCache != nil {
		return realSampleCache
	}
	dir := sharedtest.Path(t, "data")
	var paths []string
	for _, g := range []string{"amazon/*", "twitter/*", "reddit/*", "blogger/*"} {
		m, _ := filepath.Glob(filepath.Join(dir, g))
		paths = append(paths, m...)
	}
	recs, _, err := source.Collect(context.Background(), paths, source.Adapters(source.Options{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	bySource := map[string][]string{}
	for _, r := range recs {
		for _, s := range []string{r.Text, r.Title, r.ParentText, r.ItemTitle} {
			if s != "" {
				bySource[r.Source] = append(bySource[r.Source], s)
			}
		}
	}
	var out []string
	for _, src := range slices.Sorted(func(yield func(string) bool) {
		for k := range bySource {
			if !yield(k) {
				return
			}
		}
	}) {
		l := bySource[src]
		n := min(700, len(l))
		for i := range n {
			out = append(out, l[i*len(l)/n])
		}
	}
	if len(bySource) < 4 {
		t.Fatalf("real logs: texts from %d sources, want amazon, blogger, reddit and twitter", len(bySource))
	}
	lines := splitLines(realLogs(t, 4<<20))
	for i := range 300 {
		out = append(out, lines[i*len(lines)/300])
	}
	realSampleCache = out
	return out
}

// hfCase is one tokenizer to check: ours, and what HF loads.
type hfCase struct {
	name string
	ours []*HF   // our tokenizer(s) that must all match HF
	spec string  // tokenizer.json path or gpt2:DIR
	mode decodeK // how HF replaces invalid UTF-8 when decoding
}

type decodeK int

const (
	lossyByteLevel decodeK = iota // String::from_utf8_lossy
	byteFallback                  // a run of byte tokens not valid UTF-8: one U+FFFD per byte
)

// replaceInvalidByteRuns applies HF's ByteFallback decoder rule to ids: a
// maximal run of byte tokens (<0xNN>) whose bytes are not valid UTF-8
// decodes to one U+FFFD per byte, so it is replaced here by the byte
// tokens of that many U+FFFD (EF BF BD), which our decoder then decodes
// as HF does.
func replaceInvalidByteRuns(h *HF, ids []int) []int {
	byteOf := func(id int) (byte, bool) {
		tok, _ := h.Token(id)
		if len(tok) == 6 && strings.HasPrefix(tok, "<0x") && tok[5] == '>' {
			if b, err := strconv.ParseUint(tok[3:5], 16, 8); err == nil {
				return byte(b), true
			}
		}
		return 0, false
	}
	fffd := make([]int, 3)
	for i, b := range []byte("\uFFFD") {
		id, ok := h.TokenID(fmt.Sprintf("<0x%02X>", b))
		if !ok {
			panic("no byte token")
		}
		fffd[i] = id
	}
	var out []int
	for i := 0; i < len(ids); {
		var run []byte
		j := i
		for ; j < len(ids); j++ {
			b, ok := byteOf(ids[j])
			if !ok {
				break
			}
			run = append(run, b)
		}
		switch {
		case j == i:
			out = append(out, ids[i])
			j++
		case utf8.Valid(run):
			out = append(out, ids[i:j]...)
		default:
			for range run {
				out = append(out, fffd...)
			}
		}
		i = j
	}
	return out
}

// replace applies HF's replacement of invalid UTF-8 to our decoding (a
// no-op on valid UTF-8).
func (c hfCase) replace(s string) string {
	if c.mode == lossyByteLevel {
		return lossyUTF8(s)
	}
	return s
}

// saveAndReload writes h to dir/name/tokenizer.json and reads it back.
func saveAndReload(t *testing.T, dir, name string, h *HF) (string, *HF) {
	t.Helper()
	p := filepath.Join(dir, name, "tokenizer.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := h.Save(p); err != nil {
		t.Fatal(err)
	}
	back, err := LoadHF(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, back
}

func hfCases(t *testing.T) []hfCase {
	dir := t.TempDir()
	var cases []hfCase
	// GPT-2 from encoder.json + vocab.bpe: HF builds it itself
	// (GPT2Converter), and loads the tokenizer.json we write from it.
	gptDir := filepath.Dir(sharedtest.Path(t, "models/gpt2-bpe/encoder.json"))
	gpt := loadGPT2(t)
	p, back := saveAndReload(t, dir, "gpt2", gpt)
	cases = append(cases,
		hfCase{"gpt2 (HF GPT2Converter)", []*HF{gpt}, "gpt2:" + gptDir, lossyByteLevel},
		hfCase{"gpt2 (our tokenizer.json)", []*HF{gpt, back}, p, lossyByteLevel})
	// Any tokenizer.json in the shared models.
	found, _ := filepath.Glob(filepath.Join(sharedtest.Root(), "models", "*", "tokenizer.json"))
	for _, f := range found {
		h, err := LoadHF(f)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, hfCase{f, []*HF{h}, f, lossyByteLevel})
	}
	// Tokenizers our trainer makes from the real logs, with the three
	// pre-tokenizer patterns and chat special tokens.
	train := splitLines(realLogs(t, 1<<20))
	for _, c := range []struct {
		name string
		o    TrainOptions
	}{
		{"trained gpt2-pattern", TrainOptions{SpecialTokens: []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}, EOS: "<|endoftext|>"}},
		{"trained llama3-pattern", TrainOptions{Pattern: PatternLlama3, BOS: "<|begin_of_text|>", EOS: "<|end_of_text|>",
			SpecialTokens: []string{"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}}},
		{"trained qwen2-pattern", TrainOptions{Pattern: PatternQwen2, SpecialTokens: []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}, MaxTokenLength: 8}},
	} {
		h := trainOn(t, train, 1500, c.o)
		p, back := saveAndReload(t, dir, strings.ReplaceAll(c.name, " ", "-"), h)
		cases = append(cases, hfCase{c.name, []*HF{h, back}, p, lossyByteLevel})
	}
	// Added tokens with every option (lstrip, rstrip, single_word,
	// normalized, special or not) over a lower-casing normalizer.
	{
		c := trainOn(t, train[:2000], 600, TrainOptions{SpecialTokens: []string{"<|endoftext|>"}}).Config()
		c.Normalizer = NormalizerSequence{[]Normalizer{NFC{}, Lowercase{}}}
		c.AddedTokens = append(c.AddedTokens,
			AddedToken{Content: "<mask>", LStrip: true, Special: true},
			AddedToken{Content: "[SEP]", RStrip: true, Special: true},
			AddedToken{Content: "<both>", LStrip: true, RStrip: true},
			AddedToken{Content: "hello", SingleWord: true, Normalized: true},
			AddedToken{Content: "WORLD", Normalized: true},
			AddedToken{Content: "Straße", Normalized: false},
			AddedToken{Content: "日本", SingleWord: true},
			AddedToken{Content: "<|endoftext|>x", Special: true})
		h, err := NewHF(c)
		if err != nil {
			t.Fatal(err)
		}
		p, back := saveAndReload(t, dir, "added-options", h)
		cases = append(cases, hfCase{"added token options", []*HF{h, back}, p, lossyByteLevel})
	}
	// The hand-written tokenizer.json documents the reader is tested with:
	// Qwen2 style (NFC + Split + ByteLevel), Llama-3 style (ignore_merges,
	// template BOS) and Llama-2 style (Prepend/Replace normalizers, byte
	// fallback, Metaspace-like decoder sequence).
	for _, c := range []struct {
		name string
		h    *HF
		mode decodeK
	}{
		{"qwen2 style", qwen2Style(t), lossyByteLevel},
		{"llama3 style", llama3Style(t, true), lossyByteLevel},
		{"llama2 style", llama2Style(t), byteFallback},
	} {
		p, back := saveAndReload(t, dir, strings.ReplaceAll(c.name, " ", "-"), c.h)
		cases = append(cases, hfCase{c.name, []*HF{c.h, back}, p, c.mode})
	}
	return cases
}

// TestHFTokenizersParity compares our encoding and decoding with Hugging
// Face tokenizers on every tokenizer above.
func TestHFTokenizersParity(t *testing.T) {
	nodetest.HFJS.Locate(t) // skip early when it is absent
	if testing.Short() {
		t.Skip("short: trains tokenizers on the real logs")
	}
	for _, c := range hfCases(t) {
		t.Run(c.name, func(t *testing.T) {
			var added []string
			for _, a := range c.ours[0].AddedTokens() {
				added = append(added, a.Content)
			}
			texts := hfCorpus(t, added)
			valid := make([]string, len(texts))
			goIDs := make([][]int, len(texts))
			nInvalid := 0
			for i, s := range texts {
				valid[i] = lossyUTF8(s)
				if valid[i] != s {
					nInvalid++
				}
				goIDs[i] = c.ours[0].EncodeOpts(s, EncodeOptions{Special: true})
			}
			in := make([]any, len(texts))
			for i := range texts {
				in[i] = map[string]any{"text": valid[i], "decode": goIDs[i]}
			}
			head, rows := runHF[hfRow](t, in, c.spec)
			if head.Vocab != c.ours[0].VocabSize() {
				t.Errorf("vocabulary size: HF %d, ours %d", head.Vocab, c.ours[0].VocabSize())
			}
			fails := map[string]int{}
			fail := func(kind string, format string, args ...any) {
				t.Helper()
				if fails[kind] == 0 {
					t.Errorf("%s: first mismatch:\n"+format, append([]any{kind}, args...)...)
				}
				fails[kind]++
			}
			for i, r := range rows {
				s, v := texts[i], valid[i]
				for k, h := range c.ours {
					who := fmt.Sprintf("ours[%d]", k)
					if got := h.EncodeOpts(v, EncodeOptions{Special: true}); !slices.Equal(got, r.IDs) {
						fail("encode", "text %q\n%s %v\nHF      %v\n(first difference at id %d)", v, who, got, r.IDs, firstDiff(got, r.IDs))
					}
					if got := h.EncodeOpts(v, EncodeOptions{Special: true, AddSpecialTokens: true}); !slices.Equal(got, r.IDsPost) {
						fail("encode add_special_tokens", "text %q\n%s %v\nHF      %v\n(first difference at id %d)", v, who, got, r.IDsPost, firstDiff(got, r.IDsPost))
					}
					// An added token's text can decode to invalid UTF-8 through
					// the byte-level alphabet ("Straße": ß is byte 0xDF): we
					// keep the bytes, HF replaces them.
					if got := c.replace(h.Decode(r.IDs)); got != r.Text {
						fail("decode", "ids %v (of %q)\n%s %q\nHF      %q", r.IDs, v, who, got, r.Text)
					}
					if got := c.replace(h.DecodeOpts(r.IDs, DecodeOptions{SkipSpecial: true})); got != r.TextSkip {
						fail("decode skip_special_tokens", "ids %v (of %q)\n%s %q\nHF      %q", r.IDs, v, who, got, r.TextSkip)
					}
				}
				// Our ids of the raw text, decoded by HF.
				ours := c.ours[0].Decode(goIDs[i])
				if c.ours[0].Config().Normalizer == nil && ours != s {
					fail("round trip", "text %q: our Decode(Encode) = %q", s, ours)
				}
				var got string
				switch c.mode {
				case lossyByteLevel:
					got = lossyUTF8(ours)
				case byteFallback:
					got = c.ours[0].Decode(replaceInvalidByteRuns(c.ours[0], goIDs[i]))
				}
				if got != r.Decoded {
					fail("decode of our ids", "text %q, our ids %v\nours (with HF's replacement) %q\nHF %q", s, goIDs[i], got, r.Decoded)
				}
			}
			t.Logf("HF tokenizers %s: %d texts (%d from the real logs, %d with invalid UTF-8), %d of our tokenizers; mismatches %v",
				head.Version, len(texts), len(realSample(t)), nInvalid, len(c.ours), fails)
		})
	}
}

// TestHFPreTokenizersEveryCodePoint compares our hand-written scanners for
// the GPT-2, Llama-3 and Qwen2 regexes with HF's regex engine on every
// Unicode scalar value. The texts are all code points in order: the
// patterns cut text into runs of letters, numbers, spaces and other
// characters, so one character classed differently by the two sides
// (e.g. a letter added in a newer Unicode version, as U+1C89 was in 16.0)
// changes the pieces around it.
func TestHFPreTokenizersEveryCodePoint(t *testing.T) {
	nodetest.HFJS.Locate(t)
	texts := everyCodePoint()
	in := make([]any, len(texts))
	for i, s := range texts {
		in[i] = map[string]string{"text": s}
	}
	dir := t.TempDir()
	gptDir := filepath.Dir(sharedtest.Path(t, "models/gpt2-bpe/encoder.json"))
	for _, c := range []struct {
		name, pattern string
		pre           func(Split) PreTokenizer // the pre-tokenizer, if not Split + ByteLevel
	}{{"gpt2", PatternGPT2, nil}, {"llama3", PatternLlama3, nil}, {"qwen2", PatternQwen2, nil},
		// Other patterns go through Go's regexp (translateRegex).
		{"regexp L N", `'s|\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+|\s+`, nil},
		{"regexp word", `\w+|[^\w\s]+|\s+`, nil},
		{"regexp negated", `\P{L}+|\p{L}+`, nil},
		{"regexp digits marks", `\d+|\p{M}+|\D`, nil},
		{"digits whitespace", `\s+`, func(sp Split) PreTokenizer {
			return PreTokenizerSequence{[]PreTokenizer{Digits{IndividualDigits: true}, WhitespaceSplit{}, ByteLevel{}}}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := trainOn(t, syntheticCorpus(20), 300, TrainOptions{Pattern: c.pattern})
			if c.pre != nil {
				cfg := h.Config()
				cfg.PreTokenizer = c.pre(Split{})
				var err error
				if h, err = NewHF(cfg); err != nil {
					t.Fatal(err)
				}
			}
			spec, _ := saveAndReload(t, dir, strings.ReplaceAll(c.name, " ", "-"), h)
			if c.name == "gpt2" {
				spec = "gpt2:" + gptDir // HF's own GPT-2 (ByteLevel with its regex)
			}
			_, rows := runHF[struct {
				Pieces []string `json:"pieces"`
			}](t, in, spec, "pretokenize")
			bad := 0
			for i, s := range texts {
				var got []string
				for _, p := range h.cfg.PreTokenizer.preTokenize([]pretok{{s, true}}) {
					got = append(got, p.s)
				}
				want := rows[i].Pieces
				if !slices.Equal(got, want) {
					if bad == 0 {
						at := firstCutDiff(rawPieces(got), rawPieces(want))
						r, _ := utf8.DecodeRuneInString(s[at:])
						_, w := utf8.DecodeLastRuneInString(s[:at])
						t.Errorf("pieces cut differently at U+%04X: ours %s, HF %s (text %d)", r,
							cutsAround(rawPieces(got), at-w), cutsAround(rawPieces(want), at-w), i)
					}
					bad++
				}
			}
			t.Logf("%d code points (%d texts): %d texts differ", utf8.MaxRune+1-2048, len(texts), bad)
		})
	}
}

// rawPieces turns byte-level pieces back into text.
func rawPieces(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i], _ = ByteLevelDecode(p)
	}
	return out
}

// firstCutDiff is the first byte offset where one side cuts the text into
// pieces and the other does not.
func firstCutDiff(a, b []string) int {
	i, j, oa, ob := 0, 0, 0, 0
	for i < len(a) && j < len(b) {
		na, nb := oa+len(a[i]), ob+len(b[j])
		switch {
		case na == nb:
			i, j, oa, ob = i+1, j+1, na, nb
		case na < nb:
			return na
		default:
			return nb
		}
	}
	return oa
}

// cutsAround shows the pieces overlapping the 8 characters from offset at,
// cut to those characters, with "|" at the cuts.
func cutsAround(ps []string, at int) string {
	var b strings.Builder
	off, n := 0, 0
	for _, p := range ps {
		for k, r := range p {
			if off+k < at {
				continue
			}
			if k == 0 && n > 0 {
				b.WriteString("|")
			}
			if n++; n > 8 {
				return strconv.QuoteToASCII(b.String())
			}
			b.WriteRune(r)
		}
		off += len(p)
	}
	return strconv.QuoteToASCII(b.String())
}

// TestHFNormalizersEveryCodePoint compares our Lowercase normalizer with
// HF's on every Unicode scalar value (in order, 2048 to a text), and on
// texts where context could matter (final sigma, U+0130).
//
// Not compared here: NFC/NFD/NFKC/NFKD. HF's use the tables of the crate
// unicode-normalization-alignments 0.1.12 (Unicode 9.0), ours those of
// golang.org/x/text (Unicode 15.0), and x/text applies the stream-safe
// rule (a U+034F after 30 combining marks in a row): they differ on
// characters assigned after Unicode 9.0 and on runs of more than 30
// combining marks. The tokenizer parity corpus (real logs, edge cases)
// does go through NFC (the Qwen2-style tokenizer) and agrees.
func TestHFNormalizersEveryCodePoint(t *testing.T) {
	nodetest.HFJS.Locate(t)
	texts := everyCodePoint()
	texts = append(texts, "ΟΔΟΣ ΟΔΟΣ. Σ ΑΣ΄ aΣb", "İstanbul I\u0307 ǅ ß ẞ ŉ", "\u0345\u03a3\u0345")
	in := make([]any, len(texts))
	for i, s := range texts {
		in[i] = map[string]string{"text": s}
	}
	dir := t.TempDir()
	base := trainOn(t, syntheticCorpus(20), 300, TrainOptions{}).Config()
	for _, c := range []struct {
		name string
		n    Normalizer
	}{{"Lowercase", Lowercase{}}} {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			cfg.Normalizer = c.n
			h, err := NewHF(cfg)
			if err != nil {
				t.Fatal(err)
			}
			spec, _ := saveAndReload(t, dir, c.name, h)
			_, rows := runHF[struct {
				Normalized string `json:"normalized"`
			}](t, in, spec, "normalize")
			bad := 0
			for i, s := range texts {
				got, want := c.n.normalize(s), rows[i].Normalized
				if got != want {
					if bad == 0 {
						gr, wr := []rune(got), []rune(want)
						k := 0
						for k < len(gr) && k < len(wr) && gr[k] == wr[k] {
							k++
						}
						t.Errorf("text %d: differs at rune %d: ours %+q, HF %+q", i, k,
							string(gr[k:min(k+4, len(gr))]), string(wr[k:min(k+4, len(wr))]))
					}
					bad++
				}
			}
			t.Logf("%d texts (every code point): %d differ", len(texts), bad)
		})
	}
}

func firstDiff(a, b []int) int {
	k := 0
	for k < len(a) && k < len(b) && a[k] == b[k] {
		k++
	}
	return k
}

// everyCodePoint is every Unicode scalar value in order, 2048 code points
// (less the surrogates) to a text.
func everyCodePoint() []string {
	var texts []string
	var b strings.Builder
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if utf8.ValidRune(r) {
			b.WriteRune(r)
		}
		if r%2048 == 2047 {
			texts = append(texts, b.String())
			b.Reset()
		}
	}
	return texts
}
