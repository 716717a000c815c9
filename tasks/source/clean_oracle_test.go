package source

import (
	"bytes"
	"html"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/fields"
	"github.com/humanllm/humanllm/internal/randtext"
	"github.com/humanllm/humanllm/internal/sharedtest"
)

// oracleCleanBlogText is cleanBlogText as first written (Fields and Join).
func oracleCleanBlogText(raw []byte) string {
	s := fixUTF8(string(raw))
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	f := strings.Fields(s)
	out := f[:0]
	for _, w := range f {
		if w == "urlLink" {
			continue
		}
		if strings.HasPrefix(w, "urlLink") {
			w = w[len("urlLink"):]
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// samplePosts returns the raw text of every post of the real Blogger sample,
// with its file.
func samplePosts(tb testing.TB) (posts [][]byte, files []string) {
	dir := sharedtest.Path(tb, "data/blogger")
	names, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	for _, f := range names {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for {
			a := bytes.Index(data, []byte("<post>"))
			if a < 0 {
				break
			}
			data = data[a+len("<post>"):]
			b := bytes.Index(data, []byte("</post>"))
			if b < 0 {
				b = len(data)
			}
			posts, files = append(posts, data[:b]), append(files, f)
		}
	}
	if len(posts) == 0 {
		tb.Fatal("no posts")
	}
	return posts, files
}

func TestCleanBlogTextMatchesOracle(t *testing.T) {
	posts, files := samplePosts(t)
	for i, p := range posts {
		if got, want := cleanBlogText(p), oracleCleanBlogText(p); got != want {
			t.Fatalf("%s: cleanBlogText(%q) = %q, want %q", files[i], p, got, want)
		}
	}
}

func FuzzCleanBlogText(f *testing.F) {
	for _, s := range []string{"", "urlLink http://x urlLinkhttp://y", "LurlLinkL urlLinurlLink", "urlLin", " a\u00a0b\u0085c\td\r\ne ", "&amp;&nbsp;x", "\xe9t\xe9 \x92s", "abcdefg  hij", "abcdefgh\u00a0 ijklmnop  q"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s := string(raw)
		got, want := cleanBlogText(raw), oracleCleanBlogText(raw)
		if got != want {
			t.Fatalf("cleanBlogText(%q) = %q, want %q", raw, got, want)
		}
		// The text must not share raw's bytes (a reused buffer).
		for i := range raw {
			raw[i] = 'X'
		}
		if got != want {
			t.Fatalf("cleanBlogText(%q) kept a piece of its input: %q", s, got)
		}
		for from := 0; from <= len(s); from++ {
			want := strings.Index(s[from:], "urlLink")
			if want >= 0 {
				want += from
			}
			if got := indexMarker(s, from); got != want {
				t.Fatalf("indexMarker(%q, %d) = %d, want %d", s, from, got, want)
			}
		}
	})
}

// TestCleanBlogTextRandom compares cleanBlogText with the oracle on random
// texts of white space (ASCII, NBSP, NEL, ideographic), letters, longer
// runes and markers, so that every kind of separator falls at every place
// of the eight-byte words joinFields reads at once.
func TestCleanBlogTextRandom(t *testing.T) {
	alphabet := []string{"a", "b", "Z", " ", " ", " ", "\t", "\n", "\r", "\v", "\u00a0", "\u0085", "\u3000", "é", "👋", "urlLink", "\x01"}
	plain := []string{"a", "bc", " "} // mostly regular text, double spaces
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 60000 {
		letters := alphabet
		if trial%2 == 1 {
			letters = plain
		}
		p := []byte(randtext.Join(rng, letters, 48))
		if got, want := cleanBlogText(p), oracleCleanBlogText(p); got != want {
			t.Fatalf("cleanBlogText(%q) = %q, want %q", p, got, want)
		}
	}
}

// TestCleanBlogTextRandomLong is TestCleanBlogTextRandom on texts of a few
// hundred bytes, mostly plain, so that every kind of separator falls at
// every place of the 64 bytes nextIrregularSpace reads at once (where the
// CPU has AVX-512BW), and invalid bytes after long ASCII runs (fixUTF8's
// ASCII prefix).
func TestCleanBlogTextRandomLong(t *testing.T) {
	alphabet := []string{"a", "bc", "defghijk", " ", " ", " ", " ", "\t", "\n", "\u00a0", "\u0085", "é", "urlLink", "\xe9", "\x80", "\x92"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 6000 {
		p := []byte(randtext.Join(rng, alphabet, 150))
		if got, want := cleanBlogText(p), oracleCleanBlogText(p); got != want {
			t.Fatalf("cleanBlogText(%q) = %q, want %q", p, got, want)
		}
		if got, want := fixUTF8(string(p)), oracleFixUTF8(string(p)); got != want {
			t.Fatalf("fixUTF8(%q) = %q, want %q", p, got, want)
		}
	}
}

// oracleFixUTF8 is fixUTF8 as first written: the whole text validated,
// then mended rune by rune.
func oracleFixUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r != utf8.RuneError || n > 1:
			b.WriteString(s[i : i+n])
		case s[i] >= 0x80 && s[i] <= 0x9F:
			if m := cp1252[s[i]-0x80]; m != 0 {
				b.WriteRune(m)
			}
		default:
			b.WriteRune(rune(s[i]))
		}
		i += n
	}
	return b.String()
}

