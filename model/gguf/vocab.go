package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
)

// Token types (tokenizer.ggml.token_type), as llama.cpp and
// sentencepiece number them.
const (
	TokenNormal      int32 = 1
	TokenUnknown     int32 = 2
	TokenControl     int32 = 3
	TokenUserDefined int32 = 4
	TokenUnused      int32 = 5
	TokenByte        int32 = 6
)

// Tokenizer metadata keys.
const (
	KeyTokenizerModel = "tokenizer.ggml.model"
	KeyTokenizerPre   = "tokenizer.ggml.pre"
	KeyTokens         = "tokenizer.ggml.tokens"
	KeyScores         = "tokenizer.ggml.scores"
	KeyTokenTypes     = "tokenizer.ggml.token_type"
	KeyMerges         = "tokenizer.ggml.merges"
	KeyBOS            = "tokenizer.ggml.bos_token_id"
	KeyEOS            = "tokenizer.ggml.eos_token_id"
	KeyUNK            = "tokenizer.ggml.unknown_token_id"
	KeyPAD            = "tokenizer.ggml.padding_token_id"
	KeyAddBOS         = "tokenizer.ggml.add_bos_token"
	KeyAddEOS         = "tokenizer.ggml.add_eos_token"
)

// SPMSpace is the character SentencePiece writes for a space ("▁", U+2581).
const SPMSpace = "\u2581"

// Vocab is the tokenizer a GGUF file carries.
type Vocab struct {
	// Model is "llama" (SentencePiece: Tokens, Scores, Types) or "gpt2"
	// (byte-level BPE: Tokens, Types, Merges).
	Model  string
	Pre    string    // tokenizer.ggml.pre (BPE pre-tokenizer), "" to omit
	Tokens []string  // by id
	Scores []float32 // by id; nil to omit
	Types  []int32   // by id (Token*); nil to omit
	Merges []string  // "left right" rules in priority order; nil to omit
	// Special token ids; -1 for none.
	BOS, EOS, UNK, PAD int
	AddBOS, AddEOS     bool
}

