// Package load opens a model in any format humanllm reads, by looking at
// what the path is rather than at its name:
//
//   - a Hugging Face model directory (config.json + model.safetensors or a
//     sharded model.safetensors.index.json; f32, f16, bf16), with its
//     tokenizer.json, bos/eos ids and chat template when present;
//   - a GGUF file of the llama architecture (what `humanllm export` and
//     llama.cpp's converters write; F32, F16, BF16, Q8_0), with the
//     SentencePiece vocabulary it embeds;
//   - a llama2.c .bin checkpoint (stories260K), which carries no tokenizer.
//
// Training checkpoints (ckpt-<step> directories) belong to the trainer and
// are opened by the command layer, which falls back to this package.
// Weights always come out in the rotate-half RoPE layout.
package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/humanllm/humanllm/internal/demodata"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/gguf"
	"github.com/humanllm/humanllm/model/hf"
	"github.com/humanllm/humanllm/model/llama2c"
	"github.com/humanllm/humanllm/model/tokenizer"
)

// Format names a model file format.
type Format string

// The formats Open reads.
const (
	HF      Format = "hf"
	GGUF    Format = "gguf"
	Llama2c Format = "llama2c"
)

// Model is an opened model.
type Model struct {
	Path    string
	Format  Format
	Weights *model.Weights
	// TokenizerSpec names the tokenizer the model carries, in the form
	// Tokenizer accepts (a tokenizer.json path, or the GGUF file itself);
	// "" when the format has none (llama2.c).
	TokenizerSpec string
	// ChatTemplate is the Jinja chat_template of an HF directory's
	// tokenizer_config.json, "" if none.
	ChatTemplate string
	// TemplateSpec names that template in the form chat.New accepts (the
	// tokenizer_config.json path); "" when there is none.
	TemplateSpec string
}

// Detect says which format path is in, from its content.
func Detect(path string) (Format, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "config.json")); err == nil {
			return HF, nil
		}
		return "", fmt.Errorf("%s: a directory without config.json is not a Hugging Face model directory", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var head [28]byte
	n, _ := io.ReadFull(f, head[:])
	if n >= 4 && string(head[:4]) == gguf.Magic {
		return GGUF, nil
	}
	if n == 28 {
		h, err := llama2c.ReadHeader(bytes.NewReader(head[:]))
		if err == nil && h.FileSize() == st.Size() {
			return Llama2c, nil
		}
		if err == nil {
			return "", fmt.Errorf("%s: has a llama2.c header (%s) but is %d bytes, not the %d it describes", path, h, st.Size(), h.FileSize())
		}
	}
	return "", fmt.Errorf("%s: not a model humanllm reads (a Hugging Face directory, a GGUF file or a llama2.c .bin; first bytes %q)", path, head[:min(n, 8)])
}

