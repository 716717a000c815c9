package tokenizer

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
)

var fuzzSeeds = []string{
	"", " ", "Hello, world!", "  leading and trailing  ", "a\n\n\tb\r\n", "I'm we'd've",
	"naïve café 日本語 😀", "<|endoftext|>", "<|im_start|>user\nhi<|im_end|>", "\xff\xfe\x00\x80", "\xe6\x97",
	"1234567890", "' 's 'S", "\u00a0\u3000\u2028", "e\u0301", "<0x41> <unk> \n<s>\n",
}

var (
	trainedOnce sync.Once
	trainedToks []*HF
)

// trainedTokenizers are byte-level tokenizers trained on the synthetic
// corpus (GPT-2 and Llama-3 pre-tokenizers), the second one reloaded from
// its tokenizer.json.
func trainedTokenizers(tb testing.TB) []*HF {
	trainedOnce.Do(func() {
		texts := syntheticCorpus(300)
		a, err := Train(slices.Values(texts), 600, TrainOptions{SpecialTokens: []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}})
		if err != nil {
			panic(err)
		}
		b, err := Train(slices.Values(texts), 600, TrainOptions{Pattern: PatternLlama3, BOS: "<s>", EOS: "</s>"})
		if err != nil {
			panic(err)
		}
		js, err := b.MarshalJSON()
		if err != nil {
			panic(err)
		}
		if b, err = ParseHF(js); err != nil {
			panic(err)
		}
		trainedToks = []*HF{a, b}
	})
	return trainedToks
}

// sharedPresent reports whether a shared file exists (fuzz targets use
// shared data when it is there, without skipping when it is not).
func sharedPresent(rel string) bool {
	_, err := os.Stat(filepath.Join(sharedtest.Root(), rel))
	return err == nil
}

func FuzzByteLevelRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	toks := trainedTokenizers(f)
	if sharedPresent("models/gpt2-bpe/encoder.json") {
		toks = append(toks, loadGPT2(f))
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range toks {
			ids := tok.Encode(s)
			if d := tok.Decode(ids); d != s {
				t.Fatalf("%v: Decode(Encode(%q)) = %q", tok, s, d)
			}
			ids = tok.EncodeWithSpecial(s)
			if d := tok.Decode(ids); d != s {
				t.Fatalf("%v: Decode(EncodeWithSpecial(%q)) = %q", tok, s, d)
			}
			for _, id := range ids {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("id %d out of range", id)
				}
			}
		}
	})
}

// syntheticSentencePiece is a small llama2.c-style vocabulary: <unk>, BOS,
// EOS, the 256 byte pieces, then scored pieces.
func syntheticSentencePiece() *SentencePiece {
	pieces := []string{"<unk>", "\n<s>\n", "\n</s>\n"}
	scores := []float32{0, 0, 0}
	for b := range 256 {
		pieces = append(pieces, byteToken(byte(b)))
		scores = append(scores, 0)
	}
	for i, p := range []string{" t", "he", " a", " the", "in", " ", "e", "t", "h", "a", "n", "i", "é", "日", " 日", "  ", "ab", "b", " ab", "<", ">", "0", "x"} {
		pieces = append(pieces, p)
		scores = append(scores, -float32(i%7)) // ties on purpose
	}
	t, err := NewSentencePiece(pieces, scores, 4)
	if err != nil {
		panic(err)
	}
	return t
}

func FuzzSentencePieceRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	toks := []*SentencePiece{syntheticSentencePiece()}
	if sharedPresent("models/stories260K/tok512.bin") {
		tok, _ := loadStories(f)
		toks = append(toks, tok)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range toks {
			ids := tok.Encode(s)
			if d := tok.Decode(ids); d != s {
				t.Fatalf("Decode(Encode(%q)) = %q (ids %v)", s, d, ids)
			}
			withBOS := tok.EncodeOpts(s, EncodeOptions{AddBOS: true, AddEOS: true})
			if d := tok.Decode(withBOS); d != s {
				t.Fatalf("Decode(BOS + Encode(%q) + EOS) = %q", s, d)
			}
			if len(s) > 0 && len(ids) == 0 {
				t.Fatalf("no ids for %q", s)
			}
		}
	})
}

func FuzzParseHF(f *testing.F) {
	f.Add([]byte(llama3StyleJSON(true)))
	f.Add([]byte(`{"version":"1.0","truncation":null,"padding":null,"added_tokens":[{"id":0,"content":"<s>","single_word":true,"lstrip":true,"rstrip":true,"normalized":true,"special":true}],` +
		`"normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Strip","strip_left":true,"strip_right":false},{"type":"Replace","pattern":{"Regex":"\\d+"},"content":"0"},{"type":"Prepend","prepend":"▁"}]},` +
		`"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Digits","individual_digits":true},{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true},{"type":"Split","pattern":{"String":"a"},"behavior":"MergedWithNext","invert":true}]},` +
		`"post_processor":{"type":"Sequence","processors":[{"type":"RobertaProcessing","sep":["</s>",2],"cls":["<s>",0],"trim_offsets":true,"add_prefix_space":false},{"type":"BertProcessing","sep":["</s>",2],"cls":["<s>",0]}]},` +
		`"decoder":{"type":"Sequence","decoders":[{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":3,"stop":9}]},` +
		`"model":{"type":"BPE","dropout":0.5,"unk_token":"<unk>","continuing_subword_prefix":"##","end_of_word_suffix":"</w>","fuse_unk":true,"byte_fallback":true,"ignore_merges":true,"vocab":{"<s>":0,"<unk>":1,"</s>":2,"▁a":3,"▁":4,"a":5,"0":6,"<0x41>":7,"##a":8,"a</w>":9,"▁a</w>":10},"merges":[["▁","a"],"▁ a</w>"]}}`))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"},"decoder":{"type":"ByteLevel"}}`))
	f.Add([]byte(`{"model":{"vocab":{},"merges":[]}}`))
	f.Add([]byte(`{"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(?i:'s)|\\w+|[^\\s\\w]+"},"behavior":"Contiguous","invert":false},"model":{"type":"BPE","vocab":{"x":0},"merges":[]}}`))
	f.Add([]byte(`{"added_tokens":[{"id":1,"content":" ","normalized":true},{"id":2,"content":"ab","lstrip":true,"rstrip":true,"single_word":true}],"normalizer":{"type":"Strip","strip_left":true,"strip_right":true},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":99999},"merges":[]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHF(data)
		if err != nil {
			return
		}
		for _, s := range []string{"", "Hello <s> wörld 123 \xff", "a\na", "##a</w>"} {
			ids := h.EncodeOpts(s, EncodeOptions{Special: true, AddSpecialTokens: true, AddBOS: true, AddEOS: true})
			h.Decode(ids)
			h.DecodeOpts(append(ids, -1, 1<<40), DecodeOptions{SkipSpecial: true})
		}
		js, err := h.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		if _, err := ParseHF(js); err != nil {
			t.Fatalf("the written tokenizer.json does not parse: %v\n%s", err, js)
		}
	})
}
