package jinja

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Error is a template error at a position of the template source.
type Error struct {
	Line, Col int // 1-based; Col counts characters
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg) }

// source is the template after pre-processing, with the offset in the
// original text of each byte (for error positions).
type source struct {
	orig string
	text string
	pos  []int // pos[i] = offset in orig of text[i]; len(text)+1 entries
}

// errAt makes an Error at offset off of the pre-processed text.
func (s *source) errAt(off int, format string, args ...any) *Error {
	if off < 0 {
		off = 0
	}
	o := len(s.orig)
	if off < len(s.pos) {
		o = s.pos[off]
	}
	line, col := 1, 1
	for _, r := range s.orig[:o] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &Error{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// builder accumulates pre-processed text with the original offsets.
type builder struct {
	text []byte
	pos  []int
}

func (b *builder) add(s string, off int) {
	for i := 0; i < len(s); i++ {
		b.text = append(b.text, s[i])
		b.pos = append(b.pos, off+i)
	}
}

// stage applies one rewriting pass to s, keeping positions.
func stage(s *source, keep func(text string, emit func(from, to int))) *source {
	var b builder
	keep(s.text, func(from, to int) {
		for i := from; i < to; i++ {
			b.text = append(b.text, s.text[i])
			b.pos = append(b.pos, s.pos[i])
		}
	})
	b.pos = append(b.pos, s.pos[len(s.text)])
	return &source{orig: s.orig, text: string(b.text), pos: b.pos}
}

// isJSSpace is JavaScript's \s (and the set String.prototype.trim removes).
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

func isLineTerminator(r rune) bool { return r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029 }

// preprocess is @huggingface/jinja's preprocess with trim_blocks and
// lstrip_blocks (as transformers renders chat templates).
func preprocess(tpl string) *source {
	s := &source{orig: tpl, text: tpl, pos: make([]int, len(tpl)+1)}
	for i := range s.pos {
		s.pos[i] = i
	}
	// A single trailing newline is dropped.
	if strings.HasSuffix(s.text, "\n") {
		s = stage(s, func(t string, emit func(int, int)) { emit(0, len(t)-1) })
	}
	// lstrip_blocks: /^[ \t]*({[#%-])/gm → "$1".
	s = stage(s, func(t string, emit func(int, int)) {
		start := 0
		for i := 0; i <= len(t); {
			lineStart := i == 0
			if i > 0 {
				r, _ := utf8.DecodeLastRuneInString(t[:i])
				lineStart = isLineTerminator(r)
			}
			if lineStart {
				j := i
				for j < len(t) && (t[j] == ' ' || t[j] == '\t') {
					j++
				}
				if j > i && j+1 < len(t) && t[j] == '{' && strings.IndexByte("#%-", t[j+1]) >= 0 {
					emit(start, i)
					start = j
					i = j
					continue
				}
			}
			if i == len(t) {
				break
			}
			_, w := utf8.DecodeRuneInString(t[i:])
			i += w
		}
		emit(start, len(t))
	})
	// trim_blocks: /([#%-]})\n/g → "$1".
	s = stage(s, func(t string, emit func(int, int)) {
		start := 0
		for i := 0; i+2 < len(t); i++ {
			if strings.IndexByte("#%-", t[i]) >= 0 && t[i+1] == '}' && t[i+2] == '\n' {
				emit(start, i+2)
				start = i + 3
				i += 2
			}
		}
		emit(start, len(t))
	})
	// transformers' {% generation %} / {% endgeneration %} tags are removed:
	// /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/gs → before unless
	// "{%-", after unless "-%}".
	s = stage(s, func(t string, emit func(int, int)) {
		last := 0
		for q := 0; q < len(t); q++ {
			if !strings.HasPrefix(t[q:], "{%") {
				continue
			}
			end, lstrip, rstrip, ok := generationTag(t, q)
			if !ok {
				continue
			}
			p := q
			for p > last {
				r, w := utf8.DecodeLastRuneInString(t[:p])
				if !isJSSpace(r) {
					break
				}
				p -= w
			}
			after := end
			for after < len(t) {
				r, w := utf8.DecodeRuneInString(t[after:])
				if !isJSSpace(r) {
					break
				}
				after += w
			}
			emit(last, p)
			if !lstrip {
				emit(p, q)
			}
			if !rstrip {
				emit(end, after)
			}
			last = after
			q = after - 1
		}
		emit(last, len(t))
	})
	return s
}

// generationTag matches {%-? \s* (end)?generation \s* -?%} at q.
func generationTag(t string, q int) (end int, lstrip, rstrip, ok bool) {
	i := q + 2
	if i < len(t) && t[i] == '-' {
		lstrip = true
		i++
	}
	i = skipJSSpace(t, i)
	if strings.HasPrefix(t[i:], "end") && strings.HasPrefix(t[i+3:], "generation") {
		i += 3
	}
	if !strings.HasPrefix(t[i:], "generation") {
		return 0, false, false, false
	}
	i = skipJSSpace(t, i+len("generation"))
	if i < len(t) && t[i] == '-' {
		rstrip = true
		i++
	}
	if !strings.HasPrefix(t[i:], "%}") {
		return 0, false, false, false
	}
	return i + 2, lstrip, rstrip, true
}

func skipJSSpace(t string, i int) int {
	for i < len(t) {
		r, w := utf8.DecodeRuneInString(t[i:])
		if !isJSSpace(r) {
			break
		}
		i += w
	}
	return i
}

type tokKind int

const (
	tText tokKind = iota
	tNumber
	tString
	tIdent
	tEquals
	tOpenParen
	tCloseParen
	tOpenStmt
	tCloseStmt
	tOpenExpr
	tCloseExpr
	tOpenBracket
	tCloseBracket
	tOpenCurly
	tCloseCurly
	tComma
	tDot
	tColon
	tPipe
	tAdditive
	tMultiplicative
	tPower
	tComparison
	tUnary
	tComment
)

var kindNames = [...]string{"text", "number", "string", "identifier", "'='", "'('", "')'", "'{%'", "'%}'", "'{{'",
	"'}}'", "'['", "']'", "'{'", "'}'", "','", "'.'", "':'", "'|'", "operator", "operator", "'**'", "comparison",
	"unary operator", "comment"}

func (k tokKind) String() string { return kindNames[k] }

type token struct {
	kind tokKind
	val  string
	pos  int // offset in the pre-processed text
}

var mapping = []struct {
	seq  string
	kind tokKind
}{
	{"{%", tOpenStmt}, {"%}", tCloseStmt}, {"{{", tOpenExpr}, {"}}", tCloseExpr},
	{"(", tOpenParen}, {")", tCloseParen}, {"{", tOpenCurly}, {"}", tCloseCurly},
	{"[", tOpenBracket}, {"]", tCloseBracket}, {",", tComma}, {".", tDot}, {":", tColon}, {"|", tPipe},
	{"<=", tComparison}, {">=", tComparison}, {"==", tComparison}, {"!=", tComparison}, {"<", tComparison}, {">", tComparison},
	{"+", tAdditive}, {"-", tAdditive}, {"~", tAdditive},
	{"**", tPower}, {"*", tMultiplicative}, {"//", tMultiplicative}, {"/", tMultiplicative}, {"%", tMultiplicative},
	{"=", tEquals},
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

var escapes = map[byte]string{'n': "\n", 't': "\t", 'r': "\r", 'b': "\b", 'f': "\f", 'v': "\v", '\'': "'", '"': "\"", '\\': "\\"}

// tokenize is @huggingface/jinja's tokenize on the pre-processed source.
func tokenize(s *source) ([]token, error) {
	src := s.text
	var toks []token
	pos := 0
	curly := 0
	last := func() (tokKind, bool) {
		if len(toks) == 0 {
			return 0, false
		}
		return toks[len(toks)-1].kind, true
	}
	// consumeWhile consumes characters satisfying pred, handling escapes
	// (for string literals); reaching the end of input is an error.
	consumeWhile := func(pred func(r rune, w int) bool) (string, error) {
		var b strings.Builder
		var units []uint16 // pending \u escapes (UTF-16 units)
		flush := func() {
			if units != nil {
				b.WriteString(string(utf16.Decode(units)))
				units = nil
			}
		}
		for {
			if pos >= len(src) {
				return "", s.errAt(pos, "unexpected end of input")
			}
			r, w := utf8.DecodeRuneInString(src[pos:])
			if !pred(r, w) {
				break
			}
			if src[pos] == '\\' {
				start := pos
				pos++
				if pos >= len(src) {
					return "", s.errAt(start, "unexpected end of input")
				}
				e := src[pos]
				pos++
				if e == 'x' || e == 'u' {
					n := 2
					if e == 'u' {
						n = 4
					}
					if pos+n > len(src) {
						return "", s.errAt(start, "invalid hexadecimal escape sequence \\%c%s", e, src[pos:])
					}
					v, err := strconv.ParseUint(src[pos:pos+n], 16, 16)
					if err != nil || strings.ContainsAny(src[pos:pos+n], "+-_") {
						return "", s.errAt(start, "invalid hexadecimal escape sequence \\%c%s", e, src[pos:pos+n])
					}
					units = append(units, uint16(v))
					pos += n
					continue
				}
				u, ok := escapes[e]
				if !ok {
					return "", s.errAt(start, "unexpected escaped character %q", rune(e))
				}
				flush()
				b.WriteString(u)
				continue
			}
			flush()
			b.WriteString(src[pos : pos+w])
			pos += w
			if pos >= len(src) {
				return "", s.errAt(pos, "unexpected end of input")
			}
		}
		flush()
		return b.String(), nil
	}
	stripTrailing := func() {
		if k, ok := last(); ok && k == tText {
			t := &toks[len(toks)-1]
			t.val = strings.TrimRightFunc(t.val, isJSSpace)
			if t.val == "" {
				toks = toks[:len(toks)-1]
			}
		}
	}
	skipLeading := func() { pos = skipJSSpace(src, pos) }

main:
	for pos < len(src) {
		if k, ok := last(); !ok || k == tCloseStmt || k == tCloseExpr || k == tComment {
			start := pos
			for pos < len(src) && !(src[pos] == '{' && pos+1 < len(src) && (src[pos+1] == '%' || src[pos+1] == '{' || src[pos+1] == '#')) {
				pos++
			}
			if pos > start {
				toks = append(toks, token{tText, src[start:pos], start})
				continue
			}
		}
		if strings.HasPrefix(src[pos:], "{#") {
			start := pos
			pos += 2
			stripBefore := pos < len(src) && src[pos] == '-'
			if stripBefore {
				pos++
			}
			cstart := pos
			for !(pos+1 < len(src) && src[pos] == '#' && src[pos+1] == '}') {
				if pos+2 >= len(src) {
					return nil, s.errAt(start, "missing end of comment tag #}")
				}
				pos++
			}
			comment := src[cstart:pos]
			stripAfter := strings.HasSuffix(comment, "-")
			if stripAfter {
				comment = comment[:len(comment)-1]
			}
			if stripBefore {
				stripTrailing()
			}
			toks = append(toks, token{tComment, comment, start})
			pos += 2
			if stripAfter {
				skipLeading()
			}
			continue
		}
		if strings.HasPrefix(src[pos:], "{%-") {
			stripTrailing()
			toks = append(toks, token{tOpenStmt, "{%", pos})
			pos += 3
			continue
		}
		if strings.HasPrefix(src[pos:], "{{-") {
			stripTrailing()
			toks = append(toks, token{tOpenExpr, "{{", pos})
			curly = 0
			pos += 3
			continue
		}
		if _, err := consumeWhile(func(r rune, _ int) bool { return isJSSpace(r) }); err != nil {
			return nil, err
		}
		if strings.HasPrefix(src[pos:], "-%}") {
			toks = append(toks, token{tCloseStmt, "%}", pos})
			pos += 3
			skipLeading()
			continue
		}
		if strings.HasPrefix(src[pos:], "-}}") {
			toks = append(toks, token{tCloseExpr, "}}", pos})
			pos += 3
			skipLeading()
			continue
		}
		c := src[pos]
		if c == '-' || c == '+' {
			k, ok := last()
			if !ok || k == tText {
				return nil, s.errAt(pos, "unexpected character %q", rune(c))
			}
			switch k {
			case tIdent, tNumber, tString, tCloseParen, tCloseBracket: // binary
			default:
				start := pos
				pos++
				num, err := consumeWhile(func(r rune, _ int) bool { return r < utf8.RuneSelf && isDigit(byte(r)) })
				if err != nil {
					return nil, err
				}
				if num != "" && pos+1 < len(src) && src[pos] == '.' && isDigit(src[pos+1]) {
					pos++
					frac, err := consumeWhile(func(r rune, _ int) bool { return r < utf8.RuneSelf && isDigit(byte(r)) })
					if err != nil {
						return nil, err
					}
					num += "." + frac
				}
				if num != "" {
					toks = append(toks, token{tNumber, string(c) + num, start})
				} else {
					toks = append(toks, token{tUnary, string(c), start})
				}
				continue
			}
		}
		for _, m := range mapping {
			if m.seq == "}}" && curly > 0 {
				continue
			}
			if strings.HasPrefix(src[pos:], m.seq) {
				toks = append(toks, token{m.kind, m.seq, pos})
				switch m.kind {
				case tOpenExpr:
					curly = 0
				case tOpenCurly:
					curly++
				case tCloseCurly:
					curly--
				}
				pos += len(m.seq)
				continue main
			}
		}
		if c == '\'' || c == '"' {
			start := pos
			pos++
			str, err := consumeWhile(func(r rune, _ int) bool { return r != rune(c) })
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, str, start})
			pos++
			continue
		}
		if isDigit(c) {
			start := pos
			num, err := consumeWhile(func(r rune, _ int) bool { return r < utf8.RuneSelf && isDigit(byte(r)) })
			if err != nil {
				return nil, err
			}
			if k, ok := last(); !(ok && k == tDot) && pos+1 < len(src) && src[pos] == '.' && isDigit(src[pos+1]) {
				pos++
				frac, err := consumeWhile(func(r rune, _ int) bool { return r < utf8.RuneSelf && isDigit(byte(r)) })
				if err != nil {
					return nil, err
				}
				num += "." + frac
			}
			toks = append(toks, token{tNumber, num, start})
			continue
		}
		if isWordByte(c) {
			start := pos
			word, err := consumeWhile(func(r rune, _ int) bool { return r < utf8.RuneSelf && isWordByte(byte(r)) })
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tIdent, word, start})
			continue
		}
		r, _ := utf8.DecodeRuneInString(src[pos:])
		return nil, s.errAt(pos, "unexpected character %q", r)
	}
	return toks, nil
}
