package tokenizer

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The pre-tokenizer regexes of the common byte-level BPE tokenizers, exactly
// as they appear in tokenizer.json files. They use a look-ahead (\s+(?!\S)),
// which Go's regexp lacks, so they are implemented by hand-written scanners
// (gpt2Next, llama3Next) that follow backtracking-regex semantics exactly.
const (
	// PatternGPT2 is GPT-2's pre-tokenizer (also RoBERTa's, and what a
	// ByteLevel pre-tokenizer with use_regex uses).
	PatternGPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	// PatternLlama3 is Llama-3's (tiktoken cl100k_base's) pre-tokenizer.
	PatternLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// PatternQwen2 is Qwen2's: Llama-3's with single digits.
	PatternQwen2 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// ErrUnsupportedRegex is wrapped by the error returned for a tokenizer.json
// regex that neither matches a built-in scanner nor compiles with Go's regexp
// (typically because it uses look-around).
var ErrUnsupportedRegex = errors.New("unsupported pre-tokenizer regex")

// Character classes of the pre-tokenizer patterns: \p{L}, \p{N} (Unicode
// 16.0, as Hugging Face: Go's tables plus letters16 and numbers16), \s
// (Unicode White_Space, which is what unicode.IsSpace tests) and everything
// else. An invalid UTF-8 byte is one "other" character of width 1.
const (
	clsOther uint8 = iota
	clsLetter
	clsNumber
	clsSpace
)

var asciiClass [128]uint8

func init() {
	for c := 0; c < 128; c++ {
		r := rune(c)
		switch {
		case unicode.IsLetter(r):
			asciiClass[c] = clsLetter
		case unicode.IsNumber(r):
			asciiClass[c] = clsNumber
		case unicode.IsSpace(r):
			asciiClass[c] = clsSpace
		default:
			asciiClass[c] = clsOther
		}
	}
}

// classAt returns the class and byte width of the character at s[i].
func classAt(s string, i int) (uint8, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && w == 1 {
		return clsOther, 1
	}
	return runeClass(r), w
}

func runeClass(r rune) uint8 {
	switch {
	case unicode.IsLetter(r):
		return clsLetter
	case unicode.IsNumber(r):
		return clsNumber
	case unicode.IsSpace(r):
		return clsSpace
	case r < 0x1C89: // below the first of the Unicode 16.0 additions
		return clsOther
	case unicode.Is(letters16, r):
		return clsLetter
	case unicode.Is(numbers16, r):
		return clsNumber
	}
	return clsOther
}

// runOf returns the end of the run of characters of class cls starting at j.
func runOf(s string, j int, cls uint8) int {
	for j < len(s) {
		c := s[j]
		if c < utf8.RuneSelf {
			if asciiClass[c] != cls {
				return j
			}
			j++
			continue
		}
		k, w := classAt(s, j)
		if k != cls {
			return j
		}
		j += w
	}
	return j
}

// spaceTail handles the \s+(?!\S)|\s+ alternatives at i (s[i] is
// whitespace): the whole whitespace run if it reaches the end of s, else the
// run minus its last character (which then prefixes the next chunk) unless the
// run is a single character.
func spaceTail(s string, i, w int) int {
	j, last := i+w, i
	for j < len(s) {
		k, w := classAt(s, j)
		if k != clsSpace {
			break
		}
		last = j
		j += w
	}
	if j == len(s) || last == i {
		return j
	}
	return last
}

// gpt2Next returns the end of the PatternGPT2 match that starts at i < len(s).
// The pattern's alternatives cover every character class, so matches tile s.
func gpt2Next(s string, i int) int {
	c := s[i]
	if c == '\'' && i+1 < len(s) {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < len(s) && s[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < len(s) && s[i+2] == 'l' {
				return i + 3
			}
		}
	}
	if c == ' ' && i+1 < len(s) {
		// " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+" with the space.
		if k, w := classAt(s, i+1); k != clsSpace {
			return runOf(s, i+1+w, k)
		}
	}
	k, w := classAt(s, i)
	if k != clsSpace {
		return runOf(s, i+w, k)
	}
	return spaceTail(s, i, w)
}

// isNL reports \r or \n.
func isNL(c byte) bool { return c == '\r' || c == '\n' }

// llama3Next returns the end of the PatternLlama3 (maxDigits 3) or
// PatternQwen2 (maxDigits 1) match that starts at i < len(s).
func llama3Next(s string, i int, maxDigits int) int {
	c := s[i]
	if c == '\'' && i+1 < len(s) {
		// (?i:'s|'t|'re|'ve|'m|'ll|'d); under Unicode case folding 's' also
		// matches U+017F (long s).
		// Only 'x' and 'X' have 'x' as their byte|0x20 among these letters.
		switch s[i+1] | 0x20 {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < len(s) && s[i+2]|0x20 == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < len(s) && s[i+2]|0x20 == 'l' {
				return i + 3
			}
		}
		if strings.HasPrefix(s[i+1:], "\u017f") {
			return i + 3
		}
	}
	k, w := classAt(s, i)
	if k == clsLetter {
		return runOf(s, i+w, clsLetter)
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if k != clsNumber && !isNL(c) && i+w < len(s) {
		if k2, w2 := classAt(s, i+w); k2 == clsLetter {
			return runOf(s, i+w+w2, clsLetter)
		}
	}
	if k == clsNumber {
		j := i + w
		for n := 1; n < maxDigits && j < len(s); n++ {
			k, w := classAt(s, j)
			if k != clsNumber {
				break
			}
			j += w
		}
		return j
	}
	// " ?[^\s\p{L}\p{N}]+[\r\n]*"
	if c == ' ' && i+1 < len(s) {
		if k2, w2 := classAt(s, i+1); k2 == clsOther {
			return runNL(s, runOf(s, i+1+w2, clsOther))
		}
	}
	if k == clsOther {
		return runNL(s, runOf(s, i+w, clsOther))
	}
	// \s*[\r\n]+ : through the last \r or \n of the whitespace run.
	lastNL := -1
	j := i
	for j < len(s) {
		k, w := classAt(s, j)
		if k != clsSpace {
			break
		}
		if isNL(s[j]) {
			lastNL = j
		}
		j += w
	}
	if lastNL >= 0 {
		return lastNL + 1
	}
	return spaceTail(s, i, w)
}

func runNL(s string, j int) int {
	for j < len(s) && isNL(s[j]) {
		j++
	}
	return j
}

// span is a [start, end) byte range.
type span struct{ start, end int }

// matcher finds the non-overlapping matches of a split pattern.
type matcher interface {
	// matches appends the matches in s to dst, in order.
	matches(s string, dst []span) []span
}

// scanKind selects a hand-written scanner.
type scanKind uint8

const (
	scanGPT2 scanKind = iota + 1
	scanLlama3
	scanQwen2
)

// next returns the end of the match starting at i < len(s).
func (k scanKind) next(s string, i int) int {
	switch k {
	case scanGPT2:
		return gpt2Next(s, i)
	case scanLlama3:
		return llama3Next(s, i, 3)
	default:
		return llama3Next(s, i, 1)
	}
}

func (k scanKind) matches(s string, dst []span) []span {
	for i := 0; i < len(s); {
		j := k.next(s, i)
		dst = append(dst, span{i, j})
		i = j
	}
	return dst
}

// PreTokenize splits text with one of the built-in patterns (PatternGPT2,
// PatternLlama3, PatternQwen2) or, for any other pattern, Go's regexp after
// the translation described at compilePattern. It returns the chunks.
func PreTokenize(pattern, text string) ([]string, error) {
	m, err := compilePattern(pattern)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sp := range m.matches(text, nil) {
		out = append(out, text[sp.start:sp.end])
	}
	return out, nil
}

type literalMatcher string

func (l literalMatcher) matches(s string, dst []span) []span {
	if l == "" {
		return dst
	}
	for off := 0; ; {
		i := strings.Index(s[off:], string(l))
		if i < 0 {
			return dst
		}
		dst = append(dst, span{off + i, off + i + len(l)})
		off += i + len(l)
	}
}

type regexpMatcher struct{ re *regexp.Regexp }

func (r regexpMatcher) matches(s string, dst []span) []span {
	for _, m := range r.re.FindAllStringIndex(s, -1) {
		dst = append(dst, span{m[0], m[1]})
	}
	return dst
}

// compilePattern returns the matcher of a tokenizer.json regex: a built-in
// scanner for the known patterns, else Go's regexp after translating the
// Oniguruma (Hugging Face) class escapes to their Unicode meaning (\s: White_Space,
// \d: \p{Nd}, \w: letters, marks, numbers, connector punctuation; ^ and $ match
// at line boundaries). Look-around, atomic groups and nested classes are
// rejected with ErrUnsupportedRegex.
func compilePattern(p string) (matcher, error) {
	switch p {
	case PatternGPT2:
		return scanGPT2, nil
	case PatternLlama3:
		return scanLlama3, nil
	case PatternQwen2:
		return scanQwen2, nil
	}
	g, err := translateRegex(p)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(g)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrUnsupportedRegex, p, err)
	}
	return regexpMatcher{re}, nil
}

