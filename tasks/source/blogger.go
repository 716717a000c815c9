package source

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"math/bits"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/humanllm/humanllm/internal/fields"

	"github.com/humanllm/humanllm/tasks"
)

// bloggerAdapter reads the Blog Authorship Corpus: one file per author,
// named <id>.<gender>.<age>.<industry>.<sign>.xml, holding <date>…</date>
// <post>…</post> pairs inside <Blog>. The files are not well-formed XML
// (raw "&" and "<", HTML fragments, Latin-1/CP1252 bytes mixed with UTF-8,
// CRLF/CR/NEL line ends), so a tolerant scanner is used instead of
// encoding/xml. Each file is read whole (one author; a few MB at most).
//
// Per post: Text is the content decoded to UTF-8 (invalid bytes as CP1252),
// HTML entities decoded, the corpus' "urlLink" markers removed and white
// space collapsed; Time is the <date> ("31,May,2004"; month names in
// English, French, Spanish, Italian, German, Portuguese and Dutch) at 00:00
// UTC, 0 when it does not parse; User and Meta (gender, age, industry,
// sign) come from the file name (User is the whole base name when it does
// not follow the pattern); Line is the line of the <post> tag; ID is
// "<user>/<n>" with n the post's 1-based index in the file. An empty post is
// still a record (filters drop it).
type bloggerAdapter struct{}

// maxBlogFile bounds one Blogger file.
const maxBlogFile = 256 << 20

var blogName = regexp.MustCompile(`^(\d+)\.([a-zA-Z]+)\.(\d+)\.([^.]+)\.([^.]+)\.xml$`)

func (a *bloggerAdapter) Name() string { return tasks.SourceBlogger }

func (a *bloggerAdapter) Detect(name string, head []byte) bool {
	h := trimBOM(head)
	switch firstNonSpace(h) {
	case '<':
	case 0:
		return blogName.MatchString(baseName(name))
	default:
		return false
	}
	if blogName.MatchString(baseName(name)) {
		return true
	}
	if len(h) > 4096 {
		h = h[:4096]
	}
	lower := bytes.ToLower(h)
	if bytes.Contains(lower, []byte("<blog>")) || bytes.Contains(lower, []byte("<date>")) && bytes.Contains(lower, []byte("<post>")) {
		return true
	}
	return false
}

// blogBufs holds the buffers blogger files are read into. A corpus has
// thousands of small files, and io.ReadAll grew a fresh buffer from 512
// bytes for each; nothing of a file's bytes outlives Parse (every string
// of a record is a copy), so the buffer goes back for the next file.
var blogBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (a *bloggerAdapter) Parse(ctx context.Context, in Input, emit Emit, bad Bad) error {
	buf := blogBufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 16<<20 { // not a rare huge file's buffer
			blogBufs.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(in.Reader, maxBlogFile+1)); err != nil {
		return err
	}
	data := buf.Bytes()
	if len(data) > maxBlogFile {
		return fmt.Errorf("blogger file larger than %d bytes", maxBlogFile)
	}
	user, meta := blogUser(in.Name)
	lc := lineCounter{data: data, line: 1}
	tf := tagFinder{data: data}
	date, haveDate := "", false
	n := 0
	for pos := 0; pos < len(data); {
		i := bytes.IndexByte(data[pos:], '<')
		if i < 0 {
			break
		}
		i += pos
		switch {
		case hasTagAt(data, i, "<date>"):
			start := i + len("<date>")
			end := tf.next("</date>", start)
			if end < 0 || end-start > 200 {
				// no closing tag nearby: the date runs to the end of its line
				end = start + bytes.IndexAny(data[start:], "\r\n<")
				if end < start {
					end = len(data)
				}
				pos = end
			} else {
				pos = end + len("</date>")
			}
			// A view of the file's bytes: only parsed, below.
			date, haveDate = fields.View(bytes.TrimSpace(data[start:end])), true
		case hasTagAt(data, i, "<post>"):
			if n&255 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			n++
			start := i + len("<post>")
			end, next := postEnd(data, start)
			line := lc.at(i)
			rec := tasks.Record{Source: tasks.SourceBlogger, Kind: tasks.KindPost, User: user,
				ID: user + "/" + strconv.Itoa(n), Text: cleanBlogText(data[start:end]), File: in.Name, Line: line}
			if haveDate {
				rec.Time, _ = parseBlogDate(date)
			}
			if len(meta) > 0 {
				// One map for the file's posts: they all carry the same
				// author attributes, and a Record's Meta is read-only.
				rec.Meta = meta
			}
			date, haveDate = "", false
			if err := emit(rec); err != nil {
				return err
			}
			pos = next
		default:
			pos = i + 1
		}
	}
	return nil
}

