package source

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/tasks"
)

// collect parses paths with auto-detection and fails on an error.
func collect(t testing.TB, forced Adapter, paths ...string) ([]tasks.Record, []tasks.Malformed) {
	t.Helper()
	recs, bad, err := Collect(context.Background(), paths, Adapters(Options{}), forced)
	if err != nil {
		t.Fatal(err)
	}
	return recs, bad
}

type userStats struct{ users, atLeast5 int }

func statsOf(recs []tasks.Record) userStats {
	n := map[string]int{}
	for _, r := range recs {
		n[r.User]++
	}
	var s userStats
	for u, c := range n {
		s.users++
		if c >= 5 && u != "[deleted]" {
			s.atLeast5++
		}
	}
	return s
}

func utc(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

func minMaxTime(recs []tasks.Record) (lo, hi int64) {
	for i, r := range recs {
		if r.Time == 0 {
			continue
		}
		if i == 0 || lo == 0 || r.Time < lo {
			lo = r.Time
		}
		if r.Time > hi {
			hi = r.Time
		}
	}
	return
}

func TestRealAmazon(t *testing.T) {
	p := sharedtest.Path(t, "data/amazon/reviews_Musical_Instruments_5.json.gz")
	recs, bad := collect(t, nil, p)
	if len(bad) != 0 {
		t.Fatalf("malformed: %+v", bad[:min(3, len(bad))])
	}
	if len(recs) != 10261 {
		t.Fatalf("records = %d, want 10261", len(recs))
	}
	if s := statsOf(recs); s.users != 1429 || s.atLeast5 != 1429 {
		t.Errorf("users = %+v, want 1429/1429", s)
	}
	items := map[string]bool{}
	noName := 0
	for _, r := range recs {
		items[r.ItemID] = true
		if r.UserName == "" {
			noName++
		}
		if r.Source != "amazon" || r.Kind != "review" || r.Rating < 1 || r.Rating > 5 || r.ItemTitle != "" {
			t.Fatalf("bad record %+v", r)
		}
	}
	if len(items) != 900 || noName != 27 {
		t.Errorf("items = %d (want 900), missing reviewerName = %d (want 27)", len(items), noName)
	}
	r := recs[0]
	if r.User != "A2IBPI20UZIR0U" || r.ItemID != "1384719342" || r.Title != "good" || r.Rating != 5 ||
		r.Time != 1393545600 || !strings.HasPrefix(r.Text, "Not much to write about here, but it does exactly") ||
		r.UserName != `cassandra tu "Yeah, well, that's just like, u...` || r.Meta["helpful"] != "0/0" || r.Line != 1 {
		t.Errorf("first record = %+v", r)
	}
	lo, hi := minMaxTime(recs)
	if lo != utc("2004-09-18T00:00:00Z") || hi != utc("2014-07-22T00:00:00Z") {
		t.Errorf("date range %s … %s", time.Unix(lo, 0).UTC(), time.Unix(hi, 0).UTC())
	}
}

func TestRealTwitter(t *testing.T) {
	p := sharedtest.Path(t, "data/twitter/congresstweets_automator_test_tweets.json.gz")
	recs, bad := collect(t, nil, p)
	if len(bad) != 0 {
		t.Fatalf("malformed: %+v", bad[:min(3, len(bad))])
	}
	if len(recs) != 750 {
		t.Fatalf("records = %d, want 750", len(recs))
	}
	if s := statsOf(recs); s.users != 334 || s.atLeast5 != 31 {
		t.Errorf("users = %+v, want 334/31", s)
	}
	rt := 0
	for _, r := range recs {
		if r.Meta["retweet"] == "true" {
			rt++
		}
	}
	if rt < 128 {
		t.Errorf("retweets = %d, want >= 128", rt)
	}
	r := recs[0]
	want := "It is time to reform Washington's broken tax code—to create jobs, increase paychecks, and grow our economy.\nhttps://t.co/36dRx905EX"
	if r.ID != "874729112040079360" || r.User != "12788332" || r.UserName != "WaysandMeansGOP" || r.Text != want ||
		r.Time != utc("2017-06-13T20:44:06Z") || r.Meta["name"] != "Ways and Means" || r.Meta["lang"] != "en" ||
		r.Meta["retweet"] != "" || r.Kind != "tweet" || r.Line != 1 {
		t.Errorf("first record = %+v", r)
	}
	lo, hi := minMaxTime(recs)
	if lo != utc("2017-06-13T17:30:02Z") || hi != utc("2017-06-13T20:44:06Z") {
		t.Errorf("date range %s … %s", time.Unix(lo, 0).UTC(), time.Unix(hi, 0).UTC())
	}
	// Lines increase and the last element starts after the first.
	for i := 1; i < len(recs); i++ {
		if recs[i].Line <= recs[i-1].Line && recs[i].Line != 1 {
			t.Fatalf("line numbers not increasing at %d: %d then %d", i, recs[i-1].Line, recs[i].Line)
		}
	}
}

func TestRealRedditCSV(t *testing.T) {
	p := sharedtest.Path(t, "data/reddit/submission_2019.csv.gz")
	recs, bad := collect(t, nil, p)
	if len(bad) != 0 {
		t.Fatalf("malformed: %+v", bad[:min(3, len(bad))])
	}
	if len(recs) != 14384 {
		t.Fatalf("records = %d, want 14384", len(recs))
	}
	if s := statsOf(recs); s.users != 3822 || s.atLeast5 != 309 {
		t.Errorf("users = %+v, want 3822/309", s)
	}
	subs := map[string]int{}
	deleted := 0
	for _, r := range recs {
		subs[r.Community]++
		if r.User == "[deleted]" {
			deleted++
		}
		if r.Kind != "post" || r.Title == "" || r.Text != "" {
			t.Fatalf("bad record %+v", r)
		}
	}
	if subs["technology"] != 8154 || subs["science"] != 6230 || deleted != 1318 {
		t.Errorf("subreddits %v, [deleted] %d", subs, deleted)
	}
	r := recs[0]
	if r.ID != "abd1h6" || r.User != "[deleted]" || r.Community != "science" || r.Time != 1546302005 || r.Line != 2 ||
		!strings.HasPrefix(r.Title, "Study points to increased risk of harm from cannabis across Europe. The findings show") {
		t.Errorf("first record = %+v", r)
	}
	lo, hi := minMaxTime(recs)
	if lo != utc("2019-01-01T00:20:05Z") || hi != utc("2019-12-31T22:13:01Z") {
		t.Errorf("date range %s … %s", time.Unix(lo, 0).UTC(), time.Unix(hi, 0).UTC())
	}
}

func TestRealRedditComments(t *testing.T) {
	p := sharedtest.Path(t, "data/reddit/test_comments.json")
	recs, bad := collect(t, nil, p)
	if len(bad) != 0 {
		t.Fatalf("malformed: %+v", bad)
	}
	if len(recs) != 27 {
		t.Fatalf("records = %d, want 27", len(recs))
	}
	s := statsOf(recs)
	deleted := 0
	for _, r := range recs {
		if r.User == "[deleted]" {
			deleted++
		}
		if r.Kind != "comment" || r.ParentID == "" || r.Meta["link_id"] == "" {
			t.Errorf("bad record %+v", r)
		}
	}
	if s.users != 23 || s.atLeast5 != 0 || deleted != 5 {
		t.Errorf("users = %+v, [deleted] = %d", s, deleted)
	}
	r := recs[0]
	if r.User != "DubsAli" || r.Text != "Absolutely stunning. Really love this, perfect finish IMO as well." ||
		r.Time != 1706745600 || r.Community != "woodworking" || r.ID != "kod0bkd" || r.ParentID != "t3_1afjd7n" ||
		r.Meta["link_id"] != "t3_1afjd7n" || r.Meta["score"] != "2" || r.Line != 1 {
		t.Errorf("first record = %+v", r)
	}
	lo, hi := minMaxTime(recs)
	if lo != utc("2005-12-12T05:26:28Z") || hi != utc("2024-02-01T00:00:00Z") {
		t.Errorf("date range %s … %s", time.Unix(lo, 0).UTC(), time.Unix(hi, 0).UTC())
	}
	// created_utc typed as a string in the file (record 10: "1251763200").
	if recs[10].Time != 1251763200 || recs[10].User != "tells" {
		t.Errorf("string created_utc: %+v", recs[10])
	}
	// created_utc typed as an int (record 16).
	if recs[15].Time != 1134365188 || recs[15].User != "frjo" {
		t.Errorf("int created_utc: %+v", recs[15])
	}
}

func TestRealRedditSubmissions(t *testing.T) {
	p := sharedtest.Path(t, "data/reddit/test_submissions.json")
	recs, bad := collect(t, nil, p)
	if len(bad) != 0 {
		t.Fatalf("malformed: %+v", bad)
	}
	if len(recs) != 31 {
		t.Fatalf("records = %d, want 31", len(recs))
	}
	if s := statsOf(recs); s.users != 28 || s.atLeast5 != 0 {
		t.Errorf("users = %+v", s)
	}
	for _, r := range recs {
		if r.Kind != "post" || r.Title == "" || r.Meta["score"] == "" || r.Meta["num_comments"] == "" {
			t.Errorf("bad record %+v", r)
		}
	}
	r := recs[0]
	if r.User != "nils_koe" || r.Title != "Spielt Guerreiro bei Bayern von Anfang an?" ||
		r.Text != "\n\n[View Poll](https://www.reddit.com/poll/1afwvv8)" || r.Time != 1706745600 ||
		r.Community != "kickbasemanager" || r.ID != "1afwvv8" || r.Meta["score"] != "1" || r.Meta["is_self"] != "true" {
		t.Errorf("first record = %+v (meta %v)", r, r.Meta)
	}
	lo, hi := minMaxTime(recs)
	if lo != utc("2005-06-23T18:43:53Z") || hi != utc("2024-02-01T00:00:00Z") {
		t.Errorf("date range %s … %s", time.Unix(lo, 0).UTC(), time.Unix(hi, 0).UTC())
	}
}

func TestRealBlogger(t *testing.T) {
	dir := sharedtest.Path(t, "data/blogger")
	recs, bad := collect(t, nil, dir)
	if len(bad) != 0 {
		t.Fatalf("malformed: %+v", bad[:min(3, len(bad))])
	}
	if len(recs) != 15155 {
		t.Fatalf("posts = %d, want 15155", len(recs))
	}
	files := map[string]bool{}
	undated := 0
	for _, r := range recs {
		files[r.File] = true
		if r.Time == 0 {
			undated++
		}
		if r.Meta["gender"] == "" || r.Meta["age"] == "" || r.Meta["industry"] == "" || r.Meta["sign"] == "" {
			t.Fatalf("meta missing: %+v", r)
		}
		if strings.Contains(r.Text, "urlLink") || strings.Contains(r.Text, "&nbsp;") || !utf8.ValidString(r.Text) ||
			strings.Contains(r.Text, "  ") || strings.TrimSpace(r.Text) != r.Text {
			t.Fatalf("artefact left in %s:%d: %q", r.File, r.Line, r.Text)
		}
	}
	if len(files) != 195 {
		t.Errorf("files = %d, want 195", len(files))
	}
	if s := statsOf(recs); s.users != 195 || s.atLeast5 != 180 {
		t.Errorf("users = %+v, want 195/180", s)
	}
	// The README counts 219 dates not parsing as English DD,Month,YYYY, 24 of
	// them empty; the others have French/Spanish month names, which parse here.
	if undated != 24 {
		t.Errorf("posts without a date = %d, want 24 (the empty <date>,,</date>)", undated)
	}
	lo, hi := minMaxTime(recs)
	if lo != utc("2000-12-04T00:00:00Z") || hi != utc("2004-08-13T00:00:00Z") {
		t.Errorf("date range %s … %s", time.Unix(lo, 0).UTC(), time.Unix(hi, 0).UTC())
	}
	r := recs[0]
	if filepath.Base(r.File) != "1000331.female.37.indUnk.Leo.xml" || r.User != "1000331" || r.Line != 4 ||
		r.Time != utc("2004-05-31T00:00:00Z") || r.Meta["gender"] != "female" || r.Meta["age"] != "37" ||
		r.Meta["industry"] != "indUnk" || r.Meta["sign"] != "Leo" ||
		!strings.HasPrefix(r.Text, "Well, everyone got up and going this morning. It's still raining, but that's okay with me. Sort of suits") ||
		!strings.Contains(r.Text, `"Old Testament" city on CBC Radio One last week`) {
		t.Errorf("first post = %+v", r)
	}
	find := func(file, sub string) tasks.Record {
		t.Helper()
		for _, r := range recs {
			if filepath.Base(r.File) == file && strings.Contains(r.Text, sub) {
				return r
			}
		}
		t.Errorf("%s: no post contains %q", file, sub)
		return tasks.Record{}
	}
	// Latin-1 / CP1252 bytes decode to the right characters.
	find("1004904.male.23.Arts.Capricorn.xml", "Gael García Bernal")       // 0xED
	find("1008329.female.16.Student.Pisces.xml", "HoLa. ¿Como estas?")     // 0xBF
	find("1034874.female.43.Publishing.Capricorn.xml", "Don’t worry")      // 0x92
	find("1044338.female.23.Student.Leo.xml", "state “This place is spec") // 0x93
	find("1045316.male.27.Non-Profit.Capricorn.xml", "Nov. 22 — The Federal")
	// HTML entities.
	if r := find("106738.male.25.Internet.Leo.xml", "µ"); r.Line == 0 {
		t.Log("numeric entity")
	}
	for _, r := range recs {
		if strings.Contains(r.Text, "&quot;") || strings.Contains(r.Text, "&amp;") || strings.Contains(r.Text, "&#181;") {
			t.Errorf("entity left in %s:%d", r.File, r.Line)
		}
	}
}
