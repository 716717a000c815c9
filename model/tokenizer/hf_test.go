package tokenizer

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t testing.TB, js string) *HF {
	t.Helper()
	h, err := ParseHF([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func eqIDs(t *testing.T, what string, got, want []int) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// byteAlphabetVocab returns the 256 byte-level characters with ids 0..255
// (in byte order) plus extra tokens.
func byteAlphabetVocab(extra ...string) map[string]int {
	v := map[string]int{}
	for b := range 256 {
		v[byteToUTF8[b]] = b
	}
	for _, e := range extra {
		v[e] = len(v)
	}
	return v
}

func vocabJSON(v map[string]int) string {
	b, _ := marshalNoEscape(v)
	return string(b)
}

func TestGPT2TokenizerJSONRoundTrip(t *testing.T) {
	tok := loadGPT2(t)
	var buf bytes.Buffer
	if err := tok.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	js := buf.Bytes()
	for _, want := range []string{
		`"version": "1.0"`,
		`"content": "<|endoftext|>"`,
		`"pre_tokenizer": {
    "type": "ByteLevel",
    "add_prefix_space": false,
    "trim_offsets": true,
    "use_regex": true
  }`,
		`"type": "BPE",
    "dropout": null,
    "unk_token": null,
    "continuing_subword_prefix": "",
    "end_of_word_suffix": "",
    "fuse_unk": false,
    "byte_fallback": false,
    "ignore_merges": false,
    "vocab": {
      "!": 0,`,
		`"merges": [
      [
        "Ġ",
        "t"
      ],`,
	} {
		if !bytes.Contains(js, []byte(want)) {
			t.Errorf("GPT-2 tokenizer.json lacks %s", want)
		}
	}
	back, err := ParseHF(js)
	if err != nil {
		t.Fatal(err)
	}
	var buf2 bytes.Buffer
	if err := back.WriteJSON(&buf2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(js, buf2.Bytes()) {
		t.Error("write → read → write is not identical")
	}
	up, cross := loadGPT2Cases(t)
	checkGPT2Cases(t, back, append(up, cross...))
	if back.EOS() != 50256 || back.VocabSize() != 50257 {
		t.Errorf("reloaded: EOS %d vocab %d", back.EOS(), back.VocabSize())
	}
	texts := []string{"a<|endoftext|>b", "bad \xff\xfe utf8 \xe6\x97", strings.Repeat("long words ", 50)}
	for _, l := range splitLines(realLogs(t, 256<<10)) {
		texts = append(texts, l)
	}
	for _, s := range texts {
		eqIDs(t, "reloaded Encode", back.Encode(s), tok.Encode(s))
		eqIDs(t, "reloaded EncodeWithSpecial", back.EncodeWithSpecial(s), tok.EncodeWithSpecial(s))
		if d := back.Decode(back.Encode(s)); d != s {
			t.Fatalf("round trip of %q gave %q", s, d)
		}
	}
}

func TestBPELinearAndHeapMergeAgree(t *testing.T) {
	models := []*BPEModel{trainedTokenizers(t)[0].Model()}
	if sharedPresent("models/gpt2-bpe/encoder.json") {
		models = append(models, loadGPT2(t).Model())
	}
	r := rand.New(rand.NewPCG(3, 4))
	words := []string{"indivisible", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", " antidisestablishmentarianism"}
	letters := "etaoinshrdlucmfwypvbgkjqxz"
	for range 3000 {
		n := 2 + r.IntN(40)
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteByte(' ')
		}
		for range n {
			b.WriteByte(letters[min(r.IntN(len(letters)), r.IntN(len(letters)))])
		}
		words = append(words, b.String())
	}
	sc := new(scratch)
	for _, m := range models {
		for _, w := range words {
			sym := make([]int32, len(w))
			for i := range len(w) {
				sym[i] = m.byteID[w[i]]
			}
			heapOut := append([]int32(nil), m.mergeHeap(append([]int32(nil), sym...), sc)...)
			linOut := heapOut
			if len(sym) <= linearMergeMax {
				linOut = append([]int32(nil), m.mergeAll(append([]int32(nil), sym...), sc)...)
			}
			if !reflect.DeepEqual(heapOut, linOut) {
				t.Fatalf("%q: heap %v, linear %v", w, heapOut, linOut)
			}
		}
	}
}

// A Llama-3 style tokenizer.json: Split with the Llama-3 regex, ByteLevel
// without regex, ignore_merges, special added tokens and a template that
// prepends <|begin_of_text|>.
func llama3Style(t testing.TB, ignoreMerges bool) *HF {
	return mustParse(t, llama3StyleJSON(ignoreMerges))
}

func llama3StyleJSON(ignoreMerges bool) string {
	v := byteAlphabetVocab("ab", "abc", "Ġab")
	return `{
  "version": "1.0",
  "truncation": null,
  "padding": null,
  "added_tokens": [
    {"id": 259, "content": "<|begin_of_text|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 260, "content": "<|eot_id|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": null,
  "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": ` + string(must(marshalNoEscape(PatternLlama3))) + `}, "behavior": "Isolated", "invert": false},
    {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
  "post_processor": {"type": "Sequence", "processors": [
    {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
    {"type": "TemplateProcessing",
     "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
     "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
              {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
     "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [259], "tokens": ["<|begin_of_text|>"]}}}]},
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null, "end_of_word_suffix": null,
    "fuse_unk": false, "byte_fallback": false, "ignore_merges": ` + map[bool]string{true: "true", false: "false"}[ignoreMerges] + `,
    "vocab": ` + vocabJSON(v) + `, "merges": ["a b", ["Ġ", "ab"]]}
}`
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestLlama3StyleTokenizer(t *testing.T) {
	h := llama3Style(t, true)
	if h.BOS() != 259 || h.EOS() != -1 || h.VocabSize() != 261 {
		t.Fatalf("BOS %d EOS %d vocab %d", h.BOS(), h.EOS(), h.VocabSize())
	}
	if !h.fast.ok || h.fast.scan != scanLlama3 {
		t.Errorf("Llama-3 style tokenizer not on the fast path: %+v", h.fast)
	}
	c := int('c')
	ab, abc, gab := 256, 257, 258
	eqIDs(t, "abc (ignore_merges: whole word in vocab)", h.Encode("abc"), []int{abc})
	eqIDs(t, "ab abc", h.Encode("ab abc"), []int{ab, gab, c})
	eqIDs(t, "cab", h.Encode("cab"), []int{c, ab})
	eqIDs(t, "special as text", h.Encode("<|eot_id|>"), []int{'<', '|', 'e', 'o', 't', '_', 'i', 'd', '|', '>'})
	eqIDs(t, "special recognised", h.EncodeWithSpecial("ab<|eot_id|>"), []int{ab, 260})
	eqIDs(t, "template", h.EncodeOpts("ab", EncodeOptions{AddSpecialTokens: true}), []int{259, ab})
	eqIDs(t, "template + AddBOS (not doubled)", h.EncodeOpts("ab", EncodeOptions{AddSpecialTokens: true, AddBOS: true}), []int{259, ab})
	if d := h.Decode([]int{259, ab, gab, c, 260}); d != "<|begin_of_text|>ab abc<|eot_id|>" {
		t.Errorf("decode = %q", d)
	}
	if d := h.DecodeOpts([]int{259, ab, gab, c, 260}, DecodeOptions{SkipSpecial: true}); d != "ab abc" {
		t.Errorf("decode skipping special = %q", d)
	}
	h2 := llama3Style(t, false)
	eqIDs(t, "abc without ignore_merges", h2.Encode("abc"), []int{ab, c})
}

// A Llama-2 style tokenizer.json: sentencepiece-like BPE with byte fallback,
// Prepend/Replace normalizer and the matching decoder sequence.
func llama2Style(t testing.TB) *HF {
	v := map[string]int{"<unk>": 0, "<s>": 1, "</s>": 2}
	for b := range 256 {
		v[byteToken(byte(b))] = 3 + b
	}
	for _, p := range []string{"▁", "h", "e", "l", "o", "w", "r", "d", "he", "ll", "▁he", "▁hell", "▁hello", "or", "▁w", "▁wor", "ld", "▁world"} {
		v[p] = len(v)
	}
	js := `{
  "version": "1.0", "truncation": null, "padding": null,
  "added_tokens": [
    {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
  "pre_tokenizer": null,
  "post_processor": {"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
    "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
    "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
  "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
  "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null, "end_of_word_suffix": null,
    "fuse_unk": true, "byte_fallback": true,
    "vocab": ` + vocabJSON(v) + `,
    "merges": ["h e", "l l", "▁ he", "▁he ll", "▁hell o", "o r", "▁ w", "▁w or", "▁wor l", "▁worl d"]}
}`
	// "▁worl" is not in the vocabulary: that merge must be rejected.
	if _, err := ParseHF([]byte(js)); err == nil || !strings.Contains(err.Error(), "▁worl") {
		t.Fatalf("merge with a result outside the vocabulary: err = %v", err)
	}
	js = strings.Replace(js, `"▁wor l", "▁worl d"`, `"l d", "▁wor ld"`, 1)
	return mustParse(t, js)
}

func TestLlama2StyleTokenizer(t *testing.T) {
	h := llama2Style(t)
	if h.fast.ok {
		t.Error("a model without the byte alphabet must not use the byte-level fast path")
	}
	id := func(s string) int {
		i, ok := h.TokenID(s)
		if !ok {
			t.Fatalf("no token %q", s)
		}
		return i
	}
	if h.BOS() != 1 || h.EOS() != 2 {
		t.Errorf("BOS %d EOS %d", h.BOS(), h.EOS())
	}
	got := h.Encode("hello world")
	eqIDs(t, "hello world", got, []int{id("▁hello"), id("▁world")})
	// 日 is not in the vocabulary: byte fallback.
	got = h.EncodeOpts("hello 日", EncodeOptions{AddSpecialTokens: true})
	eqIDs(t, "hello 日", got, []int{1, id("▁hello"), id("▁"), 3 + 0xE6, 3 + 0x97, 3 + 0xA5})
	if d := h.Decode(got); d != "<s> hello 日" {
		// Hugging Face keeps "<s>" (not skipped) and strips one leading space.
		t.Errorf("decode = %q", d)
	}
	if d := h.DecodeOpts(got, DecodeOptions{SkipSpecial: true}); d != "hello 日" {
		t.Errorf("decode skipping special = %q", d)
	}
	// The Prepend normalizer applies to each text segment between special tokens.
	eqIDs(t, "with special", h.EncodeWithSpecial("<s>hello"), []int{1, id("▁hello")})
}

func TestUnknownTokenFusing(t *testing.T) {
	v := map[string]int{"<unk>": 0, "a": 1}
	base := `{"model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": %s, "vocab": ` + vocabJSON(v) + `, "merges": []}}`
	fused := mustParse(t, strings.Replace(base, "%s", "true", 1))
	eqIDs(t, "fused", fused.Encode("xyaz"), []int{0, 1, 0})
	plain := mustParse(t, strings.Replace(base, "%s", "false", 1))
	eqIDs(t, "not fused", plain.Encode("xyaz"), []int{0, 0, 1, 0})
	if d := plain.Decode([]int{0, 1}); d != "<unk> a" {
		t.Errorf("no decoder: tokens joined by spaces, got %q", d)
	}
}

func TestAddedTokenOptions(t *testing.T) {
	v := byteAlphabetVocab()
	js := `{"added_tokens": [
    {"id": 256, "content": "<mask>", "single_word": false, "lstrip": true, "rstrip": false, "normalized": false, "special": true},
    {"id": 257, "content": "[R]", "single_word": false, "lstrip": false, "rstrip": true, "normalized": false, "special": true},
    {"id": 258, "content": "cat", "single_word": true, "lstrip": false, "rstrip": false, "normalized": false, "special": false},
    {"id": 259, "content": "yes", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": false}],
  "normalizer": {"type": "Lowercase"},
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "model": {"type": "BPE", "vocab": ` + vocabJSON(v) + `, "merges": []}}`
	h := mustParse(t, js)
	space := 0x20
	eqIDs(t, "lstrip", h.EncodeWithSpecial("a  <mask>b"), []int{'a', 256, 'b'})
	eqIDs(t, "rstrip", h.EncodeWithSpecial("[R]  b"), []int{257, 'b'})
	eqIDs(t, "single_word", h.Encode("cat concat cat."), []int{258, space, 'c', 'o', 'n', 'c', 'a', 't', space, 258, '.'})
	eqIDs(t, "normalized token matches the lower-cased text", h.Encode("YES"), []int{259})
	eqIDs(t, "special not recognised by Encode", h.Encode("<mask>"), []int{'<', 'm', 'a', 's', 'k', '>'})
	if h.VocabSize() != 260 {
		t.Errorf("vocab size %d", h.VocabSize())
	}
	if d := h.Decode([]int{'a', 256, 'b'}); d != "a<mask>b" {
		t.Errorf("decode %q", d)
	}
}

func TestByteLevelDecodeFastPath(t *testing.T) {
	tok := loadGPT2(t)
	c := tok.Config()
	c.Decoder = DecoderSequence{[]Decoder{c.Decoder}} // forces the generic path
	slow, err := NewHF(c)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		ids := make([]int, r.IntN(20))
		for i := range ids {
			ids[i] = r.IntN(50300) - 10
		}
		for _, skip := range []bool{false, true} {
			o := DecodeOptions{SkipSpecial: skip}
			if a, b := tok.DecodeOpts(ids, o), slow.DecodeOpts(ids, o); a != b {
				t.Fatalf("%v: fast %q, generic %q", ids, a, b)
			}
		}
	}
}

func TestParseHFErrors(t *testing.T) {
	v := vocabJSON(byteAlphabetVocab())
	cases := map[string]string{
		"version":       `{"version": "2.0", "model": {"type": "BPE", "vocab": {}, "merges": []}}`,
		"no model":      `{"version": "1.0"}`,
		"model type":    `{"model": {"type": "WordPiece", "vocab": {}}}`,
		"missing merge": `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}`,
		"bad merge":     `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}}`,
		"negative id":   `{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}}`,
		"sparse ids":    `{"model": {"type": "BPE", "vocab": {"a": 100000000}, "merges": []}}`,
		"pre_tokenizer": `{"pre_tokenizer": {"type": "BertPreTokenizer"}, "model": {"type": "BPE", "vocab": ` + v + `, "merges": []}}`,
		"lookahead": `{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\s+(?!\\S)|x"}, "behavior": "Isolated", "invert": false},
			"model": {"type": "BPE", "vocab": ` + v + `, "merges": []}}`,
		"behavior":   `{"pre_tokenizer": {"type": "Split", "pattern": {"String": "x"}, "behavior": "Sideways", "invert": false}, "model": {"type": "BPE", "vocab": {}, "merges": []}}`,
		"normalizer": `{"normalizer": {"type": "Precompiled", "precompiled_charsmap": ""}, "model": {"type": "BPE", "vocab": {}, "merges": []}}`,
		"decoder":    `{"decoder": {"type": "WordPiece"}, "model": {"type": "BPE", "vocab": {}, "merges": []}}`,
		"template":   `{"post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}], "pair": [], "special_tokens": {}}, "model": {"type": "BPE", "vocab": {}, "merges": []}}`,
		"not json":   `{"model": `,
	}
	for name, js := range cases {
		if _, err := ParseHF([]byte(js)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, err := ParseHF([]byte(cases["lookahead"]))
	if !errors.Is(err, ErrUnsupportedRegex) {
		t.Errorf("look-ahead regex: error %v does not wrap ErrUnsupportedRegex", err)
	}
}

func TestComponentsJSONRoundTrip(t *testing.T) {
	js := `{"version":"1.0","truncation":{"direction":"Right","max_length":8,"strategy":"LongestFirst","stride":0},"padding":null,"added_tokens":[],` +
		`"normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Strip","strip_left":true,"strip_right":false},{"type":"Replace","pattern":{"Regex":"\\d+"},"content":"0"}]},` +
		`"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Digits","individual_digits":true},{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true}]},` +
		`"post_processor":{"type":"RobertaProcessing","sep":["</s>",2],"cls":["<s>",0],"trim_offsets":true,"add_prefix_space":false},` +
		`"decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true},` +
		`"model":{"type":"BPE","dropout":null,"unk_token":"<unk>","continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":false,"vocab":{"<s>":0,"<unk>":1,"</s>":2,"▁a":3,"▁":4,"a":5,"0":6},"merges":[["▁","a"]]}}`
	h := mustParse(t, js)
	out, err := h.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != js {
		t.Errorf("round trip differs:\n got  %s\n want %s", out, js)
	}
	// NFKC + strip left + digits → "0"; whitespace split; Metaspace
	// prepends "▁" only to a split starting at the original offset 0, which
	// the stripped text no longer does.
	eqIDs(t, "encode", h.EncodeOpts("ａ 12", EncodeOptions{AddSpecialTokens: true}), []int{0, 3, 6, 2})
	eqIDs(t, "encode", h.EncodeOpts("  ａ 12", EncodeOptions{AddSpecialTokens: true}), []int{0, 5, 6, 2})
	if d := h.Decode([]int{3, 4, 5}); d != "a a" {
		t.Errorf("metaspace decode = %q", d)
	}
}

func TestDecodersKeepInvalidBytes(t *testing.T) {
	toks := []string{"▁a\xff", "<0xFF>", "▁\xfe▁", "  x\x80  "}
	got := DecoderSequence{[]Decoder{Metaspace{Replacement: '▁', PrependScheme: "always"}, ByteFallback{}, StripDecoder{Content: ' ', Start: 1, Stop: 2}}}.decodeChain(toks)
	want := []string{"a\xff", "\xff", "\xfe", " x\x80"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Encoding from several goroutines (run with -race) gives the sequential
// results.
func TestConcurrentEncode(t *testing.T) {
	toks := trainedTokenizers(t)
	texts := syntheticCorpus(200)
	for _, tok := range toks {
		want := make([][]int, len(texts))
		for i, s := range texts {
			want[i] = tok.EncodeWithSpecial(s)
		}
		tok.Model().cache.init()
		tok.Model().rawCache.init()
		done := make(chan error, 4)
		for g := range 4 {
			go func() {
				for k := range texts {
					i := (k*7 + g*13) % len(texts)
					if got := tok.EncodeWithSpecial(texts[i]); !reflect.DeepEqual(got, want[i]) {
						done <- errors.New("concurrent encoding differs")
						return
					}
				}
				done <- nil
			}()
		}
		for range 4 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
}

// slowTwin rebuilds h with its pre-tokenizer wrapped so that the byte-level
// fast path is not taken (the generic pipeline runs instead).
func slowTwin(t testing.TB, h *HF) *HF {
	c := h.Config()
	c.PreTokenizer = PreTokenizerSequence{[]PreTokenizer{c.PreTokenizer, PreTokenizerSequence{}, PreTokenizerSequence{}}}
	s, err := NewHF(c)
	if err != nil {
		t.Fatal(err)
	}
	if s.fast.ok {
		t.Fatal("twin still on the fast path")
	}
	return s
}

func qwen2Style(t testing.TB) *HF {
	c := trainedTokenizers(t)[1].Config()
	sp, err := NewSplit(PatternQwen2, "Isolated", false)
	if err != nil {
		t.Fatal(err)
	}
	c.Normalizer = NFC{}
	c.PreTokenizer = PreTokenizerSequence{[]PreTokenizer{sp, ByteLevel{TrimOffsets: true}}}
	h, err := NewHF(c)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestFastPathMatchesGeneralPath(t *testing.T) {
	toks := append([]*HF{qwen2Style(t)}, trainedTokenizers(t)...)
	if sharedPresent("models/gpt2-bpe/encoder.json") {
		toks = append(toks, loadGPT2(t))
	}
	r := rand.New(rand.NewPCG(9, 10))
	texts := append([]string{}, fuzzSeeds...)
	for range 2000 {
		texts = append(texts, randomTricky(r))
	}
	texts = append(texts, syntheticCorpus(100)...)
	for _, h := range toks {
		if !h.fast.ok {
			t.Fatalf("%v: not on the fast path", h)
		}
		slow := slowTwin(t, h)
		for _, s := range texts {
			for _, o := range []EncodeOptions{{}, {Special: true}} {
				eqIDs(t, fmt.Sprintf("%v general path %q", h, s), slow.EncodeOpts(s, o), h.EncodeOpts(s, o))
			}
		}
	}
	q := toks[0]
	eqIDs(t, "NFC", q.Encode("cafe\u0301"), q.Encode("café"))
	if got := q.Encode("2024"); len(got) != 4 {
		t.Errorf("Qwen2 pattern: digits not split one by one: %v", got)
	}
}