var (
	goSpaceClass = `\t-\r\x{85}\p{Z}`
	// \w as Hugging Face's Oniguruma has it (checked on every code point):
	// Alphabetic, marks, decimal digits and connector punctuation (not the
	// joiners U+200C/U+200D, nor other numbers such as ²), with the Unicode
	// 16.0 additions.
	goWordClass = `\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}` + class16(unicode.Other_Alphabetic) +
		class16(letters16) + class16(numbers16) + class16(marks16)
	// \d: decimal digits (the Unicode 16.0 numbers are all decimal digits).
	goDigitClass = `\p{Nd}` + class16(numbers16)
)

// class16 writes a range table as the inside of a Go regexp class.
func class16(t *unicode.RangeTable) string {
	var b strings.Builder
	add := func(lo, hi, stride uint32) {
		if stride == 1 {
			fmt.Fprintf(&b, `\x{%X}-\x{%X}`, lo, hi)
			return
		}
		for c := lo; c <= hi; c += stride {
			fmt.Fprintf(&b, `\x{%X}`, c)
		}
	}
	for _, r := range t.R16 {
		add(uint32(r.Lo), uint32(r.Hi), uint32(r.Stride))
	}
	for _, r := range t.R32 {
		add(r.Lo, r.Hi, r.Stride)
	}
	return b.String()
}

