package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// This file holds the tokenizer.json components (normalizers,
// pre-tokenizers, post-processors, decoders) that this package implements,
// with their Hugging Face JSON forms. Unsupported component types are
// rejected when a tokenizer.json is read.

// Normalizer is a tokenizer.json "normalizer".
type Normalizer interface {
	normalize(s string) string
}

// PreTokenizer is a tokenizer.json "pre_tokenizer".
type PreTokenizer interface {
	preTokenize(in []pretok) []pretok
}

// PostProcessor is a tokenizer.json "post_processor" (single sequences only).
type PostProcessor interface {
	process(ids []int, addSpecial bool) []int
}

// Decoder is a tokenizer.json "decoder". Tokens are Go strings and may hold
// any bytes.
type Decoder interface {
	decodeChain(tokens []string) []string
}

// pretok is one split of the text during pre-tokenization.
type pretok struct {
	s       string
	atStart bool // starts at offset 0 of the original text
}

// SplitPattern is a Split/Replace pattern: exactly one of String (a literal)
// and Regex is set.
type SplitPattern struct {
	String *string `json:"String,omitempty"`
	Regex  *string `json:"Regex,omitempty"`
}

func (p SplitPattern) compile() (matcher, error) {
	switch {
	case p.String != nil && p.Regex == nil:
		return literalMatcher(*p.String), nil
	case p.Regex != nil && p.String == nil:
		return compilePattern(*p.Regex)
	}
	return nil, errors.New(`pattern must have exactly one of "String" and "Regex"`)
}

// ---- normalizers ----

// NFC, NFD, NFKC, NFKD are the Unicode normalization forms.
type (
	NFC  struct{}
	NFD  struct{}
	NFKC struct{}
	NFKD struct{}
)

func (NFC) normalize(s string) string  { return norm.NFC.String(s) }
func (NFD) normalize(s string) string  { return norm.NFD.String(s) }
func (NFKC) normalize(s string) string { return norm.NFKC.String(s) }
func (NFKD) normalize(s string) string { return norm.NFKD.String(s) }

// Lowercase lower-cases as Hugging Face does (Rust's char::to_lowercase):
// Go's case mapping, plus U+0130 → "i\u0307" (Rust's full mapping) and the
// case pairs of Unicode 16.0 and 17.0 (lowerSupplement).
type Lowercase struct{}

func (Lowercase) normalize(s string) string {
	if strings.Contains(s, "\u0130") {
		s = strings.ReplaceAll(s, "\u0130", "i\u0307")
	}
	return strings.Map(lowerRune, s)
}

func lowerRune(r rune) rune {
	if r < 0x1C89 {
		return unicode.ToLower(r)
	}
	switch {
	case r >= 0x10D50 && r <= 0x10D65: // Garay
		return r + 0x20
	case r >= 0x16EA0 && r <= 0x16EB8: // Beria Erfe
		return r + 0x1B
	}
	if l, ok := lowerSupplement[r]; ok {
		return l
	}
	return unicode.ToLower(r)
}

// Prepend prepends a string to every non-empty split.
type Prepend struct{ Prepend string }

func (p Prepend) normalize(s string) string {
	if s == "" {
		return s
	}
	return p.Prepend + s
}

// Replace replaces every match of Pattern by Content (a normalizer and a
// decoder).
type Replace struct {
	Pattern SplitPattern
	Content string
	m       matcher
}

func (r *Replace) normalize(s string) string {
	ms := r.m.matches(s, nil)
	if len(ms) == 0 {
		return s
	}
	var b strings.Builder
	prev := 0
	for _, m := range ms {
		b.WriteString(s[prev:m.start])
		b.WriteString(r.Content)
		prev = m.end
	}
	b.WriteString(s[prev:])
	return b.String()
}

func (r *Replace) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = r.normalize(t)
	}
	return out
}

// StripNormalizer removes leading and/or trailing whitespace (JSON type "Strip").
type StripNormalizer struct{ Left, Right bool }

func (s StripNormalizer) normalize(x string) string {
	if s.Left {
		x = strings.TrimLeftFunc(x, unicode.IsSpace)
	}
	if s.Right {
		x = strings.TrimRightFunc(x, unicode.IsSpace)
	}
	return x
}