// postEndOracle is how Parse found the end of a post before postEnd: each
// tag searched for on its own from the post's start.
func postEndOracle(data []byte, start int) (end, next int) {
	tf := tagFinder{data: data}
	end = tf.next("</post>", start)
	next = end + len("</post>")
	limit := end
	if limit < 0 {
		limit = len(data)
	}
	for _, t := range []string{"<date>", "<post>", "</blog>"} {
		if k := tf.next(t, start); k >= 0 && k < limit {
			limit = k
		}
	}
	if limit != end {
		end, next = limit, limit
	}
	return end, next
}

// FuzzPostEnd holds postEnd to the oracle from every start.
func FuzzPostEnd(f *testing.F) {
	for _, s := range []string{"", "a</post>", "x<date>y</post>", "<POST>a</Post><DATE>", "</blog", "a<b</Blog>c</post>", "<<post></post", "</POST"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for start := 0; start <= len(data); start++ {
			e, n := postEnd(data, start)
			we, wn := postEndOracle(data, start)
			if e != we || n != wn {
				t.Fatalf("postEnd(%q, %d) = %d, %d; want %d, %d", data, start, e, n, we, wn)
			}
		}
	})
}

// parseBlogDateOracle is parseBlogDate as it was (Split, ToLower).
func parseBlogDateOracle(s string) (int64, bool) {
	parts := strings.Split(fixUTF8(s), ",")
	if len(parts) != 3 {
		return 0, false
	}
	d, err1 := strconv.Atoi(strings.TrimSpace(parts[0]))
	y, err2 := strconv.Atoi(strings.TrimSpace(parts[2]))
	mo, ok := months[strings.ToLower(strings.TrimSpace(parts[1]))]
	if err1 != nil || err2 != nil || !ok || d < 1 || d > 31 || y < 1900 || y > 2100 {
		return 0, false
	}
	t := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return 0, false
	}
	return t.Unix(), true
}

// FuzzParseBlogDate holds parseBlogDate to the oracle.
func FuzzParseBlogDate(f *testing.F) {
	fuzzOracle(f, "parseBlogDate", parseBlogDate, parseBlogDateOracle,
		"31,May,2004", " 1 , MÄRZ , 2003 ", "30,February,2004", "1,mai,2004,", "1,,2004", "", "12,Décembre,2001", "5,SEPTEMBER,1999", "\xe9,May,2004", "1,JÄNNER,2000")
}

// BenchmarkCleanBlogText cleans every post of the real Blogger sample.
func BenchmarkCleanBlogText(b *testing.B) {
	posts, _ := samplePosts(b)
	total := 0
	for _, p := range posts {
		total += len(p)
	}
	// masks64: the 64-byte steps where the CPU has them; swar: eight-byte
	// steps only.
	for _, mode := range []string{"masks64", "swar"} {
		b.Run(mode, func(b *testing.B) {
			defer func(h bool) { fields.HaveMasks64 = h }(fields.HaveMasks64)
			fields.HaveMasks64 = fields.HaveMasks64 && mode == "masks64"
			b.SetBytes(int64(total))
			for b.Loop() {
				for _, p := range posts {
					cleanBlogText(p)
				}
			}
		})
	}
}