// Open reads the model at path.
func Open(path string) (*Model, error) {
	f, err := Detect(path)
	if err != nil {
		return nil, err
	}
	m := &Model{Path: path, Format: f}
	switch f {
	case HF:
		if m.Weights, err = hf.Load(path); err != nil {
			return nil, err
		}
		if p := filepath.Join(path, "tokenizer.json"); fileExists(p) {
			m.TokenizerSpec = p
		}
		tc := filepath.Join(path, "tokenizer_config.json")
		if m.ChatTemplate, err = chatTemplate(tc); err != nil {
			return nil, err
		}
		if m.ChatTemplate != "" {
			m.TemplateSpec = tc
		}
	case GGUF:
		w, v, err := gguf.ReadLlama(path)
		if err != nil {
			return nil, err
		}
		m.Weights = w
		if v != nil {
			m.TokenizerSpec = path
		}
	case Llama2c:
		if m.Weights, err = llama2c.Read(path); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// chatTemplate reads the chat_template string of a tokenizer_config.json
// ("" when the file or the field is absent; a list of named templates
// gives the "default" one).
func chatTemplate(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var v struct {
		T any `json:"chat_template"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	switch t := v.T.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case []any:
		for _, e := range t {
			if m, ok := e.(map[string]any); ok && m["name"] == "default" {
				if s, ok := m["template"].(string); ok {
					return s, nil
				}
			}
		}
		return "", fmt.Errorf("%s: chat_template is a list without a \"default\" entry", path)
	}
	return "", fmt.Errorf("%s: chat_template is a %T, want a string", path, v.T)
}

// Tokenizer opens a tokenizer by spec:
//
//	builtin:tok512      the llama2.c tokenizer of stories260K, embedded
//	PATH.json           a Hugging Face tokenizer.json
//	PATH.gguf           the vocabulary a GGUF file embeds (SentencePiece)
//	DIR                 a GPT-2 directory (encoder.json + vocab.bpe), or a
//	                    Hugging Face model directory (its tokenizer.json)
//	PATH                a llama2.c tokenizer .bin of vocab pieces
//
// vocab is the model's vocabulary size, which a llama2.c tokenizer file
// does not record.
func Tokenizer(spec string, vocab int) (tokenizer.Tokenizer, error) {
	switch {
	case spec == "":
		return nil, errors.New("no tokenizer given")
	case spec == "builtin:tok512":
		return tokenizer.ReadSentencePiece(bytes.NewReader(demodata.Tok512()), 512)
	case strings.HasSuffix(spec, ".json"):
		return tokenizer.LoadHF(spec)
	}
	st, err := os.Stat(spec)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		if p := filepath.Join(spec, "tokenizer.json"); fileExists(p) {
			return tokenizer.LoadHF(p)
		}
		return tokenizer.LoadGPT2Dir(spec)
	}
	if isGGUF(spec) {
		f, err := gguf.ReadFile(spec)
		if err != nil {
			return nil, err
		}
		v, err := gguf.VocabOf(f)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, fmt.Errorf("%s: the GGUF file carries no tokenizer", spec)
		}
		t, err := SentencePieceOf(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec, err)
		}
		return t, nil
	}
	return tokenizer.LoadSentencePiece(spec, vocab)
}

// SentencePieceOf turns a GGUF "llama" vocabulary back into the llama2.c
// SentencePiece tokenizer it was converted from (gguf.DecodeLlama2cVocab
// is the other direction): "▁" back to spaces, <s> and </s> back to
// llama2.c's "\n<s>\n" and "\n</s>\n" spellings.
func SentencePieceOf(v *gguf.Vocab) (*tokenizer.SentencePiece, error) {
	if v.Model != "llama" {
		return nil, fmt.Errorf("tokenizer.ggml.model %q: only SentencePiece (\"llama\") vocabularies are read", v.Model)
	}
	if len(v.Scores) != len(v.Tokens) || (v.Types != nil && len(v.Types) != len(v.Tokens)) {
		return nil, errors.New("tokenizer.ggml.scores/token_type do not match tokenizer.ggml.tokens in length")
	}
	pieces := make([]string, len(v.Tokens))
	maxLen := 0
	for id, t := range v.Tokens {
		typ := gguf.TokenNormal
		if v.Types != nil {
			typ = v.Types[id]
		}
		switch {
		case id == v.BOS && typ == gguf.TokenControl:
			t = "\n<s>\n"
		case id == v.EOS && typ == gguf.TokenControl:
			t = "\n</s>\n"
		case typ == gguf.TokenNormal || typ == gguf.TokenUserDefined:
			t = strings.ReplaceAll(t, gguf.SPMSpace, " ")
		}
		pieces[id] = t
		maxLen = max(maxLen, len(t))
	}
	return tokenizer.NewSentencePiece(pieces, v.Scores, maxLen)
}

func isGGUF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var m [4]byte
	_, err = io.ReadFull(f, m[:])
	return err == nil && string(m[:]) == gguf.Magic
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Peek returns the config of the model at path reading as little as it
// can: config.json of an HF directory, the 28-byte header of a llama2.c
// file. A GGUF file is parsed whole (its metadata sits before the
// tensors, but its size is only known by parsing). Callers use it to
// estimate memory before loading a model that may not fit.
func Peek(path string) (model.Config, error) {
	f, err := Detect(path)
	if err != nil {
		return model.Config{}, err
	}
	switch f {
	case HF:
		return hf.ReadConfig(path)
	case Llama2c:
		r, err := os.Open(path)
		if err != nil {
			return model.Config{}, err
		}
		defer r.Close()
		h, err := llama2c.ReadHeader(r)
		if err != nil {
			return model.Config{}, fmt.Errorf("%s: %w", path, err)
		}
		c := h.Config()
		c.RopeLayout = model.RopeHalf // as Open converts it
		return c, nil
	}
	gf, err := gguf.ReadFile(path)
	if err != nil {
		return model.Config{}, err
	}
	c, err := gguf.LlamaConfig(gf)
	c.RopeLayout = model.RopeHalf // as Open converts it
	return c, err
}