// normalizeTracked normalizes s and reports whether the result no longer
// starts at the original text's first character (leading text was deleted),
// which Hugging Face's Metaspace prepend_scheme "first" looks at.
func normalizeTracked(n Normalizer, s string) (string, bool) {
	switch n := n.(type) {
	case StripNormalizer:
		out := n.normalize(s)
		trimmed := n.Left && len(strings.TrimLeftFunc(s, unicode.IsSpace)) != len(s)
		return out, trimmed
	case *Replace:
		shifted := false
		if n.Content == "" {
			if ms := n.m.matches(s, nil); len(ms) > 0 && ms[0].start == 0 && ms[0].end > 0 {
				shifted = true
			}
		}
		return n.normalize(s), shifted
	case NormalizerSequence:
		shifted := false
		for _, x := range n.Normalizers {
			var sh bool
			s, sh = normalizeTracked(x, s)
			shifted = shifted || sh
		}
		return s, shifted
	}
	return n.normalize(s), false
}

// NormalizerSequence applies normalizers in order.
type NormalizerSequence struct{ Normalizers []Normalizer }

func (q NormalizerSequence) normalize(s string) string {
	for _, n := range q.Normalizers {
		s = n.normalize(s)
	}
	return s
}

// ---- pre-tokenizers (and ByteLevel's other roles) ----

// ByteLevel is the byte-level pre-tokenizer, post-processor and decoder.
// As a pre-tokenizer it optionally prepends a space to each split, splits
// with PatternGPT2 if UseRegex, and maps every byte to GPT-2's byte-level
// alphabet; as a decoder it maps tokens back to bytes; as a post-processor
// it only affects offsets, which this package does not compute.
type ByteLevel struct {
	AddPrefixSpace bool
	TrimOffsets    bool
	UseRegex       bool
}

func (b ByteLevel) preTokenize(in []pretok) []pretok {
	out := make([]pretok, 0, len(in))
	var spans []span
	for _, p := range in {
		s := p.s
		if b.AddPrefixSpace && !strings.HasPrefix(s, " ") {
			s = " " + s
		}
		if !b.UseRegex {
			out = append(out, pretok{ByteLevelEncode(s), p.atStart})
			continue
		}
		spans = scanGPT2.matches(s, spans[:0])
		for i, sp := range spans {
			out = append(out, pretok{ByteLevelEncode(s[sp.start:sp.end]), p.atStart && i == 0})
		}
	}
	return out
}

func (b ByteLevel) process(ids []int, _ bool) []int { return ids }

func (b ByteLevel) decodeChain(tokens []string) []string {
	var buf []byte
	for _, t := range tokens {
		var ok bool
		if buf, ok = appendByteLevelDecoded(buf, t); !ok {
			buf = append(buf, t...)
		}
	}
	return []string{string(buf)}
}

// Split splits with a pattern and a delimiter behaviour ("Removed",
// "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous").
type Split struct {
	Pattern  SplitPattern
	Behavior string
	Invert   bool
	m        matcher
}

func (q *Split) preTokenize(in []pretok) []pretok {
	out := make([]pretok, 0, len(in))
	var ms, parts []span
	for _, p := range in {
		ms = q.m.matches(p.s, ms[:0])
		parts = splitBy(p.s, ms, q.Behavior, q.Invert, parts[:0])
		for _, sp := range parts {
			out = append(out, pretok{p.s[sp.start:sp.end], p.atStart && sp.start == 0})
		}
	}
	return out
}

// Metaspace replaces spaces by Replacement (usually "▁"), prepends it
// according to PrependScheme ("always", "first", "never") and, if Split,
// splits before each Replacement. It is also a decoder.
type Metaspace struct {
	Replacement   rune
	PrependScheme string
	Split         bool
}

func (q Metaspace) preTokenize(in []pretok) []pretok {
	rep := string(q.Replacement)
	out := make([]pretok, 0, len(in))
	var ms, parts []span
	for _, p := range in {
		s := strings.ReplaceAll(p.s, " ", rep)
		switch q.PrependScheme {
		case "always":
			if !strings.HasPrefix(s, rep) {
				s = rep + s
			}
		case "first":
			if !strings.HasPrefix(s, rep) && p.atStart {
				s = rep + s
			}
		}
		if !q.Split {
			out = append(out, pretok{s, p.atStart})
			continue
		}
		ms = literalMatcher(rep).matches(s, ms[:0])
		parts = splitBy(s, ms, behaviorMergedWithNext, false, parts[:0])
		for _, sp := range parts {
			out = append(out, pretok{s[sp.start:sp.end], p.atStart && sp.start == 0})
		}
	}
	return out
}

