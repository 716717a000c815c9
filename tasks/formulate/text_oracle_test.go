package formulate

import (
	"strings"
	"testing"
	"unicode"
)

// The text helpers as first written, kept as oracles.

func oracleWordSpans(s string) [][2]int {
	var out [][2]int
	start := -1
	for i, r := range s {
		if unicode.IsSpace(r) {
			if start >= 0 {
				out = append(out, [2]int{start, i})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, [2]int{start, len(s)})
	}
	return out
}

func oracleCutWords(s string, n int) string {
	s = strings.TrimSpace(s)
	sp := oracleWordSpans(s)
	if n <= 0 || len(sp) <= n {
		return s
	}
	return s[:sp[n-1][1]] + " [...]"
}

func oracleSameText(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

func checkTextHelpers(t *testing.T, a, b string, n int) {
	t.Helper()
	if got, want := wordCount(a), len(strings.Fields(a)); got != want {
		t.Fatalf("wordCount(%q) = %d, want %d", a, got, want)
	}
	if sp := oracleWordSpans(a); len(sp) > 1 {
		k := 1 + (n&7)%(len(sp)-1)
		head, rest := splitAfter(a, k)
		if wh, wr := a[:sp[k-1][1]], strings.TrimSpace(a[sp[k][0]:]); head != wh || rest != wr {
			t.Fatalf("splitAfter(%q, %d) = %q, %q; want %q, %q", a, k, head, rest, wh, wr)
		}
	}
	if got, want := cutWords(a, n), oracleCutWords(a, n); got != want {
		t.Fatalf("cutWords(%q, %d) = %q, want %q", a, n, got, want)
	}
	if got, want := sameText(a, b), oracleSameText(a, b); got != want {
		t.Fatalf("sameText(%q, %q) = %v, want %v", a, b, got, want)
	}
	if got, want := string(appendNormLower([]byte(b), a)), b+strings.ToLower(strings.Join(strings.Fields(a), " ")); got != want {
		t.Fatalf("appendNormLower(%q, %q) = %q, want %q", b, a, got, want)
	}
}

func FuzzTextHelpers(f *testing.F) {
	for _, s := range []string{"", " a  b\tc\u00a0d\u2003e ", "Straße STRASSE", "ǅ ǆ Ǆ", "\xff x \x85y", "one two three four",
		"İSTANBUL Ⱥ \u212a KELVIN", "ẞ ß", "MIXED Case\nLines"} {
		f.Add(s, strings.ToUpper(s), 2)
		f.Add(s, " "+s+" ", 0)
	}
	f.Fuzz(func(t *testing.T, a, b string, n int) {
		n %= 8
		checkTextHelpers(t, a, b, n)
		checkTextHelpers(t, b, a, n)
		checkTextHelpers(t, a, strings.ToLower(a), n)
	})
}
