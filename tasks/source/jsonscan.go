package source

import (
	"encoding/binary"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/fields"
)

// A validating scanner for one JSON object per line, for the adapters'
// fast paths: it walks the members of the top-level object and hands each
// key and raw value to the caller, checking the whole line against the JSON
// grammar (as encoding/json's checkValid does) without decoding the values
// nobody asked for. Anything it is not sure to read exactly as
// encoding/json would - a syntax error, an escaped key, nesting deeper than
// encoding/json allows - makes it give up, and the adapter decodes the line
// with encoding/json instead, which then also produces the error message.

// jsonMaxDepth is encoding/json's nesting limit.
const jsonMaxDepth = 10000

type jsonScan struct {
	b     []byte
	i     int
	depth int
}

// jsonSpace marks the four white-space bytes of the JSON grammar.
var jsonSpace = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

func (s *jsonScan) ws() {
	for s.i < len(s.b) && jsonSpace[s.b[s.i]] {
		s.i++
	}
}

// eachMember calls fn with every key (its bytes between the quotes, which
// hold no escape) and raw value of the object that makes up the line, in
// order. It reports false when the line is not exactly one such object or
// fn returns false.
func (s *jsonScan) eachMember(fn func(key, raw []byte) bool) bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	s.i++
	s.depth = 1
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
	} else {
		for {
			s.ws()
			ks := s.i
			esc, ok := s.str()
			if !ok || esc {
				return false
			}
			key := s.b[ks+1 : s.i-1]
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return false
			}
			s.i++
			s.ws()
			vs := s.i
			if !s.value() || !fn(key, s.b[vs:s.i]) {
				return false
			}
			s.ws()
			if s.i >= len(s.b) {
				return false
			}
			c := s.b[s.i]
			s.i++
			if c == '}' {
				break
			}
			if c != ',' {
				return false
			}
		}
	}
	s.ws()
	return s.i == len(s.b)
}

// value skips one value, checking it.
func (s *jsonScan) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return false
}

func (s *jsonScan) lit(w string) bool {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return false
	}
	s.i += len(w)
	return true
}

// number skips -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScan) number() bool {
	b, i := s.b, s.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	s.i = i
	return true
}

// str skips a string (s.b[s.i] is its opening quote); esc reports a
// backslash in it. Control bytes are invalid; other bytes, valid UTF-8 or
// not, are accepted, as encoding/json accepts them.
func (s *jsonScan) str() (esc, ok bool) {
	b, i := s.b, s.i
	if i >= len(b) || b[i] != '"' {
		return false, false
	}
	i++
	for i < len(b) {
		// Skip eight bytes at a time while none is a quote, a backslash
		// or a control byte (a byte with bit 7 set is none of them).
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			y := x & fields.Low7
			m := (fields.Equal(y, '"') | fields.Equal(y, '\\') | ^fields.Above(y, 0x1f)&fields.High) &^ x
			if m != 0 {
				i += fields.FirstByte(m)
				break
			}
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return esc, true
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return esc, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return esc, false
				}
				i += 6
			default:
				return esc, false
			}
		case c < 0x20:
			return esc, false
		default:
			i++
		}
	}
	return esc, false
}

func (s *jsonScan) object() bool {
	if s.depth++; s.depth > jsonMaxDepth {
		return false
	}
	s.i++ // '{'
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		s.ws()
		if _, ok := s.str(); !ok {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		if !s.value() {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		c := s.b[s.i]
		s.i++
		if c == '}' {
			s.depth--
			return true
		}
		if c != ',' {
			return false
		}
	}
}

func (s *jsonScan) array() bool {
	if s.depth++; s.depth > jsonMaxDepth {
		return false
	}
	s.i++ // '['
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		s.ws()
		if !s.value() {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		c := s.b[s.i]
		s.i++
		if c == ']' {
			s.depth--
			return true
		}
		if c != ',' {
			return false
		}
	}
}

// eachElement calls fn with the raw elements of raw, a checked JSON array.
func eachElement(raw []byte, fn func(elem []byte) bool) bool {
	s := jsonScan{b: raw, i: 1}
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		return true
	}
	for {
		s.ws()
		start := s.i
		if !s.value() || !fn(raw[start:s.i]) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		c := s.b[s.i]
		s.i++
		if c == ']' {
			return true
		}
		if c != ',' {
			return false
		}
	}
}

// unquoteJSON is encoding/json's unquote of a string literal b (with its
// quotes): escapes decoded, a lone or broken surrogate and every invalid
// UTF-8 byte turned into U+FFFD. ok is false where encoding/json's is. It
// saves jv the round trip through json.Unmarshal for every string with an
// escape in it (most review texts have a \" or a \u).
func unquoteJSON(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	s := b[1 : len(b)-1]
	out := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for r := 0; r < len(s); {
		switch c := s[r]; {
		case c == '\\':
			r++
			if r >= len(s) {
				return "", false
			}
			switch s[r] {
			case '"', '\\', '/', '\'':
				out = append(out, s[r])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				rr := getu4(s[r-1:])
				if rr < 0 {
					return "", false
				}
				r += 5
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != unicode.ReplacementChar {
						r += 6
						out = utf8.AppendRune(out, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				out = utf8.AppendRune(out, rr)
				continue
			default:
				return "", false
			}
			r++
		case c == '"', c < ' ':
			return "", false
		case c < utf8.RuneSelf:
			// A run of plain ASCII at once.
			e := r + 1
			for e < len(s) && s[e] >= ' ' && s[e] < utf8.RuneSelf && s[e] != '\\' && s[e] != '"' {
				e++
			}
			out = append(out, s[r:e]...)
			r = e
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			out = utf8.AppendRune(out, rr)
		}
	}
	return string(out), true
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