func (q Metaspace) decodeChain(tokens []string) []string {
	rep := string(q.Replacement)
	out := make([]string, len(tokens))
	for i, t := range tokens {
		if i == 0 && q.PrependScheme != "never" {
			out[i] = strings.ReplaceAll(t, rep, "")
		} else {
			out[i] = strings.ReplaceAll(t, rep, " ")
		}
	}
	return out
}

// charMatcher matches every single character satisfying f.
type charMatcher func(rune) bool

func (f charMatcher) matches(s string, dst []span) []span {
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if f(r) && !(r == utf8.RuneError && w == 1) {
			dst = append(dst, span{i, i + w})
		}
		i += w
	}
	return dst
}

// Digits splits digits (Unicode numbers, as Rust's char::is_numeric: see
// isNumeric) from the rest, each digit alone if IndividualDigits.
type Digits struct{ IndividualDigits bool }

func (d Digits) preTokenize(in []pretok) []pretok {
	beh := behaviorContiguous
	if d.IndividualDigits {
		beh = behaviorIsolated
	}
	return splitPretoks(in, charMatcher(isNumeric), beh)
}

// WhitespaceSplit splits on whitespace, dropping it.
type WhitespaceSplit struct{}

func (WhitespaceSplit) preTokenize(in []pretok) []pretok {
	return splitPretoks(in, charMatcher(unicode.IsSpace), behaviorRemoved)
}

func splitPretoks(in []pretok, m matcher, behavior string) []pretok {
	out := make([]pretok, 0, len(in))
	var ms, parts []span
	for _, p := range in {
		ms = m.matches(p.s, ms[:0])
		parts = splitBy(p.s, ms, behavior, false, parts[:0])
		for _, sp := range parts {
			out = append(out, pretok{p.s[sp.start:sp.end], p.atStart && sp.start == 0})
		}
	}
	return out
}

// PreTokenizerSequence applies pre-tokenizers in order.
type PreTokenizerSequence struct{ PreTokenizers []PreTokenizer }

func (q PreTokenizerSequence) preTokenize(in []pretok) []pretok {
	for _, p := range q.PreTokenizers {
		in = p.preTokenize(in)
	}
	return in
}

// ---- post-processors ----

// TemplatePiece is one element of a TemplateProcessing template: a special
// token (SpecialToken set) or the input sequence ("A"; "B" is for pairs).
type TemplatePiece struct {
	SpecialToken string
	Sequence     string
	TypeID       int
}

// TemplateSpecial is one entry of TemplateProcessing's special_tokens.
type TemplateSpecial struct {
	ID     string   `json:"id"`
	IDs    []int    `json:"ids"`
	Tokens []string `json:"tokens"`
}

// TemplateProcessing adds special tokens around a sequence (e.g. Llama-3's
// <|begin_of_text|> $A). Only Single is used here; Pair is kept for writing.
type TemplateProcessing struct {
	Single        []TemplatePiece
	Pair          []TemplatePiece
	SpecialTokens map[string]TemplateSpecial
}

func (t *TemplateProcessing) process(ids []int, addSpecial bool) []int {
	if !addSpecial {
		return ids
	}
	var out []int
	for _, p := range t.Single {
		if p.SpecialToken != "" {
			out = append(out, t.SpecialTokens[p.SpecialToken].IDs...)
		} else {
			out = append(out, ids...)
		}
	}
	return out
}

// RobertaProcessing and BertProcessing wrap a sequence as CLS … SEP.
type RobertaProcessing struct {
	Sep, Cls       TokenRef
	TrimOffsets    bool
	AddPrefixSpace bool
}

// TokenRef is a (token, id) pair as written in RobertaProcessing/BertProcessing.
type TokenRef struct {
	Token string
	ID    int
}

func (r *RobertaProcessing) process(ids []int, addSpecial bool) []int {
	if !addSpecial {
		return ids
	}
	return append(append([]int{r.Cls.ID}, ids...), r.Sep.ID)
}

// BertProcessing wraps a sequence as [CLS] … [SEP].
type BertProcessing struct{ Sep, Cls TokenRef }

func (r *BertProcessing) process(ids []int, addSpecial bool) []int {
	if !addSpecial {
		return ids
	}
	return append(append([]int{r.Cls.ID}, ids...), r.Sep.ID)
}

// ProcessorSequence applies post-processors in order.
type ProcessorSequence struct{ Processors []PostProcessor }

func (q ProcessorSequence) process(ids []int, addSpecial bool) []int {
	for _, p := range q.Processors {
		ids = p.process(ids, addSpecial)
	}
	return ids
}

// ---- decoders ----

