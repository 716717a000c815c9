package filter

import (
	"bufio"
	"encoding/json"
	"github.com/humanllm/humanllm/internal/randtext"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/tasks"
)

func long(n int) string { return strings.Repeat("word ", n/5+1) }

func TestRecordRules(t *testing.T) {
	c := Default()
	cases := []struct {
		name string
		r    tasks.Record
		want string
	}{
		{"reddit post ok", tasks.Record{Source: "reddit", Kind: "post", User: "alice", Title: "t", Text: long(300)}, ""},
		{"reddit post short", tasks.Record{Source: "reddit", Kind: "post", User: "alice", Title: "t", Text: long(100)}, ReasonTooShort},
		{"title counts toward posts", tasks.Record{Source: "reddit", Kind: "post", User: "alice", Title: long(150), Text: long(150)}, ""},
		{"comment 200 ok", tasks.Record{Source: "reddit", Kind: "comment", User: "alice", Text: long(200)}, ""},
		{"comment 150 short", tasks.Record{Source: "reddit", Kind: "comment", User: "alice", Text: long(150)[:150]}, ReasonTooShort},
		{"deleted author", tasks.Record{Source: "reddit", Kind: "post", User: "[deleted]", Text: long(400)}, ReasonDeletedAuthor},
		{"automoderator", tasks.Record{Source: "reddit", Kind: "comment", User: "AutoModerator", Text: long(400)}, ReasonDeletedAuthor},
		{"bot suffix", tasks.Record{Source: "reddit", Kind: "comment", User: "RemindMeBot", Text: long(400)}, ReasonBotAuthor},
		{"not a bot: abbot is a word end but only reddit names", tasks.Record{Source: "blogger", Kind: "post", User: "abbot", Text: long(400)}, ""},
		{"moderator", tasks.Record{Source: "reddit", Kind: "comment", User: "x", Text: long(400), Meta: map[string]string{"distinguished": "moderator"}}, ReasonModerator},
		{"removed body", tasks.Record{Source: "reddit", Kind: "comment", User: "x", Text: "[removed]"}, ReasonRemovedText},
		{"low score", tasks.Record{Source: "reddit", Kind: "post", User: "x", Text: long(400), Meta: map[string]string{"score": "1", "num_comments": "0"}}, ReasonLowScore},
		{"low score but comments", tasks.Record{Source: "reddit", Kind: "post", User: "x", Text: long(400), Meta: map[string]string{"score": "1", "num_comments": "5"}}, ""},
		{"score unknown", tasks.Record{Source: "reddit", Kind: "post", User: "x", Text: long(400), Meta: map[string]string{"score": "1"}}, ""},
		{"question only", tasks.Record{Source: "reddit", Kind: "post", User: "x", Title: long(320), Text: "what do you think?"}, ReasonQuestionOnly},
		{"retweet prefix", tasks.Record{Source: "twitter", Kind: "tweet", User: "x", Text: "RT @foo " + long(400)}, ReasonRetweet},
		{"retweet meta", tasks.Record{Source: "twitter", Kind: "tweet", User: "x", Text: long(400), Meta: map[string]string{"retweet": "true"}}, ReasonRetweet},
		{"corporate", tasks.Record{Source: "twitter", Kind: "tweet", User: "x", Text: long(400), Meta: map[string]string{"description": "The official account of Acme Inc."}}, ReasonCorporate},
		{"not corporate: officially is another word", tasks.Record{Source: "twitter", Kind: "tweet", User: "x", Text: long(400), Meta: map[string]string{"description": "officially unofficial; I shopped"}}, ""},
		{"ad", tasks.Record{Source: "twitter", Kind: "tweet", User: "x", Text: "Big sale today! " + long(400)}, ReasonAdvertisement},
		{"not ad: wholesale, salesman", tasks.Record{Source: "twitter", Kind: "tweet", User: "x", Text: "wholesale salesman " + long(400)}, ""},
		{"review words", tasks.Record{Source: "amazon", Kind: "review", User: "x", Text: "good good good"}, ReasonTooFewWords},
		{"review 150", tasks.Record{Source: "amazon", Kind: "review", User: "x", Text: long(150)}, ""},
		{"empty", tasks.Record{Source: "blogger", Kind: "post", User: "x", Text: "  "}, ReasonEmptyText},
		{"pii does not pad", tasks.Record{Source: "blogger", Kind: "post", User: "x", Text: long(250)[:250] + " https://example.com/" + strings.Repeat("a", 80)}, ReasonTooShort},
	}
	for _, tc := range cases {
		r := tc.r
		if got := c.Record(&r); got != tc.want {
			t.Errorf("%s: got %q want %q", tc.name, got, tc.want)
		}
	}
	c.MinCharsBySource = map[string]int{"reddit": 10}
	r := tasks.Record{Source: "reddit", Kind: "post", User: "x", Title: "a short title here"}
	if got := c.Record(&r); got != "" {
		t.Errorf("per-source minimum ignored: %q", got)
	}
}

