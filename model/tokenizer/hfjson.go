package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/humanllm/humanllm/model/safetensors"
)

// LoadHF reads a Hugging Face tokenizer.json file.
func LoadHF(path string) (*HF, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	h, err := ParseHF(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// ParseHF parses a tokenizer.json document. Supported: model "BPE";
// normalizers NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip,
// Sequence; pre-tokenizers ByteLevel, Split, Metaspace, Digits,
// WhitespaceSplit, Sequence; post-processors ByteLevel, TemplateProcessing,
// RobertaProcessing, BertProcessing, Sequence; decoders ByteLevel, Replace,
// ByteFallback, Fuse, Strip, Metaspace, Sequence. Anything else is an error,
// as is a Split regex that needs look-around (other than the GPT-2,
// Llama-3 and Qwen2 patterns, which have built-in scanners).
func ParseHF(data []byte) (*HF, error) {
	var f struct {
		Version       *string         `json:"version"`
		Truncation    json.RawMessage `json:"truncation"`
		Padding       json.RawMessage `json:"padding"`
		AddedTokens   []AddedToken    `json:"added_tokens"`
		Normalizer    json.RawMessage `json:"normalizer"`
		PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
		PostProcessor json.RawMessage `json:"post_processor"`
		Decoder       json.RawMessage `json:"decoder"`
		Model         json.RawMessage `json:"model"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if f.Version != nil && *f.Version != "1.0" {
		return nil, fmt.Errorf("tokenizer.json: unknown version %q", *f.Version)
	}
	var c HFConfig
	var err error
	if !isNull(f.Truncation) {
		c.Truncation = f.Truncation
	}
	if !isNull(f.Padding) {
		c.Padding = f.Padding
	}
	c.AddedTokens = f.AddedTokens
	if c.Normalizer, err = parseNormalizer(f.Normalizer, 0); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if c.PreTokenizer, err = parsePreTokenizer(f.PreTokenizer, 0); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if c.PostProcessor, err = parsePostProcessor(f.PostProcessor, 0); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if c.Decoder, err = parseDecoder(f.Decoder, 0); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if isNull(f.Model) {
		return nil, errors.New(`tokenizer.json: missing "model"`)
	}
	if c.Model, err = parseBPEModel(f.Model); err != nil {
		return nil, fmt.Errorf("tokenizer.json: model: %w", err)
	}
	return NewHF(c)
}

func parseBPEModel(raw json.RawMessage) (*BPEModel, error) {
	var v struct {
		Type                    *string           `json:"type"`
		Dropout                 *float64          `json:"dropout"`
		UnkToken                *string           `json:"unk_token"`
		ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
		FuseUnk                 *bool             `json:"fuse_unk"`
		ByteFallback            *bool             `json:"byte_fallback"`
		IgnoreMerges            *bool             `json:"ignore_merges"`
		Vocab                   map[string]int    `json:"vocab"`
		Merges                  []json.RawMessage `json:"merges"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if v.Type != nil && *v.Type != "BPE" {
		return nil, fmt.Errorf("model type %q is not supported (only BPE)", *v.Type)
	}
	if v.Vocab == nil || v.Merges == nil {
		return nil, errors.New("missing vocab/merges")
	}
	merges := make([][2]string, 0, len(v.Merges))
	for i, r := range v.Merges {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			if i == 0 && strings.HasPrefix(s, "#version") {
				continue
			}
			a, b, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(b, " ") {
				return nil, fmt.Errorf("merge %d %q is not two space-separated tokens", i, s)
			}
			merges = append(merges, [2]string{a, b})
			continue
		}
		var p []string
		if err := json.Unmarshal(r, &p); err != nil || len(p) != 2 {
			return nil, fmt.Errorf("merge %d: want \"a b\" or [\"a\", \"b\"]", i)
		}
		merges = append(merges, [2]string{p[0], p[1]})
	}
	opts := &BPEModel{
		Dropout:                 v.Dropout,
		UnkToken:                v.UnkToken,
		ContinuingSubwordPrefix: v.ContinuingSubwordPrefix,
		EndOfWordSuffix:         v.EndOfWordSuffix,
	}
	if v.FuseUnk != nil {
		opts.FuseUnk = *v.FuseUnk
	}
	if v.ByteFallback != nil {
		opts.ByteFallback = *v.ByteFallback
	}
	if v.IgnoreMerges != nil {
		opts.IgnoreMerges = *v.IgnoreMerges
	}
	return NewBPEModel(v.Vocab, merges, opts)
}

// orderedVocab writes a vocabulary ordered by id (then token).
type orderedVocab map[string]int32

func (o orderedVocab) MarshalJSON() ([]byte, error) {
	type e struct {
		tok string
		id  int32
	}
	es := make([]e, 0, len(o))
	for t, id := range o {
		es = append(es, e{t, id})
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].id != es[j].id {
			return es[i].id < es[j].id
		}
		return es[i].tok < es[j].tok
	})
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, x := range es {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := marshalNoEscape(x.tok)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		fmt.Fprintf(&buf, ":%d", x.id)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// MarshalJSON writes the model as tokenizer.json's "model" (merges as
// ["a", "b"] pairs, as current Hugging Face versions write them).
func (m *BPEModel) MarshalJSON() ([]byte, error) {
	merges := m.mergeSeq
	if merges == nil {
		merges = [][2]string{}
	}
	return typeOnly("BPE").
		add("dropout", m.Dropout).
		add("unk_token", m.UnkToken).
		add("continuing_subword_prefix", m.ContinuingSubwordPrefix).
		add("end_of_word_suffix", m.EndOfWordSuffix).
		add("fuse_unk", m.FuseUnk).
		add("byte_fallback", m.ByteFallback).
		add("ignore_merges", m.IgnoreMerges).
		add("vocab", orderedVocab(m.vocab)).
		add("merges", merges).
		MarshalJSON()
}

func rawOrNull(r json.RawMessage) any {
	if isNull(r) {
		return nil
	}
	return r
}

// MarshalJSON writes the tokenizer as a compact tokenizer.json document,
// fields in Hugging Face's order.
func (h *HF) MarshalJSON() ([]byte, error) {
	added := h.cfg.AddedTokens
	if added == nil {
		added = []AddedToken{}
	}
	return kv{}.
		add("version", "1.0").
		add("truncation", rawOrNull(h.cfg.Truncation)).
		add("padding", rawOrNull(h.cfg.Padding)).
		add("added_tokens", added).
		add("normalizer", h.cfg.Normalizer).
		add("pre_tokenizer", h.cfg.PreTokenizer).
		add("post_processor", h.cfg.PostProcessor).
		add("decoder", h.cfg.Decoder).
		add("model", h.cfg.Model).
		MarshalJSON()
}

// WriteJSON writes the tokenizer as an indented tokenizer.json document.
func (h *HF) WriteJSON(w io.Writer) error {
	b, err := h.MarshalJSON()
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// Save writes the tokenizer to a tokenizer.json file, atomically
// (temporary file, fsync, rename): path holds the old file or the new one,
// never a part.
func (h *HF) Save(path string) error {
	var buf bytes.Buffer
	if err := h.WriteJSON(&buf); err != nil {
		return err
	}
	return safetensors.WriteAtomic(path, buf.Bytes())
}