// ByteFallback turns runs of <0xHH> tokens into their bytes. Unlike Hugging
// Face, invalid UTF-8 is kept as raw bytes instead of U+FFFD.
type ByteFallback struct{}

func (ByteFallback) decodeChain(tokens []string) []string {
	out := make([]string, 0, len(tokens))
	var pending []byte
	for _, t := range tokens {
		if b, ok := parseByteToken(t); ok {
			pending = append(pending, b)
			continue
		}
		if len(pending) > 0 {
			out = append(out, string(pending))
			pending = pending[:0]
		}
		out = append(out, t)
	}
	if len(pending) > 0 {
		out = append(out, string(pending))
	}
	return out
}

// parseByteToken parses "<0xHH>".
func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	hi, ok1 := unhex(t[3])
	lo, ok2 := unhex(t[4])
	return hi<<4 | lo, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Fuse joins all tokens into one.
type Fuse struct{}

func (Fuse) decodeChain(tokens []string) []string { return []string{strings.Join(tokens, "")} }

// StripDecoder removes up to Start leading and Stop trailing Content
// characters from every token (JSON type "Strip").
type StripDecoder struct {
	Content     rune
	Start, Stop int
}

func (d StripDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		for n := 0; n < d.Start; n++ {
			r, w := utf8.DecodeRuneInString(t)
			if w == 0 || r != d.Content || r == utf8.RuneError && w == 1 {
				break
			}
			t = t[w:]
		}
		for n := 0; n < d.Stop; n++ {
			r, w := utf8.DecodeLastRuneInString(t)
			if w == 0 || r != d.Content || r == utf8.RuneError && w == 1 {
				break
			}
			t = t[:len(t)-w]
		}
		out[i] = t
	}
	return out
}

// DecoderSequence applies decoders in order.
type DecoderSequence struct{ Decoders []Decoder }

func (q DecoderSequence) decodeChain(tokens []string) []string {
	for _, d := range q.Decoders {
		tokens = d.decodeChain(tokens)
	}
	return tokens
}

// ---- JSON ----

// maxNesting bounds Sequence nesting in tokenizer.json.
const maxNesting = 32