// translateRegex rewrites an Oniguruma regex into Go syntax (see compilePattern).
func translateRegex(p string) (string, error) {
	var b strings.Builder
	inClass := false
	unsupported := func(what string) error {
		return fmt.Errorf("%w %q: %s is not supported by Go's regexp (only the GPT-2, Llama-3 and Qwen2 patterns have built-in scanners)", ErrUnsupportedRegex, p, what)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return "", unsupported("a trailing backslash")
			}
			i++
			e := p[i]
			switch e {
			case 's':
				if inClass {
					b.WriteString(goSpaceClass)
				} else {
					b.WriteString("[" + goSpaceClass + "]")
				}
			case 'S':
				if inClass {
					return "", unsupported(`\S inside a character class`)
				}
				b.WriteString("[^" + goSpaceClass + "]")
			case 'd':
				if inClass {
					b.WriteString(goDigitClass)
				} else {
					b.WriteString("[" + goDigitClass + "]")
				}
			case 'D':
				if inClass {
					return "", unsupported(`\D inside a character class`)
				}
				b.WriteString("[^" + goDigitClass + "]")
			case 'p', 'P':
				// \p{L}, \p{N} and \p{M} with the Unicode 16.0 additions
				// (as Hugging Face); other properties as Go has them.
				var extra string
				for _, c := range []struct {
					name string
					add  *unicode.RangeTable
				}{{"L", letters16}, {"N", numbers16}, {"M", marks16}} {
					if strings.HasPrefix(p[i+1:], "{"+c.name+"}") {
						extra = `\p{` + c.name + `}` + class16(c.add)
					}
				}
				switch {
				case extra == "" || e == 'P' && inClass:
					b.WriteByte('\\')
					b.WriteByte(e)
					continue
				case inClass:
					b.WriteString(extra)
				case e == 'p':
					b.WriteString("[" + extra + "]")
				default:
					b.WriteString("[^" + extra + "]")
				}
				i += 3
			case 'w':
				if inClass {
					b.WriteString(goWordClass)
				} else {
					b.WriteString("[" + goWordClass + "]")
				}
			case 'W':
				if inClass {
					return "", unsupported(`\W inside a character class`)
				}
				b.WriteString("[^" + goWordClass + "]")
			case 'Z', 'G', 'K', 'R', 'X', 'h', 'H', 'g', 'k':
				return "", unsupported(`the escape \` + string(e))
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		case inClass:
			if c == '[' {
				if strings.HasPrefix(p[i:], "[:") {
					b.WriteByte(c)
					continue
				}
				return "", unsupported("a nested character class")
			}
			if c == '&' && i+1 < len(p) && p[i+1] == '&' {
				return "", unsupported("class intersection &&")
			}
			if c == ']' {
				// A ']' right after '[' or '[^' is a literal in both syntaxes.
				prev := b.String()
				if !strings.HasSuffix(prev, "[") && !strings.HasSuffix(prev, "[^") {
					inClass = false
				}
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
		case c == '(' && strings.HasPrefix(p[i:], "(?="), c == '(' && strings.HasPrefix(p[i:], "(?!"),
			c == '(' && strings.HasPrefix(p[i:], "(?<="), c == '(' && strings.HasPrefix(p[i:], "(?<!"):
			return "", unsupported("look-around")
		case c == '(' && strings.HasPrefix(p[i:], "(?>"):
			return "", unsupported("an atomic group")
		case c == '^':
			b.WriteString("(?m:^)")
		case c == '$':
			b.WriteString("(?m:$)")
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// Split delimiter behaviours of the Hugging Face Split pre-tokenizer.
const (
	behaviorRemoved            = "Removed"
	behaviorIsolated           = "Isolated"
	behaviorMergedWithPrevious = "MergedWithPrevious"
	behaviorMergedWithNext     = "MergedWithNext"
	behaviorContiguous         = "Contiguous"
)

func validBehavior(b string) bool {
	switch b {
	case behaviorRemoved, behaviorIsolated, behaviorMergedWithPrevious, behaviorMergedWithNext, behaviorContiguous:
		return true
	}
	return false
}

// splitBy applies a split behaviour to s given the pattern's matches,
// appending the resulting non-empty pieces to dst (as Hugging Face's
// NormalizedString::split does).
func splitBy(s string, ms []span, behavior string, invert bool, dst []span) []span {
	if s == "" {
		return dst
	}
	type piece struct {
		sp    span
		match bool
	}
	pieces := make([]piece, 0, 2*len(ms)+1)
	prev := 0
	for _, m := range ms {
		if prev != m.start {
			pieces = append(pieces, piece{span{prev, m.start}, invert})
		}
		pieces = append(pieces, piece{m, !invert})
		prev = m.end
	}
	if prev != len(s) {
		pieces = append(pieces, piece{span{prev, len(s)}, invert})
	}
	var out []piece
	switch behavior {
	case behaviorIsolated:
		out = pieces
	case behaviorRemoved:
		for _, p := range pieces {
			if !p.match {
				out = append(out, p)
			}
		}
	case behaviorContiguous:
		prevMatch := false
		for _, p := range pieces {
			if p.match == prevMatch && len(out) > 0 {
				out[len(out)-1].sp.end = p.sp.end
			} else {
				out = append(out, p)
			}
			prevMatch = p.match
		}
	case behaviorMergedWithPrevious:
		prevMatch := false
		for _, p := range pieces {
			if p.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].sp.end = p.sp.end
			} else {
				out = append(out, p)
			}
			prevMatch = p.match
		}
	case behaviorMergedWithNext:
		prevMatch := false
		for i := len(pieces) - 1; i >= 0; i-- {
			p := pieces[i]
			if p.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].sp.start = p.sp.start
			} else {
				out = append(out, p)
			}
			prevMatch = p.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	for _, p := range out {
		if p.sp.end > p.sp.start {
			dst = append(dst, p.sp)
		}
	}
	return dst
}
