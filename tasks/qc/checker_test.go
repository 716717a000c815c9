package qc

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/piecetest"
	"github.com/humanllm/humanllm/tasks"
)

// piiLines is HasPII applied line by line: what Checker relies on.
func piiLines(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		if HasPII(l) {
			return true
		}
	}
	return false
}

// fragments mixes words, PII, near-PII and separators, so that random
// joins put matches (and almost-matches) next to newlines.
var fragments = []string{
	"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "I", "it's", "Straße", "İt",
	"jane.doe@example.com", "a@b", "@", "x_y@z.io", "_", "555", "123-4567", "(555)", "+44", "20", "7946", "0958", "+1",
	"https://example.com/reset?token=abcdef123456", "www.x.com/?KEY=1234567", "https://u:p@h.com/x", "://", "www.",
	"?sid=abcdefgh", "2004-05-24", "\xff", "é", " ", "  ", "\n", "\n\n", "\t", ".", "-", ",", "<", "'", "\"",
}

func randomText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(fragments[rng.IntN(len(fragments))])
		if rng.IntN(3) > 0 {
			b.WriteByte(" \n.-"[rng.IntN(4)])
		}
	}
	return b.String()
}

// TestHasPIISplitsAtNewlines: no PII match holds a newline, and one next
// to a newline needs only what the start or end of a text gives it, so
// HasPII of a text is HasPII of its lines, and the oracle agrees.
func TestHasPIISplitsAtNewlines(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	hits := 0
	for range 20000 {
		s := randomText(rng, 1+rng.IntN(12))
		got, want := piiLines(s), HasPII(s)
		if got != want || want != oracleHasPII(s) {
			t.Fatalf("%q: by lines %v, whole %v, oracle %v", s, got, want, oracleHasPII(s))
		}
		if want {
			hits++
		}
	}
	if hits < 1000 || hits > 19000 {
		t.Fatalf("%d of 20000 texts have PII: the test does not exercise both answers", hits)
	}
}

// TestHasPIISplitsAtSpace: a text split before a ' ' has PII when a part
// has, or when the run of phone bytes across the split holds a phone
// number (phoneAcross), as the Checker assumes of a piece that starts
// mid-line; the texts put numbers on both sides of the ' '.
func TestHasPIISplitsAtSpace(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	across, hits := 0, 0
	for range 30000 {
		x := randomText(rng, rng.IntN(8))
		y := []string{"", "(555) 123-4567", "123-4567", "555", "(2004-05-24, in x):", "4567 x"}[rng.IntN(6)]
		y += randomText(rng, rng.IntN(8))
		s := x + " " + y
		a := phoneAcross(s, len(x))
		got := HasPII(x) || HasPII(" "+y) || a
		if want := HasPII(s); got != want || want != oracleHasPII(s) {
			t.Fatalf("%q: by parts %v (across %v), whole %v, oracle %v", s, got, a, want, oracleHasPII(s))
		}
		if a && !HasPII(x) && !HasPII(" "+y) {
			across++
		}
		if got {
			hits++
		}
	}
	if across < 50 || hits > 29000 {
		t.Fatalf("%d texts with PII only across the split, %d with PII of 30000: the test does not exercise phoneAcross", across, hits)
	}
}

// FuzzHasPIISplitsAtSpace is TestHasPIISplitsAtSpace on arbitrary texts.
func FuzzHasPIISplitsAtSpace(f *testing.F) {
	for _, s := range [][2]string{
		{"Call 555", "123-4567"}, {"Review 12", "(2004-05-24, in x):"}, {"+44", "20 7946 0958"}, {"555 123", "4567"},
		{"x", "(555) 123-4567"}, {"a@b.co", "x"}, {"www.x.com/?key=", "1234567"}, {"1 (555)", "123-4567"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, x, y string) {
		s := x + " " + y
		if got, want := HasPII(x) || HasPII(" "+y) || phoneAcross(s, len(x)), HasPII(s); got != want {
			t.Fatalf("%q: by parts %v, whole %v", s, got, want)
		}
	})
}