func TestScrub(t *testing.T) {
	sc := NewScrubber()
	cases := []struct{ in, want string }{
		{"mail me: user@example.com now", "mail me: [EMAIL] now"},
		{"@POTUS this bill", "[USER] this bill"},
		{"thanks @jane_doe!", "thanks [USER]!"},
		{"call me at 555-123-4567 ok", "call me at [PHONE] ok"},
		{"call (555) 123-4567", "call [PHONE]"},
		{"London +44 20 7946 0958.", "London [PHONE]."},
		{"see https://t.co/36dRx905EX and www.foo.com/a?token=1", "see [URL] and [URL]"},
		{"I live at 123 Main Street, Apt 5 now", "I live at [ADDRESS] now"},
		{"4500 N. Elm Ave. is far", "[ADDRESS] is far"},
		// negatives
		{"in 2019-2020 we won 3-2", "in 2019-2020 we won 3-2"},
		{"it cost $1,250.00 in 2004", "it cost $1,250.00 in 2004"},
		{"version 1.2.3 on 12/05/2004", "version 1.2.3 on 12/05/2004"},
		{"I have 3 cats and 2 dogs", "I have 3 cats and 2 dogs"},
	}
	for _, tc := range cases {
		got, _ := sc.Scrub(tc.in)
		if got != tc.want {
			t.Errorf("Scrub(%q) = %q, want %q", tc.in, got, tc.want)
		}
		again, n := sc.Scrub(got)
		if again != got || n != 0 {
			t.Errorf("Scrub not idempotent on %q: %q (%d)", got, again, n)
		}
	}
}

func TestUserHash(t *testing.T) {
	a := UserHash("humanllm", "amazon", "A2IBPI20UZIR0U")
	if a != UserHash("humanllm", "amazon", "A2IBPI20UZIR0U") || len(a) != 16 {
		t.Fatalf("unstable or wrong length: %s", a)
	}
	if a == UserHash("other", "amazon", "A2IBPI20UZIR0U") || a == UserHash("humanllm", "reddit", "A2IBPI20UZIR0U") {
		t.Error("salt and source must change the hash")
	}
	// golden: HMAC-SHA256 keyed by the salt; fixed forever, outputs depend on it
	if a != "5cf60f6e93b4075b" {
		t.Errorf("golden user hash changed: %s", a)
	}
}

func TestTextHashNormalises(t *testing.T) {
	if TextHash("Hello,  world!") != TextHash("hello world") {
		t.Error("normalisation")
	}
	if TextHash("hello world") == TextHash("hello word") {
		t.Error("collision on different texts")
	}
}

func TestExactSetMatchesMap(t *testing.T) {
	var s ExactSet
	m := map[uint64]bool{}
	x := uint64(1)
	for i := 0; i < 1_000_000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		h := x >> (i % 40) // plenty of repeats
		if s.Add(h) != !m[h] {
			t.Fatalf("Add(%x) disagrees with map at %d", h, i)
		}
		m[h] = true
	}
	if s.Add(0) != true || s.Add(0) != false {
		t.Error("zero element")
	}
	if s.Len() != len(m)+1 {
		t.Errorf("Len %d want %d", s.Len(), len(m)+1)
	}
}

func TestNearDup(t *testing.T) {
	// A post of typical length (SimHash votes over ~100 words; on very
	// short texts one edited word can move a few more bits, see
	// TestNearDupOnRealBlogger for the rate on real posts).
	base := "Well, everyone got up and going this morning. It's still raining, but that's okay with me. Sort of suits my mood. I could easily have stayed home in bed with my book and the cats. " +
		"Instead I made coffee, packed the lunches, found the missing shoe under the couch and drove the kids to school through the puddles. " +
		"The radio was playing old songs the whole way and nobody argued about it, which might be a first for this year. " +
		"Tonight I plan to finish the chapter I started last week and go to bed early for once."
	edited := strings.Replace(base, "book", "novel", 1)
	other := "My four-year old never stops talking. She'll say Mom? and when I say Yes she forgets what she wanted to ask, every single time, all day long, and I love her for it."
	got := NearDup([]string{base, other, edited, base}, 3)
	want := []bool{false, false, true, true}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("NearDup[%d] = %v want %v (hamming base/edited %d)", i, got[i], want[i], popcount(SimHash(base)^SimHash(edited)))
		}
	}
}

func popcount(x uint64) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

