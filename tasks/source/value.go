package source

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/fields"
)

// jv is a flexible JSON scalar: it accepts a string, a number, a boolean or
// null (and keeps the compact text of an object or array), so that fields
// typed inconsistently in the wild ("created_utc": 1706745600, 1.7e9 or
// "1706745600"; ids as numbers or strings) decode without error.
type jv struct {
	s  string // the string value, or the literal text of a number/bool/object
	ok bool   // present and not null
}

func (v *jv) UnmarshalJSON(b []byte) error { return v.decode(b, false) }

// view is UnmarshalJSON for a value read only while b lasts (a number or
// time parsed on the spot): a plain string or a literal is not copied but
// viewed in b.
func (v *jv) view(b []byte) error { return v.decode(b, true) }

func (v *jv) decode(b []byte, view bool) error {
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case 'n':
		v.s, v.ok = "", false
		return nil
	case '"':
		inner := b[1 : len(b)-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			if view {
				v.s = fields.View(inner)
			} else {
				v.s = string(inner)
			}
		} else if s, ok := unquoteJSON(b); ok {
			v.s = s
		} else if err := json.Unmarshal(b, &v.s); err != nil {
			return err
		}
	default:
		if view {
			v.s = fields.View(b)
		} else {
			v.s = string(b)
		}
	}
	v.ok = true
	return nil
}

// str returns the value as a string ("" when absent or null).
func (v jv) str() string { return v.s }

// present reports whether the field was there and not null.
func (v jv) present() bool { return v.ok }

// present is a JSON field whose only interest is being there and non-null
// (e.g. Twitter's retweeted_status).
type presence bool

func (p *presence) UnmarshalJSON(b []byte) error {
	*p = presence(len(b) > 0 && b[0] != 'n')
	return nil
}

// parseNumber reads an int or float, also from a string ("1706745600",
// "1.7e9", " 42 ", "1,234").
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if strings.IndexByte(s, ',') >= 0 {
		s = strings.ReplaceAll(s, ",", "")
	}
	// ParseInt only where it can succeed (a failure allocates its error,
	// and Amazon's ratings are "5.0").
	if isDecimalInt(s) {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return float64(i), true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// isDecimalInt reports whether s is an optional sign and decimal digits,
// the only strings strconv.ParseInt(s, 10, 64) accepts.
func isDecimalInt(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// unixFromNumber converts an epoch number to seconds. Values beyond 1e11 are
// taken as milliseconds (1e11 s is the year 5138), beyond 1e14 as
// microseconds, beyond 1e17 as nanoseconds.
func unixFromNumber(f float64) int64 {
	a := math.Abs(f)
	switch {
	case a >= 1e17:
		f /= 1e9
	case a >= 1e14:
		f /= 1e6
	case a >= 1e11:
		f /= 1e3
	}
	if f > math.MaxInt64/2 || f < math.MinInt64/2 {
		return 0
	}
	return int64(math.Floor(f))
}

// timeLayouts are tried in order by parseTime for non-numeric times.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05 -0700 MST",
	"2006-01-02 15:04",
	"2006-01-02",
	time.RubyDate,             // Twitter: "Tue Jun 13 20:44:06 +0000 2017"
	time.UnixDate,             // "Mon Jan _2 15:04:05 MST 2006"
	time.RFC1123Z,             // "Mon, 02 Jan 2006 15:04:05 -0700"
	time.RFC1123,              // "Mon, 02 Jan 2006 15:04:05 MST"
	time.RFC850,               // "Monday, 02-Jan-06 15:04:05 MST"
	"01 2, 2006",              // Amazon reviewTime "02 28, 2014"
	"1 2, 2006",               //
	"January 2, 2006",         //
	"Jan 2, 2006",             //
	"2 January 2006",          //
	"01/02/2006 15:04:05",     // US exports
	"01/02/2006 15:04",        //
	"01/02/2006",              //
	"2006/01/02 15:04:05",     //
	"2006/01/02",              //
	"Mon Jan 2 15:04:05 2006", // ANSIC without padding
}

// parseTime reads a time as unix seconds (UTC): epoch seconds, milliseconds
// (see unixFromNumber), RFC 3339, Twitter/ruby dates and the common layouts
// in timeLayouts. ok is false when nothing matches.
func parseTime(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if c := s[0]; c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' {
		if f, ok := parseNumber(s); ok && strings.IndexByte(s, ',') < 0 {
			return unixFromNumber(f), true
		}
	}
	digit := s[0] >= '0' && s[0] <= '9'
	for _, l := range timeLayouts {
		// A layout that starts with a number (2006, 01, 1, 2) needs a
		// digit first, one that starts with a name (Mon, Jan) a letter:
		// the others are not tried (a Twitter time failed nine layouts,
		// each failure an allocated error, before RubyDate).
		if (l[0] >= '0' && l[0] <= '9') != digit {
			continue
		}
		if t, err := time.Parse(l, s); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

// excerpt returns the start of b (at most 200 bytes), as valid UTF-8.
func excerpt(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	s := fixUTF8(string(b))
	if len(s) > 200 {
		// invalid bytes grew into multi-byte runes: cut on a rune boundary
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// cp1252 maps bytes 0x80..0x9F to their Windows-1252 characters (the other
// high bytes are Latin-1). The five undefined positions map to 0 (dropped).
var cp1252 = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

// fixUTF8 returns s as valid UTF-8: valid sequences are kept, and each byte
// that is not part of one is decoded as Windows-1252 (Latin-1 for bytes the
// code page leaves undefined, except the five holes, which are dropped).
// This recovers Latin-1/CP1252 text and files that mix encodings.
func fixUTF8(s string) string {
	// An ASCII prefix (found 64 bytes a step where the CPU allows) ends on
	// a rune boundary: s is valid when the rest is.
	if utf8.ValidString(s[fields.ASCIIPrefix64(s):]) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || n > 1 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		if c >= 0x80 && c <= 0x9F {
			if m := cp1252[c-0x80]; m != 0 {
				b.WriteRune(m)
			}
		} else {
			b.WriteRune(rune(c))
		}
		i++
	}
	return b.String()
}

// lookupPath follows a dotted path ("user.id_str") through decoded JSON
// objects. A path segment that names an existing key containing dots wins
// over splitting (so "a.b" finds {"a.b":1} too).
func lookupPath(m map[string]any, path string) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	var cur any = m
	for path != "" {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		seg, rest, _ := strings.Cut(path, ".")
		v, ok := obj[seg]
		if !ok {
			return nil, false
		}
		cur, path = v, rest
	}
	return cur, true
}

// anyString renders a decoded JSON value as a string: strings as is,
// numbers as written, booleans "true"/"false", null "", objects and arrays
// as compact JSON.
func anyString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return ""
		}
		return string(b)
	}
}

// setMeta stores v under k when v is not empty, allocating m on demand.
func setMeta(m map[string]string, k, v string) map[string]string {
	if v == "" {
		return m
	}
	if m == nil {
		m = make(map[string]string, 8)
	}
	m[k] = v
	return m
}