// Validate checks the lengths and ids.
func (v *Vocab) Validate() error {
	var errs []error
	if v.Model == "" {
		errs = append(errs, errors.New("no tokenizer model name"))
	}
	n := len(v.Tokens)
	if n == 0 {
		errs = append(errs, errors.New("no tokens"))
	}
	if v.Scores != nil && len(v.Scores) != n {
		errs = append(errs, fmt.Errorf("%d scores for %d tokens", len(v.Scores), n))
	}
	if v.Types != nil && len(v.Types) != n {
		errs = append(errs, fmt.Errorf("%d token types for %d tokens", len(v.Types), n))
	}
	for _, id := range []struct {
		name string
		id   int
	}{{"bos", v.BOS}, {"eos", v.EOS}, {"unk", v.UNK}, {"pad", v.PAD}} {
		if id.id < -1 || id.id >= n || id.id > math.MaxUint32 {
			errs = append(errs, fmt.Errorf("%s id %d out of range for %d tokens", id.name, id.id, n))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("gguf: vocab: %w", errors.Join(errs...))
	}
	return nil
}

// KVs is the tokenizer metadata.
func (v *Vocab) KVs() []KV {
	kvs := []KV{{KeyTokenizerModel, v.Model}}
	if v.Pre != "" {
		kvs = append(kvs, KV{KeyTokenizerPre, v.Pre})
	}
	kvs = append(kvs, KV{KeyTokens, v.Tokens})
	if v.Scores != nil {
		kvs = append(kvs, KV{KeyScores, v.Scores})
	}
	if v.Types != nil {
		kvs = append(kvs, KV{KeyTokenTypes, v.Types})
	}
	if v.Merges != nil {
		kvs = append(kvs, KV{KeyMerges, v.Merges})
	}
	for _, id := range []struct {
		key string
		id  int
	}{{KeyBOS, v.BOS}, {KeyEOS, v.EOS}, {KeyUNK, v.UNK}, {KeyPAD, v.PAD}} {
		if id.id >= 0 {
			kvs = append(kvs, KV{id.key, uint32(id.id)})
		}
	}
	return append(kvs, KV{KeyAddBOS, v.AddBOS}, KV{KeyAddEOS, v.AddEOS})
}

// VocabOf returns the tokenizer of a file, or nil when it has none.
func VocabOf(f *File) (*Vocab, error) {
	model, err := f.String(KeyTokenizerModel)
	if err != nil {
		if _, ok := f.Value(KeyTokenizerModel); !ok {
			return nil, nil
		}
		return nil, err
	}
	v := &Vocab{Model: model, BOS: -1, EOS: -1, UNK: -1, PAD: -1}
	bad := func(key string, x any) error { return fmt.Errorf("gguf: vocab: %s has type %T", key, x) }
	if x, ok := f.Value(KeyTokenizerPre); ok {
		if v.Pre, ok = x.(string); !ok {
			return nil, bad(KeyTokenizerPre, x)
		}
	}
	x, _ := f.Value(KeyTokens)
	var ok bool
	if v.Tokens, ok = x.([]string); !ok {
		return nil, bad(KeyTokens, x)
	}
	if x, ok := f.Value(KeyScores); ok {
		if v.Scores, ok = x.([]float32); !ok {
			return nil, bad(KeyScores, x)
		}
	}
	if x, ok := f.Value(KeyTokenTypes); ok {
		if v.Types, ok = x.([]int32); !ok {
			return nil, bad(KeyTokenTypes, x)
		}
	}
	if x, ok := f.Value(KeyMerges); ok {
		if v.Merges, ok = x.([]string); !ok {
			return nil, bad(KeyMerges, x)
		}
	}
	for _, id := range []struct {
		key string
		dst *int
	}{{KeyBOS, &v.BOS}, {KeyEOS, &v.EOS}, {KeyUNK, &v.UNK}, {KeyPAD, &v.PAD}} {
		if _, ok := f.Value(id.key); !ok {
			continue
		}
		n, err := f.Uint(id.key)
		if err != nil {
			return nil, err
		}
		if n >= uint64(len(v.Tokens)) {
			// llama.cpp uses -1 (0xFFFFFFFF) for "none".
			*id.dst = -1
			continue
		}
		*id.dst = int(n)
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{KeyAddBOS, &v.AddBOS}, {KeyAddEOS, &v.AddEOS}} {
		if x, ok := f.Value(b.key); ok {
			if *b.dst, ok = x.(bool); !ok {
				return nil, bad(b.key, x)
			}
		}
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return v, nil
}

// Llama2cVocab reads a llama2.c tokenizer file (tokenizer.bin, tok512.bin)
// for a model with vocabSize tokens; see DecodeLlama2cVocab.
func Llama2cVocab(path string, vocabSize int) (*Vocab, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := DecodeLlama2cVocab(b, vocabSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// DecodeLlama2cVocab converts a llama2.c tokenizer file — int32
// max_token_length, then per token float32 score, int32 length and the
// bytes — into a SentencePiece ("llama") vocab as llama.cpp's
// convert-llama2c-to-ggml does: id 0 is <unk> (UNKNOWN), ids 1 and 2 are
// <s> and </s> (CONTROL; llama2.c stores them as "\n<s>\n"), pieces of the
// form <0xHH> are BYTE, empty pieces CONTROL, the rest NORMAL, and spaces
// are written as SentencePiece's "▁" (llama2.c's exporter had replaced
// them by real spaces). The file must hold exactly vocabSize tokens.
func DecodeLlama2cVocab(b []byte, vocabSize int) (*Vocab, error) {
	if vocabSize < 3 {
		return nil, fmt.Errorf("llama2c tokenizer: vocab size %d < 3", vocabSize)
	}
	if len(b) < 4 {
		return nil, errors.New("llama2c tokenizer: shorter than its 4-byte header")
	}
	if m := int32(binary.LittleEndian.Uint32(b)); m < 0 {
		return nil, fmt.Errorf("llama2c tokenizer: max_token_length %d < 0", m)
	}
	if vocabSize > (len(b)-4)/8 {
		return nil, fmt.Errorf("llama2c tokenizer: %d bytes cannot hold %d tokens", len(b), vocabSize)
	}
	v := &Vocab{Model: "llama", BOS: 1, EOS: 2, UNK: 0, PAD: -1, AddBOS: true,
		Tokens: make([]string, vocabSize), Scores: make([]float32, vocabSize), Types: make([]int32, vocabSize)}
	off := 4
	for id := range vocabSize {
		if len(b)-off < 8 {
			return nil, fmt.Errorf("llama2c tokenizer: token %d: file ends at byte %d", id, len(b))
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(b[off:]))
		n := int32(binary.LittleEndian.Uint32(b[off+4:]))
		off += 8
		if n < 0 || int(n) > len(b)-off {
			return nil, fmt.Errorf("llama2c tokenizer: token %d: length %d with %d bytes left", id, n, len(b)-off)
		}
		text := string(b[off : off+int(n)])
		off += int(n)
		typ := TokenNormal
		switch {
		case id == 0:
			text, typ = "<unk>", TokenUnknown
		case id == 1:
			text, typ = "<s>", TokenControl
		case id == 2:
			text, typ = "</s>", TokenControl
		case text == "":
			typ = TokenControl
		case isBytePiece(text):
			typ = TokenByte
		default:
			text = strings.ReplaceAll(text, " ", SPMSpace)
		}
		v.Tokens[id], v.Scores[id], v.Types[id] = text, score, typ
	}
	if off != len(b) {
		return nil, fmt.Errorf("llama2c tokenizer: %d bytes after token %d", len(b)-off, vocabSize-1)
	}
	return v, nil
}

// isBytePiece reports whether s is a byte-fallback piece "<0xHH>".
func isBytePiece(s string) bool {
	if len(s) != 6 || s[:3] != "<0x" || s[5] != '>' {
		return false
	}
	hex := func(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f' }
	return hex(s[3]) && hex(s[4])
}