func TestUserFilter(t *testing.T) {
	c := Default()
	mk := func(src string, texts ...string) *tasks.User {
		u := &tasks.User{Source: src}
		for i, s := range texts {
			u.Records = append(u.Records, tasks.Record{Source: src, Text: s, ItemID: string(rune('a' + i))})
		}
		return u
	}
	u := mk("reddit", "one two three four", "five six seven eight", "nine ten eleven twelve", "a b c d e", "f g h i j")
	if d, keep := c.User(u); keep || d[ReasonUserTooFewPosts] != 5 || len(u.Records) != 0 {
		t.Errorf("5 reddit posts must be dropped: %v %v", d, keep)
	}
	u = mk("blogger", "one two three four", "five six seven eight", "nine ten eleven twelve")
	if _, keep := c.User(u); !keep {
		t.Error("3 blogger posts must be kept")
	}
	u = mk("amazon", "x y z w", "q r s t")
	u.Records[1].ItemID = u.Records[0].ItemID
	if d, _ := c.User(u); d[ReasonAmazonDupUserItem] != 1 {
		t.Errorf("duplicate (user,item): %v", d)
	}
}

func TestKCoreOnRealAmazon(t *testing.T) {
	zr := sharedtest.OpenGzip(t, "data/amazon/reviews_Musical_Instruments_5.json.gz")
	type edge struct{ u, i string }
	var edges []edge
	counts := map[string]int{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct{ ReviewerID, Asin string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		edges = append(edges, edge{r.ReviewerID, r.Asin})
		counts[r.Asin]++
	}
	if len(edges) != 10261 {
		t.Fatalf("read %d reviews", len(edges))
	}
	top := TopItems(counts, 0.5)
	if len(top) != 450 {
		t.Errorf("top 50%% of 900 items = %d", len(top))
	}
	k := NewKCore()
	for _, e := range edges {
		k.Add(UserHash64("s", "amazon", e.u), e.i)
	}
	k.Run(8, 3, func(i string) bool { return top[i] })

	// Independent slow reference.
	users, items := map[string]bool{}, map[string]bool{}
	for _, e := range edges {
		if top[e.i] {
			users[e.u], items[e.i] = true, true
		}
	}
	for changed := true; changed; {
		changed = false
		du, di := map[string]map[string]bool{}, map[string]map[string]bool{}
		for _, e := range edges {
			if users[e.u] && items[e.i] {
				if du[e.u] == nil {
					du[e.u] = map[string]bool{}
				}
				if di[e.i] == nil {
					di[e.i] = map[string]bool{}
				}
				du[e.u][e.i], di[e.i][e.u] = true, true
			}
		}
		for u := range users {
			if len(du[u]) < 8 {
				delete(users, u)
				changed = true
			}
		}
		for i := range items {
			if len(di[i]) < 3 {
				delete(items, i)
				changed = true
			}
		}
	}
	if k.Users() != len(users) || k.Items() != len(items) {
		t.Fatalf("k-core %d users %d items, reference %d / %d", k.Users(), k.Items(), len(users), len(items))
	}
	for u := range users {
		if !k.KeepUser(UserHash64("s", "amazon", u)) {
			t.Fatalf("user %s missing", u)
		}
	}
	if len(users) == 0 {
		t.Fatal("empty core")
	}
	t.Logf("top-50%% + k-core(8,3): %d users, %d items survive", len(users), len(items))
}

func FuzzScrub(f *testing.F) {
	for _, s := range []string{"mail user@example.com", "@POTUS hi", "call 555-123-4567", "123 Main Street", "https://t.co/x?y=1", "été 2004 €5"} {
		f.Add(s)
	}
	sc := NewScrubber()
	dom := NewScrubberWith(PIIOptions{Emails: true, Phones: true, Handles: true, Addresses: true, URLs: "domain"})
	f.Fuzz(func(t *testing.T, s string) {
		for _, sc := range []*Scrubber{sc, dom} {
			out, n := sc.Scrub(s)
			if utf8.ValidString(s) && !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 out of valid input: %q -> %q", s, out)
			}
			if n == 0 && out != s {
				t.Fatalf("n = 0 but text changed: %q -> %q", s, out)
			}
			again, _ := sc.Scrub(out)
			if again != out {
				t.Fatalf("not idempotent: %q -> %q -> %q", s, out, again)
			}
		}
	})
}

func BenchmarkScrubBlogger(b *testing.B) {
	path := sharedtest.Path(b, "data/blogger/1000331.female.37.indUnk.Leo.xml")
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	text := string(raw)
	sc := NewScrubber()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		sc.Scrub(text)
	}
}

// TestTriggersIn holds the one-pass trigger scan to the searches it
// replaced, on random texts of the patterns' bytes (and high bytes whose
// low seven bits are them) at every alignment.
func TestTriggersIn(t *testing.T) {
	want := triggersBySearch
	alphabet := []string{"a", "u", "/", ":", "w", "W", ".", " ", "7", "@", "\xc0", "\xaf", "\xba", "\xf7", "\xb5", "é", "www.", "://"}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 50000 {
		if s := randtext.Join(rng, alphabet, 30); triggersIn(s) != want(s) {
			t.Fatalf("triggersIn(%q) = %b, want %b", s, triggersIn(s), want(s))
		}
	}
}