// blogUser returns the user id and Meta from a corpus file name.
func blogUser(name string) (string, map[string]string) {
	b := baseName(name)
	if m := blogName.FindStringSubmatch(b); m != nil {
		return m[1], map[string]string{"gender": strings.ToLower(m[2]), "age": m[3], "industry": m[4], "sign": m[5]}
	}
	b = strings.TrimSuffix(b, filepath.Ext(b))
	if b == "" || b == "-" {
		b = "blogger"
	}
	return b, nil
}

// postEnd returns the end of the post whose text starts at data[start]
// and where reading goes on after it: its "</post>" and the byte after
// that tag; or, unterminated, the next <date>, <post> or </Blog> when one
// comes before any "</post>" (and reading goes on there), or the end of
// data. Tags are matched ignoring case. One walk over the '<' of the post
// finds whichever of the four comes first (each used to be searched for
// on its own from the post's start, so a post was read four times).
func postEnd(data []byte, start int) (end, next int) {
	for p := start; p < len(data); {
		i := bytes.IndexByte(data[p:], '<')
		if i < 0 {
			break
		}
		k := p + i
		switch {
		case hasTagAt(data, k, "</post>"):
			return k, k + len("</post>")
		case hasTagAt(data, k, "<date>"), hasTagAt(data, k, "<post>"), hasTagAt(data, k, "</blog>"):
			return k, k
		}
		p = k + 1
	}
	return len(data), len(data)
}

// hasTagAt reports whether data[i:] starts with tag, ignoring ASCII case.
func hasTagAt(data []byte, i int, tag string) bool {
	return len(data)-i >= len(tag) && bytes.EqualFold(data[i:i+len(tag)], []byte(tag))
}

// indexFold finds tag (ASCII, starting with '<') in data[from:], ignoring
// case; it returns the absolute index or -1.
func indexFold(data []byte, from int, tag string) int {
	for p := from; p < len(data); {
		i := bytes.IndexByte(data[p:], '<')
		if i < 0 {
			return -1
		}
		if hasTagAt(data, p+i, tag) {
			return p + i
		}
		p += i + 1
	}
	return -1
}

// tagFinder answers "next occurrence of tag at or after from" for queries
// whose from never decreases (per tag), in amortised linear time: it
// remembers the last answer per tag and rescans only when from passes it.
// (A plain search per post would be quadratic on a file full of
// unterminated <post> tags.)
type tagFinder struct {
	data  []byte
	cache map[string][2]int // tag -> {searched from, found at or -1}
}

func (f *tagFinder) next(tag string, from int) int {
	if f.cache == nil {
		f.cache = make(map[string][2]int, 4)
	}
	if c, ok := f.cache[tag]; ok && c[0] <= from && (c[1] < 0 || c[1] >= from) {
		return c[1]
	}
	k := indexFold(f.data, from, tag)
	f.cache[tag] = [2]int{from, k}
	return k
}

// lineCounter turns increasing byte offsets into 1-based line numbers,
// counting LF, CRLF, a lone CR and the UTF-8 NEL (C2 85) as line ends.
type lineCounter struct {
	data []byte
	off  int
	line int
}

func (c *lineCounter) at(off int) int {
	d := c.data
	if off > len(d) {
		off = len(d)
	}
	if off > c.off {
		// Every LF, every CR not followed by LF, every NEL, counted with
		// the runtime's vectorised byte counts. A pair that straddles off
		// is decided by its first byte, as a byte-by-byte scan with
		// look-ahead does.
		seg := d[c.off:off]
		n := bytes.Count(seg, []byte{'\n'})
		if cr := bytes.Count(seg, []byte{'\r'}); cr > 0 {
			n += cr - bytes.Count(seg, []byte("\r\n"))
			if seg[len(seg)-1] == '\r' && off < len(d) && d[off] == '\n' {
				n--
			}
		}
		if bytes.IndexByte(seg, 0xC2) >= 0 {
			n += bytes.Count(seg, []byte("\xC2\x85"))
			if seg[len(seg)-1] == 0xC2 && off < len(d) && d[off] == 0x85 {
				n++
			}
		}
		c.line += n
		c.off = off
	}
	return c.line
}

