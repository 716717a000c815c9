package tokenizer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// GPT2EndOfText is GPT-2's only special token.
const GPT2EndOfText = "<|endoftext|>"

// LoadGPT2Dir loads GPT-2's tokenizer from dir/encoder.json and dir/vocab.bpe.
func LoadGPT2Dir(dir string) (*HF, error) {
	enc, err := os.Open(filepath.Join(dir, "encoder.json"))
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	bpe, err := os.Open(filepath.Join(dir, "vocab.bpe"))
	if err != nil {
		return nil, err
	}
	defer bpe.Close()
	return LoadGPT2(enc, bpe)
}

// LoadGPT2 builds GPT-2's byte-level BPE tokenizer from OpenAI's encoder.json
// (token → id) and vocab.bpe (merges), as the equivalent Hugging Face
// tokenizer.json does: a ByteLevel pre-tokenizer (PatternGPT2, no prefix
// space), post-processor and decoder, and <|endoftext|> as a special added
// token, which is also BOS and EOS.
func LoadGPT2(encoderJSON, vocabBPE io.Reader) (*HF, error) {
	var vocab map[string]int
	if err := json.NewDecoder(encoderJSON).Decode(&vocab); err != nil {
		return nil, fmt.Errorf("gpt2 encoder.json: %w", err)
	}
	var merges [][2]string
	sc := bufio.NewScanner(vocabBPE)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for line := 1; sc.Scan(); line++ {
		t := sc.Text()
		if line == 1 && strings.HasPrefix(t, "#version") || t == "" {
			continue
		}
		a, b, ok := strings.Cut(t, " ")
		if !ok || strings.Contains(b, " ") {
			return nil, fmt.Errorf("gpt2 vocab.bpe line %d: %q is not two tokens", line, t)
		}
		merges = append(merges, [2]string{a, b})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("gpt2 vocab.bpe: %w", err)
	}
	empty := ""
	m, err := NewBPEModel(vocab, merges, &BPEModel{ContinuingSubwordPrefix: &empty, EndOfWordSuffix: &empty})
	if err != nil {
		return nil, fmt.Errorf("gpt2: %w", err)
	}
	cfg := HFConfig{
		Model:         m,
		PreTokenizer:  ByteLevel{AddPrefixSpace: false, TrimOffsets: true, UseRegex: true},
		PostProcessor: ByteLevel{AddPrefixSpace: true, TrimOffsets: false, UseRegex: true},
		Decoder:       ByteLevel{AddPrefixSpace: true, TrimOffsets: true, UseRegex: true},
	}
	if id, ok := vocab[GPT2EndOfText]; ok {
		cfg.AddedTokens = []AddedToken{{ID: id, Content: GPT2EndOfText, Normalized: true, Special: true}}
	}
	h, err := NewHF(cfg)
	if err != nil {
		return nil, err
	}
	if id, ok := h.TokenID(GPT2EndOfText); ok {
		h.SetBOS(id)
		h.SetEOS(id)
	}
	return h, nil
}
