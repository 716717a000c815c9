package prepare

import (
	"unicode/utf8"

	"github.com/humanllm/humanllm/tasks"
)

// appendSampleJSON appends json.Marshal(s) to dst, byte for byte, without
// reflection: the samples are most of the output, and encoding/json spent
// more time finding its way through the struct than writing it.
// TestSampleJSONMatchesMarshal and FuzzSampleJSON hold it to
// encoding/json.
func appendSampleJSON(dst []byte, s *tasks.Sample) []byte {
	dst = append(dst, `{"messages":`...)
	if s.Messages == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, m := range s.Messages {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"role":`...)
			dst = appendJSONString(dst, m.Role)
			dst = append(dst, `,"content":`...)
			dst = appendJSONString(dst, m.Content)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"task":`...)
	dst = appendJSONString(dst, s.Task)
	dst = append(dst, `,"source":`...)
	dst = appendJSONString(dst, s.Source)
	dst = append(dst, `,"user":`...)
	dst = appendJSONString(dst, s.User)
	return append(dst, '}')
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
	start := 0
	for i := 0; i < len(s); {
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
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