// cleanBlogText decodes a post to clean UTF-8 text. The steps read raw
// in place (a post is rarely valid UTF-8 with words one space apart
// already, so each step's output is a new string anyway); only a result
// that is still a piece of raw is copied out of it, which is read into a
// reused buffer.
func cleanBlogText(raw []byte) string {
	s := fields.View(raw)
	s = fixUTF8(s)
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	s = joinBlogFields(s)
	if len(s) > 0 && len(raw) > 0 {
		if p, r := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(&raw[0])); p >= r && p < r+uintptr(len(raw)) {
			s = strings.Clone(s)
		}
	}
	return s
}

// joinBlogFields returns the fields of s (strings.Fields: NBSP and NEL
// split too) without the corpus' "urlLink" markers, joined by one space.
// A marker is cut from the start of its field (a field of the marker alone
// goes): the markers that start a field are found with strings.Index and
// cut out of s, which leaves every other field as it was (the white space
// around a cut field stays, and joinFields collapses it), then joinFields
// does the rest eight bytes at a time.
func joinBlogFields(s string) string {
	i := indexMarker(s, 0)
	if i < 0 {
		return joinFields(s) // most posts
	}
	var b strings.Builder
	done := 0 // s[:done] is written to b (when b is used)
	for i >= 0 {
		if fieldStart(s, i) {
			if b.Cap() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[done:i])
			done = i + len(marker)
		}
		// A marker that starts a field cannot overlap this one (a space
		// would have to come before it inside the marker).
		i = indexMarker(s, i+len(marker))
	}
	if done == 0 {
		return joinFields(s)
	}
	b.WriteString(s[done:])
	return joinFields(b.String())
}

const marker = "urlLink"

// indexMarker is the index of the first marker in s[from:] (absolute), or
// -1. It looks for the marker's 'L', a rare byte in English text, rather
// than its 'u' as strings.Index does (which stopped at most words).
func indexMarker(s string, from int) int {
	const l = 3 // the index of 'L' in the marker
	for i := from + l; i < len(s); {
		j := strings.IndexByte(s[i:], 'L')
		if j < 0 {
			return -1
		}
		i += j
		if st := i - l; st >= from && st+len(marker) <= len(s) && s[st:st+len(marker)] == marker {
			return st
		}
		i++
	}
	return -1
}

// fieldStart reports whether s[i] starts a field of strings.Fields: it is
// the first byte, or the rune before it is white space.
func fieldStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	if c := s[i-1]; c < utf8.RuneSelf {
		return fields.ASCIISpace[c]
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsSpace(r)
}

// joinFields is strings.Join(strings.Fields(s), " "). Once s is trimmed,
// the output differs from it only at the white space that is not a single
// ' ': ASCII white space other than ' ', a ' ' after a ' ', white space
// of longer runes. Those are found eight bytes at a time (the rest is
// copied in runs), and s is returned when there are none.
func joinFields(s string) string {
	s = strings.TrimSpace(s) // the same unicode.IsSpace as Fields
	var b strings.Builder
	done := 0 // s[:done] is written to b (when b is used)
	for i := 0; ; {
		p := nextIrregularSpace(s, i)
		if p == len(s) {
			break
		}
		// s[p:] starts a run of white space between two fields (s is
		// trimmed); it becomes one ' '.
		q := p
		for q < len(s) {
			if c := s[q]; c < utf8.RuneSelf {
				if !fields.ASCIISpace[c] {
					break
				}
				q++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[q:])
			if !unicode.IsSpace(r) {
				break
			}
			q += n
		}
		if b.Cap() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[done:p])
		b.WriteByte(' ')
		done, i = q, q
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// nextIrregularSpace returns the start of the first run of white space in
// s[i:] that is not a single ' ' (len(s) when there is none). s[i] is not
// white space and s does not end in white space.
func nextIrregularSpace(s string, i int) int {
	var prevSp uint64 // 1: s[i-1] is a ' ' (of the run being scanned)
	if fields.HaveMasks64 {
		// The same, 64 bytes a step (AVX-512BW).
		for i+64 <= len(s) {
			sp, ws, hi := fields.Masks64(s, i)
			m := ws&^sp | sp&(sp<<1|prevSp) | hi
			if m == 0 {
				prevSp = sp >> 63
				i += 64
				continue
			}
			k := i + bits.TrailingZeros64(m)
			n := longRuneAt(s, k)
			if n == 0 {
				return runStart(s, k)
			}
			i, prevSp = k+n, 0
		}
	}
	for i+8 <= len(s) {
		x := fields.Load8(s, i)
		hi := x & fields.High
		y := x & fields.Low7
		ws := fields.Space8(y) &^ x // ASCII white space (bit 7 set: not ASCII)
		sp := fields.Equal(y, ' ') &^ x
		m := ws&^sp | sp&(sp<<8|prevSp<<7) | hi
		if m == 0 {
			prevSp = sp >> 63
			i += 8
			continue
		}
		k := i + fields.FirstByte(m)
		n := longRuneAt(s, k)
		if n == 0 {
			return runStart(s, k)
		}
		i, prevSp = k+n, 0
	}
	prev := byte(0)
	if prevSp != 0 {
		prev = ' '
	}
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == ' ' && prev == ' ' || c != ' ' && fields.ASCIISpace[c] {
				return runStart(s, i)
			}
			prev = c
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			return runStart(s, i)
		}
		prev = 0
		i += n
	}
	return len(s)
}