// FuzzHasPIILines is TestHasPIISplitsAtNewlines on arbitrary texts.
func FuzzHasPIILines(f *testing.F) {
	for _, s := range []string{
		"call\n555 123-4567\nnow", "555\n123-4567", "+44\n20 7946 0958", "mail a@b.co\n", "\n_a@b.co_\n",
		"https://x.com/?token=abcdefg\nh", "www.\nx.com?key=1234567", "(555)\n123-4567", "é\n555-123-4567\né",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := piiLines(s), HasPII(s); got != want {
			t.Fatalf("%q: by lines %v, whole %v", s, got, want)
		}
	})
}

// TestCheckerMatchesCheck builds users whose prompts repeat texts under
// keys, as the formulators' past records do, and hands Checker both the
// right pieces and wrong ones (a key reused for another text, offsets off
// by one or not at a newline, overlapping, unordered, another message),
// also for a text that ends the target: every answer must be Check's.
func TestCheckerMatchesCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	opts := DefaultOptions()
	opts.MinTargetWords = map[string]int{"default": 1}
	opts.MinTargetChars = map[string]int{"default": 1}
	opts.Languages = nil
	c := NewChecker(opts)
	// cEn checks the same samples for English too (the letters of a
	// target's pieces are counted once per user).
	optsEn := opts
	optsEn.Languages = []string{"en"}
	optsEn.MinStopwordRate = 0.02
	cEn := NewChecker(optsEn)
	reasons := map[string]int{}
	prev := "" // the last target, checked again now and then (the Checker keeps its words)
	for user := range 300 {
		c.Reset()
		cEn.Reset()
		texts := make([]string, 2+rng.IntN(8))
		for k := range texts {
			texts[k] = randomText(rng, 5+rng.IntN(60))
			if rng.IntN(4) == 0 { // mostly words: leaks come from these
				texts[k] = strings.Repeat([]string{"the quick brown fox jumps over the lazy dog ", "The Quickest brownish Foxes jumped over the EXTRAORDINARILY lazy dog; Straßenbahnhaltestelle "}[rng.IntN(2)], 1+rng.IntN(3))
			}
		}
		header := "\nPost 1 (2004-05-24):\n"
		if user%3 == 0 { // pieces that start mid-line, with a ' ', after a number
			header = []string{"\n\nReview 55", "\n\nCall 555", "\n+1", "\nx"}[rng.IntN(4)]
			for k := range texts { // texts without PII of their own, mostly
				texts[k] = []string{" (2004-05-24):", " 123-4567", " (555) 123-4567 x", " "}[rng.IntN(4)] +
					strings.Repeat(" the quick brown fox", 1+rng.IntN(4))
			}
		}
		for range 1 + rng.IntN(8) {
			prompt, pieces := piecetest.Prompt(rng, texts, 1, header, func(n int) string { return randomText(rng, n) })
			piecetest.Spoil(rng, pieces, len(texts), len(prompt))
			target := randomText(rng, 3+rng.IntN(20))
			switch rng.IntN(4) {
			case 0:
				target = texts[rng.IntN(len(texts))]
			case 1: // a run of the prompt's words, across pieces or not
				if ws := strings.Fields(prompt); len(ws) > 0 {
					a := rng.IntN(len(ws))
					target = strings.Join(ws[a:min(len(ws), a+4+rng.IntN(20))], " ")
				}
			case 2: // the last one again, for another prompt (or user, or kind)
				if prev != "" {
					target = prev
				}
			}
			prev = target
			if rng.IntN(3) == 0 {
				// The target ends with a text of the prompt's (a record's
				// text, shown in other prompts), named as a piece too: as
				// it is, under its key, or trimmed, under a key of its own.
				k := rng.IntN(len(texts))
				text, key := texts[k], k
				if rng.IntN(2) == 0 {
					text, key = strings.TrimSpace(text), len(texts)+k
				}
				target = []string{"", "Title: a@b.co\n\n", "Title: the quick brown\n\n", "x\n"}[rng.IntN(4)] + text
				p := tasks.Piece{Msg: 2, Off: len(target) - len(text), End: len(target), Key: key}
				switch rng.IntN(6) {
				case 0:
					p.Key = (p.Key + 1) % (2 * len(texts)) // another text's key
				case 1:
					p.Off++ // not at a newline
				}
				pieces = append(pieces, p)
			}
			task := "action"
			if rng.IntN(5) == 0 {
				task = tasks.TaskItemSelection // exempt from the leak check
			}
			s := tasks.Sample{Task: task, Messages: []tasks.Message{
				{Role: "system", Content: []string{"You are a person.", "Call 555 123 4567."}[user%2]},
				{Role: "user", Content: prompt},
				{Role: "assistant", Content: target},
			}}
			want := Check(s, opts)
			if got := c.Check(s, pieces); got != want {
				t.Fatalf("user %d: Checker %q, Check %q\nprompt %q\npieces %+v\ntarget %q", user, got, want, prompt, pieces, target)
			}
			reasons[want]++
			wantEn := Check(s, optsEn)
			if got := cEn.Check(s, pieces); got != wantEn {
				t.Fatalf("user %d, English only: Checker %q, Check %q\nprompt %q\npieces %+v\ntarget %q", user, got, wantEn, prompt, pieces, target)
			}
			reasons["en "+wantEn]++
		}
	}
	for _, r := range []string{"", ReasonPII, ReasonTargetLeak, "en " + ReasonLanguage, "en "} {
		if reasons[r] < 20 {
			t.Fatalf("answers %v: too few %q for the test to mean much", reasons, r)
		}
	}
}

