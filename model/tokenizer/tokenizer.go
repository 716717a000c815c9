// Package tokenizer holds native Go tokenizers:
//
//   - HF: a Hugging Face tokenizer.json pipeline (added/special tokens,
//     normalizers, pre-tokenizers, BPE model, post-processor, decoder) with a
//     faithful reader and writer of the format. GPT-2's encoder.json +
//     vocab.bpe load into the same type (LoadGPT2), and Train builds one from
//     text (byte-level BPE).
//   - SentencePiece: the llama2.c tokenizer.bin format (scores, byte
//     fallback, dummy prefix), as used by stories260K's tok512.bin.
//
// Pre-tokenization uses hand-written scanners for the GPT-2, Llama-3 and
// Qwen2 regexes (which need a look-ahead that Go's regexp lacks); other
// tokenizer.json regexes go through Go's regexp when they can. Both use
// Hugging Face's Unicode 16.0 letter/number/mark classes, and every
// tokenizer.json we read or write encodes and decodes as Hugging Face
// tokenizers does (hfparity_test.go, run against the real library).
//
// Any byte string can be encoded; for the byte-level tokenizers and the
// SentencePiece tokenizer (thanks to its byte fallback) Decode(Encode(s))
// returns s exactly, invalid UTF-8 included.
package tokenizer

// Tokenizer is what the models and the trainer need from a tokenizer.
// Implementations are safe for concurrent use.
type Tokenizer interface {
	// Encode tokenizes text as plain text: special tokens written in it
	// (e.g. "<|endoftext|>") are encoded as ordinary characters, and no
	// BOS/EOS is added.
	Encode(text string) []int
	// EncodeWithSpecial is Encode with special/added tokens written in the
	// text (e.g. "<|im_start|>") recognised and encoded as their ids.
	EncodeWithSpecial(text string) []int
	// EncodeOpts encodes with explicit options.
	EncodeOpts(text string, o EncodeOptions) []int
	// Decode turns ids back into text (special tokens included as their
	// text, except the SentencePiece control tokens BOS/EOS, which decode to
	// nothing). Unknown ids are skipped.
	Decode(ids []int) string
	// DecodeOpts decodes with explicit options.
	DecodeOpts(ids []int, o DecodeOptions) string
	// VocabSize is the number of ids (the largest id plus one), the size of
	// a model's embedding table.
	VocabSize() int
	// TokenID returns the id of a token given in the vocabulary's own
	// spelling (byte-level alphabet for GPT-2 style vocabularies, e.g.
	// "Ġthe"; added tokens as written, e.g. "<|endoftext|>").
	TokenID(token string) (int, bool)
	// Token returns the vocabulary spelling of an id.
	Token(id int) (string, bool)
	// BOS and EOS are the beginning/end-of-sequence ids, -1 if none.
	BOS() int
	EOS() int
}

// EncodeOptions controls EncodeOpts.
type EncodeOptions struct {
	// Special recognises special tokens written in the text. (Added tokens
	// that are not special are always recognised, as in Hugging Face with
	// split_special_tokens; GPT-2, Llama-3 and Qwen2 have none.)
	Special bool
	// AddSpecialTokens applies the tokenizer's own post-processing, as
	// Hugging Face's add_special_tokens=True: the tokenizer.json
	// post_processor (e.g. Llama-3 prepends <|begin_of_text|>; GPT-2 adds
	// nothing); for SentencePiece it prepends BOS, as llama2.c does.
	AddSpecialTokens bool
	// AddBOS prepends BOS and AddEOS appends EOS (when the tokenizer has
	// them and the sequence does not already start/end with it).
	AddBOS, AddEOS bool
}

// DecodeOptions controls DecodeOpts.
type DecodeOptions struct {
	// SkipSpecial leaves special tokens out of the text.
	SkipSpecial bool
}

// addBOSEOS applies EncodeOptions.AddBOS/AddEOS.
func addBOSEOS(ids []int, o EncodeOptions, bos, eos int) []int {
	if o.AddBOS && bos >= 0 && (len(ids) == 0 || ids[0] != bos) {
		ids = append([]int{bos}, ids...)
	}
	if o.AddEOS && eos >= 0 && (len(ids) == 0 || ids[len(ids)-1] != eos) {
		ids = append(ids, eos)
	}
	return ids
}