type typed struct {
	Type string `json:"type"`
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

func componentType(raw json.RawMessage) (string, error) {
	var t typed
	if err := json.Unmarshal(raw, &t); err != nil {
		return "", err
	}
	if t.Type == "" {
		return "", errors.New(`missing "type"`)
	}
	return t.Type, nil
}

func parseNormalizer(raw json.RawMessage, depth int) (Normalizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	if depth > maxNesting {
		return nil, errors.New("normalizer: nested too deeply")
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	switch typ {
	case "NFC":
		return NFC{}, nil
	case "NFD":
		return NFD{}, nil
	case "NFKC":
		return NFKC{}, nil
	case "NFKD":
		return NFKD{}, nil
	case "Lowercase":
		return Lowercase{}, nil
	case "Prepend":
		var v struct {
			Prepend *string `json:"prepend"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("normalizer Prepend: %w", err)
		}
		if v.Prepend == nil {
			return nil, errors.New(`normalizer Prepend: missing "prepend"`)
		}
		return Prepend{*v.Prepend}, nil
	case "Replace":
		r, err := parseReplace(raw)
		if err != nil {
			return nil, fmt.Errorf("normalizer Replace: %w", err)
		}
		return r, nil
	case "Strip":
		var v struct {
			Left  bool `json:"strip_left"`
			Right bool `json:"strip_right"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("normalizer Strip: %w", err)
		}
		return StripNormalizer{v.Left, v.Right}, nil
	case "Sequence":
		var v struct {
			Normalizers []json.RawMessage `json:"normalizers"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("normalizer Sequence: %w", err)
		}
		var q NormalizerSequence
		for _, r := range v.Normalizers {
			n, err := parseNormalizer(r, depth+1)
			if err != nil {
				return nil, err
			}
			if n != nil {
				q.Normalizers = append(q.Normalizers, n)
			}
		}
		return q, nil
	}
	return nil, fmt.Errorf("normalizer type %q is not supported", typ)
}

func parseReplace(raw json.RawMessage) (*Replace, error) {
	var v struct {
		Pattern SplitPattern `json:"pattern"`
		Content *string      `json:"content"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if v.Content == nil {
		return nil, errors.New(`missing "content"`)
	}
	m, err := v.Pattern.compile()
	if err != nil {
		return nil, err
	}
	return &Replace{Pattern: v.Pattern, Content: *v.Content, m: m}, nil
}

// NewReplace returns a Replace normalizer/decoder of a literal string.
func NewReplace(pattern, content string) *Replace {
	return &Replace{Pattern: SplitPattern{String: &pattern}, Content: content, m: literalMatcher(pattern)}
}

// NewSplit returns a Split pre-tokenizer with a regex pattern.
func NewSplit(regex, behavior string, invert bool) (*Split, error) {
	if !validBehavior(behavior) {
		return nil, fmt.Errorf("split: unknown behavior %q", behavior)
	}
	m, err := compilePattern(regex)
	if err != nil {
		return nil, err
	}
	return &Split{Pattern: SplitPattern{Regex: &regex}, Behavior: behavior, Invert: invert, m: m}, nil
}

func parseByteLevel(raw json.RawMessage) (ByteLevel, error) {
	// Hugging Face's defaults: add_prefix_space true, trim_offsets true, use_regex true.
	v := struct {
		AddPrefixSpace *bool `json:"add_prefix_space"`
		TrimOffsets    *bool `json:"trim_offsets"`
		UseRegex       *bool `json:"use_regex"`
	}{}
	if err := json.Unmarshal(raw, &v); err != nil {
		return ByteLevel{}, fmt.Errorf("ByteLevel: %w", err)
	}
	b := ByteLevel{AddPrefixSpace: true, TrimOffsets: true, UseRegex: true}
	if v.AddPrefixSpace != nil {
		b.AddPrefixSpace = *v.AddPrefixSpace
	}
	if v.TrimOffsets != nil {
		b.TrimOffsets = *v.TrimOffsets
	}
	if v.UseRegex != nil {
		b.UseRegex = *v.UseRegex
	}
	return b, nil
}

func parseMetaspace(raw json.RawMessage) (Metaspace, error) {
	var v struct {
		Replacement    string  `json:"replacement"`
		AddPrefixSpace *bool   `json:"add_prefix_space"`
		PrependScheme  *string `json:"prepend_scheme"`
		Split          *bool   `json:"split"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return Metaspace{}, fmt.Errorf("Metaspace: %w", err)
	}
	if utf8.RuneCountInString(v.Replacement) != 1 {
		return Metaspace{}, fmt.Errorf("Metaspace: replacement %q must be one character", v.Replacement)
	}
	r, _ := utf8.DecodeRuneInString(v.Replacement)
	m := Metaspace{Replacement: r, PrependScheme: "always", Split: true}
	if v.PrependScheme != nil {
		m.PrependScheme = *v.PrependScheme
	}
	switch m.PrependScheme {
	case "always", "first", "never":
	default:
		return Metaspace{}, fmt.Errorf("Metaspace: unknown prepend_scheme %q", m.PrependScheme)
	}
	if v.AddPrefixSpace != nil && !*v.AddPrefixSpace {
		if m.PrependScheme != "never" && v.PrependScheme != nil {
			return Metaspace{}, errors.New("Metaspace: add_prefix_space does not match declared prepend_scheme")
		}
		m.PrependScheme = "never"
	}
	if v.Split != nil {
		m.Split = *v.Split
	}
	return m, nil
}

func parsePreTokenizer(raw json.RawMessage, depth int) (PreTokenizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	if depth > maxNesting {
		return nil, errors.New("pre_tokenizer: nested too deeply")
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	switch typ {
	case "ByteLevel":
		return parseByteLevel(raw)
	case "Split":
		var v struct {
			Pattern  SplitPattern `json:"pattern"`
			Behavior string       `json:"behavior"`
			Invert   bool         `json:"invert"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("pre_tokenizer Split: %w", err)
		}
		if !validBehavior(v.Behavior) {
			return nil, fmt.Errorf("pre_tokenizer Split: unknown behavior %q", v.Behavior)
		}
		m, err := v.Pattern.compile()
		if err != nil {
			return nil, fmt.Errorf("pre_tokenizer Split: %w", err)
		}
		return &Split{Pattern: v.Pattern, Behavior: v.Behavior, Invert: v.Invert, m: m}, nil
	case "Metaspace":
		return parseMetaspace(raw)
	case "Digits":
		var v struct {
			IndividualDigits bool `json:"individual_digits"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("pre_tokenizer Digits: %w", err)
		}
		return Digits{v.IndividualDigits}, nil
	case "WhitespaceSplit":
		return WhitespaceSplit{}, nil
	case "Sequence":
		var v struct {
			PreTokenizers []json.RawMessage `json:"pretokenizers"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("pre_tokenizer Sequence: %w", err)
		}
		var q PreTokenizerSequence
		for _, r := range v.PreTokenizers {
			p, err := parsePreTokenizer(r, depth+1)
			if err != nil {
				return nil, err
			}
			if p != nil {
				q.PreTokenizers = append(q.PreTokenizers, p)
			}
		}
		return q, nil
	}
	return nil, fmt.Errorf("pre_tokenizer type %q is not supported", typ)
}

// UnmarshalJSON parses ["token", id].
func (r *TokenRef) UnmarshalJSON(b []byte) error {
	var v []json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil || len(v) != 2 {
		return errors.New(`expected ["token", id]`)
	}
	if err := json.Unmarshal(v[0], &r.Token); err != nil {
		return err
	}
	return json.Unmarshal(v[1], &r.ID)
}

// MarshalJSON writes ["token", id].
func (r TokenRef) MarshalJSON() ([]byte, error) {
	return marshalNoEscape([]any{r.Token, r.ID})
}

func parseTemplate(raw json.RawMessage) ([]TemplatePiece, error) {
	if isNull(raw) {
		return nil, nil
	}
	var items []map[string]struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	var out []TemplatePiece
	for _, it := range items {
		if len(it) != 1 {
			return nil, errors.New("template piece must be {\"SpecialToken\":…} or {\"Sequence\":…}")
		}
		for k, v := range it {
			switch k {
			case "SpecialToken":
				if v.ID == "" {
					return nil, errors.New("template SpecialToken with empty id")
				}
				out = append(out, TemplatePiece{SpecialToken: v.ID, TypeID: v.TypeID})
			case "Sequence":
				if v.ID != "A" && v.ID != "B" {
					return nil, fmt.Errorf("template Sequence id %q (want A or B)", v.ID)
				}
				out = append(out, TemplatePiece{Sequence: v.ID, TypeID: v.TypeID})
			default:
				return nil, fmt.Errorf("unknown template piece %q", k)
			}
		}
	}
	return out, nil
}

func parsePostProcessor(raw json.RawMessage, depth int) (PostProcessor, error) {
	if isNull(raw) {
		return nil, nil
	}
	if depth > maxNesting {
		return nil, errors.New("post_processor: nested too deeply")
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	switch typ {
	case "ByteLevel":
		return parseByteLevel(raw)
	case "TemplateProcessing":
		var v struct {
			Single        json.RawMessage            `json:"single"`
			Pair          json.RawMessage            `json:"pair"`
			SpecialTokens map[string]TemplateSpecial `json:"special_tokens"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("post_processor TemplateProcessing: %w", err)
		}
		t := &TemplateProcessing{SpecialTokens: v.SpecialTokens}
		if t.Single, err = parseTemplate(v.Single); err != nil {
			return nil, fmt.Errorf("post_processor TemplateProcessing single: %w", err)
		}
		if t.Pair, err = parseTemplate(v.Pair); err != nil {
			return nil, fmt.Errorf("post_processor TemplateProcessing pair: %w", err)
		}
		for _, p := range append(append([]TemplatePiece(nil), t.Single...), t.Pair...) {
			if p.SpecialToken == "" {
				continue
			}
			st, ok := t.SpecialTokens[p.SpecialToken]
			if !ok {
				return nil, fmt.Errorf("post_processor TemplateProcessing: missing special token %q", p.SpecialToken)
			}
			if len(st.IDs) != len(st.Tokens) {
				return nil, fmt.Errorf("post_processor TemplateProcessing: special token %q has %d ids and %d tokens", p.SpecialToken, len(st.IDs), len(st.Tokens))
			}
			for _, id := range st.IDs {
				if id < 0 {
					return nil, fmt.Errorf("post_processor TemplateProcessing: negative id %d", id)
				}
			}
		}
		return t, nil
	case "RobertaProcessing":
		v := RobertaProcessing{TrimOffsets: true, AddPrefixSpace: true}
		var w struct {
			Sep            *TokenRef `json:"sep"`
			Cls            *TokenRef `json:"cls"`
			TrimOffsets    *bool     `json:"trim_offsets"`
			AddPrefixSpace *bool     `json:"add_prefix_space"`
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, fmt.Errorf("post_processor RobertaProcessing: %w", err)
		}
		if w.Sep == nil || w.Cls == nil {
			return nil, errors.New("post_processor RobertaProcessing: needs sep and cls")
		}
		v.Sep, v.Cls = *w.Sep, *w.Cls
		if w.TrimOffsets != nil {
			v.TrimOffsets = *w.TrimOffsets
		}
		if w.AddPrefixSpace != nil {
			v.AddPrefixSpace = *w.AddPrefixSpace
		}
		if v.Sep.ID < 0 || v.Cls.ID < 0 {
			return nil, errors.New("post_processor RobertaProcessing: negative id")
		}
		return &v, nil
	case "BertProcessing":
		var w struct {
			Sep *TokenRef `json:"sep"`
			Cls *TokenRef `json:"cls"`
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, fmt.Errorf("post_processor BertProcessing: %w", err)
		}
		if w.Sep == nil || w.Cls == nil {
			return nil, errors.New("post_processor BertProcessing: needs sep and cls")
		}
		if w.Sep.ID < 0 || w.Cls.ID < 0 {
			return nil, errors.New("post_processor BertProcessing: negative id")
		}
		return &BertProcessing{Sep: *w.Sep, Cls: *w.Cls}, nil
	case "Sequence":
		var v struct {
			Processors []json.RawMessage `json:"processors"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("post_processor Sequence: %w", err)
		}
		var q ProcessorSequence
		for _, r := range v.Processors {
			p, err := parsePostProcessor(r, depth+1)
			if err != nil {
				return nil, err
			}
			if p != nil {
				q.Processors = append(q.Processors, p)
			}
		}
		return q, nil
	}
	return nil, fmt.Errorf("post_processor type %q is not supported", typ)
}

func parseDecoder(raw json.RawMessage, depth int) (Decoder, error) {
	if isNull(raw) {
		return nil, nil
	}
	if depth > maxNesting {
		return nil, errors.New("decoder: nested too deeply")
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	switch typ {
	case "ByteLevel":
		return parseByteLevel(raw)
	case "Replace":
		r, err := parseReplace(raw)
		if err != nil {
			return nil, fmt.Errorf("decoder Replace: %w", err)
		}
		return r, nil
	case "ByteFallback":
		return ByteFallback{}, nil
	case "Fuse":
		return Fuse{}, nil
	case "Strip":
		var v struct {
			Content string `json:"content"`
			Start   int    `json:"start"`
			Stop    int    `json:"stop"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("decoder Strip: %w", err)
		}
		if utf8.RuneCountInString(v.Content) != 1 || v.Start < 0 || v.Stop < 0 {
			return nil, fmt.Errorf("decoder Strip: content %q must be one character, start/stop non-negative", v.Content)
		}
		r, _ := utf8.DecodeRuneInString(v.Content)
		return StripDecoder{Content: r, Start: v.Start, Stop: v.Stop}, nil
	case "Metaspace":
		return parseMetaspace(raw)
	case "Sequence":
		var v struct {
			Decoders []json.RawMessage `json:"decoders"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("decoder Sequence: %w", err)
		}
		var q DecoderSequence
		for _, r := range v.Decoders {
			d, err := parseDecoder(r, depth+1)
			if err != nil {
				return nil, err
			}
			if d != nil {
				q.Decoders = append(q.Decoders, d)
			}
		}
		return q, nil
	}
	return nil, fmt.Errorf("decoder type %q is not supported", typ)
}

// marshalNoEscape is json.Marshal without HTML escaping.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// kv is an ordered JSON object under construction.
type kv []struct {
	k string
	v any
}

func (o kv) add(k string, v any) kv {
	return append(o, struct {
		k string
		v any
	}{k, v})
}

func (o kv) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := marshalNoEscape(e.k)
		buf.Write(k)
		buf.WriteByte(':')
		v, err := marshalNoEscape(e.v)
		if err != nil {
			return nil, err
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func typeOnly(t string) kv { return kv{}.add("type", t) }

// MarshalJSON methods write the Hugging Face forms, fields in Hugging Face's order.

func (NFC) MarshalJSON() ([]byte, error)       { return typeOnly("NFC").MarshalJSON() }
func (NFD) MarshalJSON() ([]byte, error)       { return typeOnly("NFD").MarshalJSON() }
func (NFKC) MarshalJSON() ([]byte, error)      { return typeOnly("NFKC").MarshalJSON() }
func (NFKD) MarshalJSON() ([]byte, error)      { return typeOnly("NFKD").MarshalJSON() }
func (Lowercase) MarshalJSON() ([]byte, error) { return typeOnly("Lowercase").MarshalJSON() }
func (p Prepend) MarshalJSON() ([]byte, error) {
	return typeOnly("Prepend").add("prepend", p.Prepend).MarshalJSON()
}
func (r *Replace) MarshalJSON() ([]byte, error) {
	return typeOnly("Replace").add("pattern", r.Pattern).add("content", r.Content).MarshalJSON()
}
func (s StripNormalizer) MarshalJSON() ([]byte, error) {
	return typeOnly("Strip").add("strip_left", s.Left).add("strip_right", s.Right).MarshalJSON()
}
func (q NormalizerSequence) MarshalJSON() ([]byte, error) {
	n := q.Normalizers
	if n == nil {
		n = []Normalizer{}
	}
	return typeOnly("Sequence").add("normalizers", n).MarshalJSON()
}
func (b ByteLevel) MarshalJSON() ([]byte, error) {
	return typeOnly("ByteLevel").add("add_prefix_space", b.AddPrefixSpace).add("trim_offsets", b.TrimOffsets).add("use_regex", b.UseRegex).MarshalJSON()
}
func (q *Split) MarshalJSON() ([]byte, error) {
	return typeOnly("Split").add("pattern", q.Pattern).add("behavior", q.Behavior).add("invert", q.Invert).MarshalJSON()
}
func (q Metaspace) MarshalJSON() ([]byte, error) {
	return typeOnly("Metaspace").add("replacement", string(q.Replacement)).add("prepend_scheme", q.PrependScheme).add("split", q.Split).MarshalJSON()
}
func (d Digits) MarshalJSON() ([]byte, error) {
	return typeOnly("Digits").add("individual_digits", d.IndividualDigits).MarshalJSON()
}
func (WhitespaceSplit) MarshalJSON() ([]byte, error) {
	return typeOnly("WhitespaceSplit").MarshalJSON()
}
func (q PreTokenizerSequence) MarshalJSON() ([]byte, error) {
	p := q.PreTokenizers
	if p == nil {
		p = []PreTokenizer{}
	}
	return typeOnly("Sequence").add("pretokenizers", p).MarshalJSON()
}

// MarshalJSON writes {"SpecialToken":{"id":…,"type_id":…}} or {"Sequence":…}.
func (p TemplatePiece) MarshalJSON() ([]byte, error) {
	if p.SpecialToken != "" {
		return kv{}.add("SpecialToken", kv{}.add("id", p.SpecialToken).add("type_id", p.TypeID)).MarshalJSON()
	}
	return kv{}.add("Sequence", kv{}.add("id", p.Sequence).add("type_id", p.TypeID)).MarshalJSON()
}
func (t *TemplateProcessing) MarshalJSON() ([]byte, error) {
	keys := make([]string, 0, len(t.SpecialTokens))
	for k := range t.SpecialTokens {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	st := kv{}
	for _, k := range keys {
		v := t.SpecialTokens[k]
		if v.IDs == nil {
			v.IDs = []int{}
		}
		if v.Tokens == nil {
			v.Tokens = []string{}
		}
		st = st.add(k, v)
	}
	single, pair := t.Single, t.Pair
	if single == nil {
		single = []TemplatePiece{}
	}
	if pair == nil {
		pair = []TemplatePiece{}
	}
	return typeOnly("TemplateProcessing").add("single", single).add("pair", pair).add("special_tokens", st).MarshalJSON()
}
func (r *RobertaProcessing) MarshalJSON() ([]byte, error) {
	return typeOnly("RobertaProcessing").add("sep", r.Sep).add("cls", r.Cls).add("trim_offsets", r.TrimOffsets).add("add_prefix_space", r.AddPrefixSpace).MarshalJSON()
}
func (r *BertProcessing) MarshalJSON() ([]byte, error) {
	return typeOnly("BertProcessing").add("sep", r.Sep).add("cls", r.Cls).MarshalJSON()
}
func (q ProcessorSequence) MarshalJSON() ([]byte, error) {
	p := q.Processors
	if p == nil {
		p = []PostProcessor{}
	}
	return typeOnly("Sequence").add("processors", p).MarshalJSON()
}
func (ByteFallback) MarshalJSON() ([]byte, error) { return typeOnly("ByteFallback").MarshalJSON() }
func (Fuse) MarshalJSON() ([]byte, error)         { return typeOnly("Fuse").MarshalJSON() }
func (d StripDecoder) MarshalJSON() ([]byte, error) {
	return typeOnly("Strip").add("content", string(d.Content)).add("start", d.Start).add("stop", d.Stop).MarshalJSON()
}
func (q DecoderSequence) MarshalJSON() ([]byte, error) {
	d := q.Decoders
	if d == nil {
		d = []Decoder{}
	}
	return typeOnly("Sequence").add("decoders", d).MarshalJSON()
}
