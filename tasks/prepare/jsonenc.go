package prepare

import (
	"math/bits"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/fields"

	"github.com/humanllm/humanllm/tasks"
)

// appendSampleJSON appends json.Marshal(s) to dst, byte for byte, without
// reflection: the samples are most of the output, and encoding/json spent
// more time finding its way through the struct than writing it.
// TestSampleJSONMatchesMarshal and FuzzSampleJSON hold it to
// encoding/json.
func appendSampleJSON(dst []byte, s *tasks.Sample) []byte {
	dst, _, _ = appendSample(dst, s, nil, nil)
	return dst
}

// pieceJSON is what the encoder keeps of the text of a piece (see
// tasks.Piece): its JSON escaping and its words (appendJSONBodyWords).
type pieceJSON struct {
	esc   []byte
	words int
}

// appendSample is appendSampleJSON that also counts the words (see
// appendJSONBodyWords) of the prompt (every message but the last) and of
// the target (the last message), reusing for the pieces of s's messages the escaping and count
// kept in pc (with pc nil, pieces are not used). A usable piece lies
// between two '\n': escaping goes rune by rune and a '\n' separates words,
// so the message's escaping and count are those of its pieces and of the
// text between them, joined or added (TestSampleJSONPieces).
func appendSample(dst []byte, s *tasks.Sample, pieces []tasks.Piece, pc *tasks.PieceCache[pieceJSON]) (_ []byte, promptWords, targetWords int) {
	dst = append(dst, `{"messages":`...)
	if s.Messages == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for mi, m := range s.Messages {
			if mi > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"role":`...)
			dst = appendJSONString(dst, m.Role)
			dst = append(dst, `,"content":"`...)
			c := m.Content
			pos, words := 0, 0
			for ; pc != nil && len(pieces) > 0 && pieces[0].Msg <= mi; pieces = pieces[1:] {
				p := pieces[0]
				if p.Msg < mi || p.Off < pos || !p.Usable(c) {
					continue
				}
				text := c[p.Off:p.End]
				e, fresh := pc.Get(p.Key, text)
				if fresh {
					e.esc, e.words = appendJSONBodyWords(e.esc[:0], text)
				}
				var n int
				dst, n = appendJSONBodyWords(dst, c[pos:p.Off])
				dst = append(dst, e.esc...)
				words += n + e.words
				pos = p.End
			}
			var n int
			dst, n = appendJSONBodyWords(dst, c[pos:])
			words += n
			dst = append(dst, '"', '}')
			if mi < len(s.Messages)-1 {
				promptWords += words
			} else {
				targetWords = words
			}
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"task":`...)
	dst = appendJSONString(dst, s.Task)
	dst = append(dst, `,"source":`...)
	dst = appendJSONString(dst, s.Source)
	dst = append(dst, `,"user":`...)
	dst = appendJSONString(dst, s.User)
	return append(dst, '}'), promptWords, targetWords
}

// jsonSafe is encoding/json's htmlSafeSet: the ASCII bytes written as they
// are (json.Marshal escapes HTML's <, > and &).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		switch c {
		case '"', '\\', '<', '>', '&':
		default:
			t[c] = true
		}
	}
	return
}()

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's appendString with escapeHTML set:
// short escapes for \\ " \b \f \n \r \t, \u00XX for other control bytes and
// <, >, &, \ufffd for invalid UTF-8, \u2028 and \u2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendJSONBody(dst, s)
	return append(dst, '"')
}

// jsonUnsafe8 marks (bit 7 of each byte) the bytes of x, eight ASCII
// bytes, that json.Marshal does not write as they are: control bytes and
// " \\ < > & (see jsonSafe). '<' and '>' differ in bit 1 alone, '"' and
// '&' in bit 2 alone, so one comparison finds each pair; the tests are
// fields.Above and fields.Equal written out, so that this inlines.
func jsonUnsafe8(x uint64) uint64 {
	const o = 0x0101010101010101
	ctl := x + (0x80-0x20)*o // bit 7 set: >= 0x20
	lg := x | 0x02*o ^ '>'*o
	qa := x | 0x04*o ^ '&'*o
	bs := x ^ '\\'*o
	eq := (lg + 0x7f*o | lg) & (qa + 0x7f*o | qa) & (bs + 0x7f*o | bs) // bit 7 clear: one of them
	return ^(ctl & eq) & fields.High
}

// appendJSONBody is appendJSONString without the quotes.
func appendJSONBody(dst []byte, s string) []byte {
	dst, _ = appendJSONBodyWords(dst, s)
	return dst
}

// appendJSONBodyWords is appendJSONBody that also counts the words of s:
// runs of runes other than ' ', '\n', '\t' and '\r' (those are ASCII, and
// every byte of a longer rune or an invalid one is none of them, so runs
// of such bytes are counted, without decoding). The bytes written as they
// are (most of them) are stepped over eight at a time while eight remain,
// their words counted from one mask, up to the first byte that is not
// ASCII or not safe; that one (and every byte of the last seven) is
// looked at alone. The samples' text is escaped and counted in one pass.
func appendJSONBodyWords(dst []byte, s string) (_ []byte, words int) {
	start := 0
	var prev uint64 // 1 after a word byte
	for i := 0; i < len(s); {
		for i+8 <= len(s) {
			x := fields.Load8(s, i)
			word := wordBytes8(x)
			starts := word &^ (word<<8 | prev<<7)
			if m := jsonUnsafe8(x&fields.Low7) | x&fields.High; m != 0 {
				// Bytes i to i+k are written as they are: count them.
				if k := fields.FirstByte(m); k > 0 {
					words += bits.OnesCount64(starts & (1<<(8*k&63) - 1))
					prev = word >> ((8*k - 1) & 63) & 1
					i += k
				}
				break
			}
			words += bits.OnesCount64(starts)
			prev = word >> 63
			i += 8
		}
		if i == len(s) {
			break
		}
		// A byte of a longer rune is a word byte: counting its first
		// counts the rune.
		cur := uint64(wordByte[s[i]])
		words += int(cur &^ prev)
		prev = cur
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...), words
}

// wordBytes8 marks (bit 7 of each byte) the bytes of x that are not ' ',
// '\n', '\t' or '\r' (a byte with bit 7 set is none of them). '\t' and
// '\r' differ in bit 2 alone, so one comparison finds both; the tests are
// fields.Equal written out, so that this inlines.
func wordBytes8(x uint64) uint64 {
	const o = 0x0101010101010101
	y := x & fields.Low7
	sp := y ^ ' '*o
	nl := y ^ '\n'*o
	tr := y | 0x04*o ^ '\r'*o
	return ((sp+0x7f*o|sp)&(nl+0x7f*o|nl)&(tr+0x7f*o|tr) | x) & fields.High // bit 7 set: none of them
}

// wordByte is 1 for the bytes that are not ' ', '\n', '\t' or '\r'.
var wordByte = func() (t [256]uint8) {
	for c := range t {
		switch c {
		case ' ', '\n', '\t', '\r':
		default:
			t[c] = 1
		}
	}
	return
}()