// TestCheckerPieceEnds: with a piece's words taken from the Checker's
// cache, a leak inside the piece, across its ends or spanning two pieces
// is found, and its head and tail (not next to each other) do not join
// into one.
func TestCheckerPieceEnds(t *testing.T) {
	words := func(prefix string, n int) string {
		var ws []string
		for i := range n {
			ws = append(ws, prefix+string(rune('a'+i)))
		}
		return strings.Join(ws, " ")
	}
	head, mid, tail := words("h", 11), words("m", 10), words("t", 11)
	piece := head + " " + mid + " " + tail
	before, after := words("b", 6), words("z", 6)
	prompt := before + "\n" + piece + "\n" + after + "\n" + piece + "\n"
	off1 := len(before) + 1
	off2 := off1 + len(piece) + 1 + len(after) + 1
	pieces := []tasks.Piece{
		{Msg: 0, Off: off1, End: off1 + len(piece), Key: 1},
		{Msg: 0, Off: off2, End: off2 + len(piece), Key: 1},
	}
	opts := DefaultOptions()
	opts.Languages = nil // the made-up words are no English
	c := NewChecker(opts)
	defer c.Release()
	for _, tc := range []struct {
		target string
		leak   bool
	}{
		{head + " " + tail, false},        // head and tail of the piece, joined
		{words("m", 10) + " ta tb", true}, // inside the piece
		{"bf " + head, true},              // across its start
		{tail + " za", true},              // across its end
		{words("t", 11)[3:] + " " + words("z", 6) + " " + words("h", 5), true}, // from one piece to the next
		{words("q", 20), false},
	} {
		for range 2 { // the second time from the cache
			s := tasks.Sample{Task: "action", Messages: []tasks.Message{{Role: "user", Content: prompt}, {Role: "assistant", Content: tc.target}}}
			want := Check(s, opts)
			if (want == ReasonTargetLeak) != tc.leak {
				t.Fatalf("%q: Check says %q; the test expects leak %v", tc.target, want, tc.leak)
			}
			if got := c.Check(s, pieces); got != want {
				t.Fatalf("%q: Checker %q, Check %q", tc.target, got, want)
			}
		}
	}
}