// longRuneAt judges a stop of nextIrregularSpace's masks at s[k]: it
// returns 0 when the stop starts a run of white space (an ASCII stop, or a
// longer rune that is white space), else the length of the rune at s[k]
// (not white space: the scan goes on after it).
func longRuneAt(s string, k int) int {
	if s[k] < utf8.RuneSelf {
		return 0
	}
	r, n := utf8.DecodeRuneInString(s[k:])
	if unicode.IsSpace(r) {
		return 0
	}
	return n
}

// runStart is the start of the white space run that holds s[k]: a ' '
// before k belongs to it (the run is irregular from k on, and starts there
// or one ' ' before).
func runStart(s string, k int) int {
	for k > 0 && s[k-1] == ' ' {
		k--
	}
	return k
}

// months maps lower-cased month names (and common abbreviations) in the
// corpus' languages to month numbers.
var months = func() map[string]time.Month {
	m := map[string]time.Month{}
	add := func(mo time.Month, names ...string) {
		for _, n := range names {
			m[n] = mo
		}
	}
	add(time.January, "january", "jan", "janvier", "enero", "gennaio", "januar", "janeiro", "januari", "jänner")
	add(time.February, "february", "feb", "février", "fevrier", "febrero", "febbraio", "februar", "fevereiro", "februari")
	add(time.March, "march", "mar", "mars", "marzo", "märz", "marz", "março", "marco", "maart")
	add(time.April, "april", "apr", "avril", "abril", "aprile")
	add(time.May, "may", "mai", "mayo", "maggio", "maio", "mei")
	add(time.June, "june", "jun", "juin", "junio", "giugno", "juni", "junho")
	add(time.July, "july", "jul", "juillet", "julio", "luglio", "juli", "julho")
	add(time.August, "august", "aug", "août", "aout", "agosto", "augustus")
	add(time.September, "september", "sep", "sept", "septembre", "septiembre", "settembre", "setembro")
	add(time.October, "october", "oct", "octobre", "octubre", "ottobre", "oktober", "outubro")
	add(time.November, "november", "nov", "novembre", "noviembre", "novembro")
	add(time.December, "december", "dec", "décembre", "decembre", "diciembre", "dicembre", "dezember", "dezembro")
	return m
}()

// parseBlogDate reads "31,May,2004" as unix seconds at 00:00 UTC. The
// parts are cut out of s and an ASCII month is lower-cased on the stack
// (a date per post; Split and ToLower allocated for each).
func parseBlogDate(s string) (int64, bool) {
	s = fixUTF8(s)
	day, rest, ok1 := strings.Cut(s, ",")
	month, year, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 || strings.IndexByte(year, ',') >= 0 {
		return 0, false
	}
	d, err1 := strconv.Atoi(strings.TrimSpace(day))
	y, err2 := strconv.Atoi(strings.TrimSpace(year))
	var buf [16]byte
	mo, ok := months[fields.ToLowerInto(buf[:], strings.TrimSpace(month))]
	if err1 != nil || err2 != nil || !ok || d < 1 || d > 31 || y < 1900 || y > 2100 {
		return 0, false
	}
	t := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return 0, false
	}
	return t.Unix(), true
}
