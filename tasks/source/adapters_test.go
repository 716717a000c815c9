package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/tasks"
)

// parse runs adapter a over s (named name) and returns what it produced.
func parse(t testing.TB, a Adapter, name, s string) ([]tasks.Record, []tasks.Malformed) {
	t.Helper()
	var recs []tasks.Record
	var bad []tasks.Malformed
	err := a.Parse(context.Background(), Input{Reader: strings.NewReader(s), Name: name},
		func(r tasks.Record) error { recs = append(recs, r); return nil },
		func(m tasks.Malformed) { bad = append(bad, m) })
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return recs, bad
}

func mustByName(t testing.TB, name string, opts Options) Adapter {
	t.Helper()
	a, err := ByName(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestDetectRealFiles(t *testing.T) {
	cases := map[string]string{
		"data/amazon/reviews_Musical_Instruments_5.json.gz":         "amazon",
		"data/twitter/congresstweets_automator_test_tweets.json.gz": "twitter",
		"data/reddit/submission_2019.csv.gz":                        "reddit",
		"data/reddit/test_comments.json":                            "reddit",
		"data/reddit/test_submissions.json":                         "reddit",
		"data/blogger/1000331.female.37.indUnk.Leo.xml":             "blogger",
		"data/blogger/1004904.male.23.Arts.Capricorn.xml":           "blogger",
	}
	for rel, want := range cases {
		p := sharedtest.Path(t, rel)
		err := Open([]string{p}, func(in Input) error {
			head, _, err := Peek(in.Reader, 64<<10)
			if err != nil {
				return err
			}
			a, err := Detect(in.Name, head, Adapters(Options{}))
			if err != nil {
				return err
			}
			if a.Name() != want {
				t.Errorf("%s: detected %s, want %s", rel, a.Name(), want)
			}
			return nil
		}, nil)
		if err != nil {
			t.Error(err)
		}
	}
	// Every blogger file, with a name that says nothing.
	dir := sharedtest.Path(t, "data/blogger")
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if a, err := Detect("renamed.txt", b[:min(len(b), 64<<10)], Adapters(Options{})); err != nil || a.Name() != "blogger" {
			t.Errorf("%s: %v %v", f, a, err)
		}
	}
}

func TestDetectUnrecognised(t *testing.T) {
	dir := t.TempDir()
	p := write(t, filepath.Join(dir, "mystery.dat"), []byte("hello world\nthis is not a log\n"))
	_, _, err := Collect(context.Background(), []string{p}, Adapters(Options{}), nil)
	if err == nil || !strings.Contains(err.Error(), "mystery.dat") || !strings.Contains(err.Error(), "not recognised") {
		t.Fatalf("err = %v", err)
	}
	for _, head := range []string{"", `{"foo":1}`, `[1,2]`, "a,b\n1,2\n", "<html></html>"} {
		if a, err := Detect("x", []byte(head), Adapters(Options{})); err == nil {
			t.Errorf("%q detected as %s", head, a.Name())
		}
	}
}

func TestByName(t *testing.T) {
	for _, n := range []string{"reddit", "twitter", "blogger", "amazon", "Reddit"} {
		if a, err := ByName(n, Options{}); err != nil || a.Name() != strings.ToLower(n) {
			t.Errorf("%s: %v %v", n, a, err)
		}
	}
	if _, err := ByName("jsonl", Options{}); err == nil {
		t.Error("jsonl without mapping accepted")
	}
	if _, err := ByName("myspace", Options{}); err == nil || !strings.Contains(err.Error(), "myspace") {
		t.Errorf("unknown: %v", err)
	}
	if got := len(Adapters(Options{})); got != 4 {
		t.Errorf("adapters = %d", got)
	}
	if got := len(Adapters(Options{JSONL: JSONLMapping{User: "u", Text: "t"}})); got != 5 {
		t.Errorf("adapters with jsonl = %d", got)
	}
}

func TestRedditNDJSONMalformedAndTypes(t *testing.T) {
	in := `{"author":"a","subreddit":"s","created_utc":1706745600,"id":"p1","title":"Title one","selftext":"Body one","score":5,"num_comments":"3","is_self":true,"over_18":false,"stickied":false,"distinguished":null}
{"author":"b","subreddit":"s","created_utc":"1706745601","id":"c1","body":"reply","parent_id":"t3_p1","link_id":"t3_p1","score":-2,"distinguished":"moderator"}
this is not json
{"author":"c","subreddit":"s","created_utc":1.706745602E9,"id":12345,"body":"[deleted]","parent_id":"t3_later","link_id":"t3_later"}

{"subreddit":"s","created_utc":1,"id":"x","body":"no author"}
{"author":"d","subreddit":"s","created_utc":1,"id":"y","link_id":"t3_p1","parent_id":"t3_p1"}
{"author":"e","subreddit":"s","created_utc":"garbage","id":"later","title":"Later post","selftext":"[removed]"}
{"author":"f","subreddit":"s","created_utc":1, "id":
`
	a := mustByName(t, "reddit", Options{})
	recs, bad := parse(t, a, "r.json", in)
	if len(recs) != 4 || len(bad) != 4 {
		t.Fatalf("recs %d bad %d: %+v", len(recs), len(bad), bad)
	}
	wantBad := []struct {
		line int
		err  string
	}{{3, "invalid JSON"}, {6, "missing field author"}, {7, "missing field body"}, {9, "invalid JSON"}}
	for i, w := range wantBad {
		if bad[i].Line != w.line || !strings.Contains(bad[i].Err, w.err) || bad[i].File != "r.json" || bad[i].Excerpt == "" {
			t.Errorf("bad[%d] = %+v, want line %d %q", i, bad[i], w.line, w.err)
		}
	}
	p, c, d, e := recs[0], recs[1], recs[2], recs[3]
	if p.Kind != "post" || p.Title != "Title one" || p.Text != "Body one" || p.Time != 1706745600 ||
		p.Meta["score"] != "5" || p.Meta["num_comments"] != "3" || p.Meta["is_self"] != "true" || p.Meta["over_18"] != "false" ||
		p.Meta["stickied"] != "false" || p.Meta["distinguished"] != "" || p.Line != 1 {
		t.Errorf("post %+v", p)
	}
	if c.Kind != "comment" || c.Time != 1706745601 || c.ParentID != "t3_p1" || c.ParentText != "Title one\nBody one" ||
		c.Meta["score"] != "-2" || c.Meta["distinguished"] != "moderator" || c.Meta["link_id"] != "t3_p1" || c.Line != 2 {
		t.Errorf("comment %+v", c)
	}
	if d.ID != "12345" || d.Time != 1706745602 || d.Text != "[deleted]" || d.ParentText != "" || d.Line != 4 {
		t.Errorf("numeric id / float time / deleted: %+v", d)
	}
	if e.Time != 0 || e.Text != "[removed]" {
		t.Errorf("bad time: %+v", e)
	}
	// The parent came after its child: JoinParents resolves it.
	if n := JoinParents(recs); n != 1 || recs[2].ParentText != "Later post" {
		t.Errorf("JoinParents = %d, %q", n, recs[2].ParentText)
	}
}

func TestRedditParentCacheBounded(t *testing.T) {
	a := newRedditCache(4)
	var b strings.Builder
	for i := 0; i < 10; i++ {
		b.WriteString(`{"author":"a","subreddit":"s","created_utc":1,"id":"p` + string(rune('0'+i)) + `","title":"T` + string(rune('0'+i)) + `"}` + "\n")
	}
	b.WriteString(`{"author":"b","subreddit":"s","created_utc":1,"id":"c","body":"x","parent_id":"t3_p0"}` + "\n")
	b.WriteString(`{"author":"b","subreddit":"s","created_utc":1,"id":"c","body":"x","parent_id":"t3_p9"}` + "\n")
	recs, _ := parse(t, a, "x", b.String())
	if recs[10].ParentText != "" || recs[11].ParentText != "T9" {
		t.Errorf("evicted %q, recent %q", recs[10].ParentText, recs[11].ParentText)
	}
	if len(a.cur)+len(a.old) > 4 {
		t.Errorf("cache holds %d", len(a.cur)+len(a.old))
	}
	// Disabled cache.
	recs, _ = parse(t, newRedditCache(-1), "x", b.String())
	if recs[11].ParentText != "" {
		t.Error("cache disabled but filled")
	}
}

func TestRedditCSV(t *testing.T) {
	in := "\ufeffid,subreddit,author,created_utc,title,selftext,score,num_comments\r\n" +
		"p1,AskReddit,alice,1546302005,\"A title, with comma\",\"line one\nline \"\"two\"\"\",10,4\r\n" +
		"p2,AskReddit,,1546302006,no author,,1,1\r\n" +
		"p3,AskReddit,bob,2019-01-01T00:00:07Z,Plain,,1,0\r\n" +
		"\r\n" +
		"p4,AskReddit,carol,1546302008,,,1,0\r\n" +
		"p5,AskReddit,dave,1546302009,Last caf\xe9,,,\r\n"
	a := mustByName(t, "reddit", Options{})
	if !a.Detect("x.csv", []byte(in)) {
		t.Fatal("not detected")
	}
	recs, bad := parse(t, a, "x.csv", in)
	if len(recs) != 3 || len(bad) != 2 {
		t.Fatalf("recs %+v bad %+v", recs, bad)
	}
	r := recs[0]
	if r.ID != "p1" || r.User != "alice" || r.Community != "AskReddit" || r.Time != 1546302005 || r.Title != "A title, with comma" ||
		r.Text != "line one\nline \"two\"" || r.Meta["score"] != "10" || r.Meta["num_comments"] != "4" || r.Line != 2 || r.Kind != "post" {
		t.Errorf("multiline row %+v", r)
	}
	if bad[0].Line != 4 || !strings.Contains(bad[0].Err, "author") || bad[1].Line != 7 || !strings.Contains(bad[1].Err, "title") {
		t.Errorf("bad %+v", bad)
	}
	if recs[1].Time != 1546300807 || recs[1].Line != 5 {
		t.Errorf("RFC3339 time / line: %+v", recs[1])
	}
	if recs[2].Title != "Last café" {
		t.Errorf("latin-1 cell: %q", recs[2].Title)
	}
	// A comments export.
	cin := "id,subreddit,author,created_utc,body,parent_id,link_id,score\n" +
		"c1,s,eve,1,\"nice\npost\",t3_p1,t3_p1,3\n"
	recs, bad = parse(t, a, "c.csv", cin)
	if len(recs) != 1 || len(bad) != 0 || recs[0].Kind != "comment" || recs[0].Text != "nice\npost" ||
		recs[0].ParentID != "t3_p1" || recs[0].ParentText != "A title, with comma\nline one\nline \"two\"" {
		t.Errorf("comments csv: %+v %+v", recs, bad)
	}
}

func TestTwitterNDJSONAndArray(t *testing.T) {
	line := `{"created_at":"Tue Jun 13 20:44:06 +0000 2017","id":1,"id_str":"1","text":"short","extended_tweet":{"full_text":"the long text"},"user":{"id":7,"screen_name":"sn","name":"N","description":"d","location":"here","followers_count":12,"verified":true},"lang":"en","in_reply_to_status_id_str":"99"}`
	rt := `{"created_at":"Tue Jun 13 20:44:07 +0000 2017","id_str":"2","full_text":"RT @x: hi","retweeted_status":{"id":3},"user":{"id_str":"8"}}`
	a := mustByName(t, "twitter", Options{})
	recs, bad := parse(t, a, "t.jsonl", line+"\n"+rt+"\n{bad\n"+`{"created_at":"x","id_str":"4","user":{"id_str":"9"}}`+"\n")
	if len(recs) != 2 || len(bad) != 2 || bad[0].Line != 3 || bad[1].Line != 4 || !strings.Contains(bad[1].Err, "text") {
		t.Fatalf("recs %+v bad %+v", recs, bad)
	}
	r := recs[0]
	if r.Text != "the long text" || r.User != "7" || r.UserName != "sn" || r.Time != 1497386646 || r.Meta["followers"] != "12" ||
		r.Meta["verified"] != "true" || r.Meta["description"] != "d" || r.Meta["location"] != "here" || r.Meta["name"] != "N" ||
		r.Meta["in_reply_to_status_id_str"] != "99" || r.Meta["retweet"] != "" {
		t.Errorf("tweet %+v", r)
	}
	if recs[1].Meta["retweet"] != "true" || recs[1].User != "8" {
		t.Errorf("retweet %+v", recs[1])
	}
	// Array, one element per few lines; a non-object element and a
	// truncated tail.
	arr := "[\n" + line + ",\n\n  " + rt + ",\n 42,\n" + `{"created_at":"Tue Jun 13 20:44:08 +0000 2017","full_text":"no user"}` + ",\n" + line[:40]
	if !a.Detect("t.json", []byte(arr)) {
		t.Fatal("array not detected")
	}
	recs, bad = parse(t, a, "t.json", arr)
	if len(recs) != 2 || recs[0].Line != 2 || recs[1].Line != 4 {
		t.Errorf("array recs %+v", recs)
	}
	if len(bad) != 3 || bad[0].Line != 5 || bad[1].Line != 6 || !strings.Contains(bad[1].Err, "user") || bad[2].Line < 6 {
		t.Errorf("array bad %+v", bad)
	}
}

func TestTwitterCSV(t *testing.T) {
	in := "id,username,name,date,time,tweet,language,retweet\n" +
		"11,@alice,Alice A,2020-05-01,12:30:00,\"hello, world\",en,False\n" +
		"12,bob,,2020-05-01 13:00:00,,RT @alice: hello,en,\n" +
		"13,,,2020-05-01,,orphan,en,\n" +
		"14,carol,,Fri May 01 14:00:00 +0000 2020,,\"multi\nline\",en,True\n"
	a := mustByName(t, "twitter", Options{})
	if !a.Detect("x.csv", []byte(in)) {
		t.Fatal("not detected")
	}
	if got, err := Detect("x.csv", []byte(in), Adapters(Options{})); err != nil || got.Name() != "twitter" {
		t.Fatalf("auto: %v %v", got, err)
	}
	recs, bad := parse(t, a, "x.csv", in)
	if len(recs) != 3 || len(bad) != 1 || bad[0].Line != 4 {
		t.Fatalf("recs %+v bad %+v", recs, bad)
	}
	if r := recs[0]; r.User != "alice" || r.UserName != "alice" || r.Text != "hello, world" || r.Time != 1588336200 ||
		r.Meta["name"] != "Alice A" || r.Meta["lang"] != "en" || r.Meta["retweet"] != "" || r.ID != "11" {
		t.Errorf("row 1 %+v", r)
	}
	if r := recs[1]; r.Time != 1588338000 || r.Meta["retweet"] != "true" {
		t.Errorf("row 2 %+v", r)
	}
	if r := recs[2]; r.Time != 1588341600 || r.Text != "multi\nline" || r.Meta["retweet"] != "true" || r.Line != 5 {
		t.Errorf("row 4 %+v", r)
	}
	// Unix time and user_id fallback.
	recs, _ = parse(t, a, "y.csv", "user_id,text,created_at\n42,hi,1588341600000\n")
	if len(recs) != 1 || recs[0].User != "42" || recs[0].Time != 1588341600 {
		t.Errorf("%+v", recs)
	}
}

func TestAmazonSchemas(t *testing.T) {
	in := strings.Join([]string{
		// 2014
		`{"reviewerID": "R1", "asin": "B001", "reviewerName": "Ann", "helpful": [2, 3], "reviewText": "Works.", "overall": 4.0, "summary": "ok", "unixReviewTime": 1393545600, "reviewTime": "02 28, 2014"}`,
		// 2014 without unixReviewTime
		`{"reviewerID": "R2", "asin": "B002", "reviewText": "Fine.", "overall": "5", "summary": "", "reviewTime": "12 1, 2013"}`,
		// 2018
		`{"overall": 5.0, "vote": "1,234", "verified": true, "reviewTime": "01 5, 2018", "reviewerID": "R3", "asin": "B003", "style": {"Size:": " Large", "Color:": " Red"}, "reviewerName": "Bo", "reviewText": "Great.", "summary": "Five Stars", "unixReviewTime": 1515110400, "image": ["a.jpg", "b.jpg"]}`,
		// 2023
		`{"rating": 3.0, "title": "Meh", "text": "It is meh.", "images": [], "asin": "B004X", "parent_asin": "B004", "user_id": "U4", "timestamp": 1588687728923, "helpful_vote": 7, "verified_purchase": false}`,
		// missing text / user
		`{"reviewerID": "R5", "asin": "B005", "overall": 1.0}`,
		`{"user_id": "", "parent_asin": "B006", "text": "x", "rating": 1}`,
		`not json`,
	}, "\n")
	metaPy := "{'asin': 'B001', 'title': 'Fender \\'Strat\\' Picks', 'price': 3.17, 'salesRank': {'Musical Instruments': 1}, 'categories': [['Musical Instruments', 'Picks'], ['Gifts']], 'related': {'also_bought': ('a', 'b')}, 'flag': True, 'x': None}\n" +
		`{"asin": "B003", "title": "Strings", "main_cat": "Musical Instruments", "category": ["Musical Instruments", "Strings"]}` + "\n" +
		`{"parent_asin": "B004", "title": "Tuner", "main_category": "All Electronics", "categories": ["Electronics", "Tuners"]}` + "\n" +
		"{'asin': broken\n"
	dir := t.TempDir()
	mp := write(t, filepath.Join(dir, "meta.json.gz"), gz(t, []byte(metaPy), 1))
	a := mustByName(t, "amazon", Options{AmazonMeta: []string{mp}})
	if !a.Detect("r.json", []byte(in)) {
		t.Fatal("not detected")
	}
	recs, bad := parse(t, a, "r.json", in)
	if len(recs) != 4 || len(bad) != 3 {
		t.Fatalf("recs %d bad %+v", len(recs), bad)
	}
	if bad[0].Line != 5 || !strings.Contains(bad[0].Err, "reviewText") || bad[1].Line != 6 || !strings.Contains(bad[1].Err, "user") || bad[2].Line != 7 {
		t.Errorf("bad %+v", bad)
	}
	r := recs[0]
	if r.User != "R1" || r.UserName != "Ann" || r.ItemID != "B001" || r.Title != "ok" || r.Text != "Works." || r.Rating != 4 ||
		r.Time != 1393545600 || r.Meta["helpful"] != "2/3" || r.ItemTitle != "Fender 'Strat' Picks" || r.Community != "Musical Instruments" || r.Kind != "review" {
		t.Errorf("2014 %+v", r)
	}
	if r := recs[1]; r.Time != 1385856000 || r.Rating != 5 || r.ItemTitle != "" {
		t.Errorf("2014 reviewTime %+v", r)
	}
	if r := recs[2]; r.Meta["vote"] != "1234" || r.Meta["verified"] != "true" || r.Meta["style"] != "Color: Red; Size: Large" ||
		r.Meta["images"] != "2" || r.ItemTitle != "Strings" || r.Community != "Musical Instruments" || r.Time != 1515110400 {
		t.Errorf("2018 %+v", r)
	}
	if r := recs[3]; r.User != "U4" || r.ItemID != "B004" || r.Meta["asin"] != "B004X" || r.Title != "Meh" || r.Text != "It is meh." ||
		r.Rating != 3 || r.Time != 1588687728 || r.Meta["helpful_vote"] != "7" || r.Meta["verified"] != "false" ||
		r.ItemTitle != "Tuner" || r.Community != "All Electronics" {
		t.Errorf("2023 %+v", r)
	}
	// A missing metadata file is an error naming it.
	bad2 := mustByName(t, "amazon", Options{AmazonMeta: []string{filepath.Join(dir, "nope.json")}})
	err := bad2.Parse(context.Background(), Input{Reader: strings.NewReader(in), Name: "r"}, func(tasks.Record) error { return nil }, func(tasks.Malformed) {})
	if err == nil || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("missing meta: %v", err)
	}
}

func TestPyLiteral(t *testing.T) {
	cases := map[string]string{
		`{'a': 'it\'s', "b": "say \"hi\"", 'c': (1, 2.5), 'd': True, 'e': None, 'f': '\xe9\n'}`: `{"a": "it's", "b": "say \"hi\"", "c": [1, 2.5], "d": true, "e": null, "f": "\u00e9\n"}`,
		`{'q': 'a "quoted" word'}`: `{"q": "a \"quoted\" word"}`,
	}
	for in, want := range cases {
		got, err := pyLiteralToJSON([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("%s:\n got %s %v\nwant %s", in, got, err, want)
		}
	}
	for _, in := range []string{`{'a': 'open`, `{'a': foo}`} {
		if _, err := pyLiteralToJSON([]byte(in)); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
}

func TestBloggerTolerant(t *testing.T) {
	in := "<Blog>\r\n\r\n<date>02,juillet,2004</date>\r\n<post>\r\n caf\xe9 &amp; cr\xe8me &nbsp; I\x92m here &#8217; &hearts;  urlLink Google  x<y & z \r\n</post>\r" +
		"<date>31,February,2004</date>\n<POST>second\u0085line</POST>\n" +
		"<date>,,</date>\n<post>third &bogus; urlLinkfoo</post>\n" +
		"<date>1,May,2004</date>\n<post>unterminated post\n<date>2,May,2004</date>\n<post></post>\n</Blog>\n"
	a := mustByName(t, "blogger", Options{})
	name := "/x/123.male.25.Student.Aries.xml"
	if !a.Detect(name, []byte(in)) || !a.Detect("renamed", []byte(in)) {
		t.Fatal("not detected")
	}
	recs, bad := parse(t, a, name, in)
	if len(bad) != 0 || len(recs) != 5 {
		t.Fatalf("recs %+v bad %+v", recs, bad)
	}
	r := recs[0]
	if r.Text != "café & crème I’m here ’ ♥ Google x<y & z" || r.Time != 1088726400 || r.User != "123" || r.Line != 4 ||
		r.Meta["gender"] != "male" || r.Meta["age"] != "25" || r.Meta["industry"] != "Student" || r.Meta["sign"] != "Aries" || r.ID != "123/1" {
		t.Errorf("post 1 %+v", r)
	}
	if r := recs[1]; r.Text != "second line" || r.Time != 0 || r.Line != 8 {
		t.Errorf("post 2 %+v", r)
	}
	if r := recs[2]; r.Text != "third &bogus; foo" || r.Time != 0 || r.Line != 11 {
		t.Errorf("post 3 %+v", r)
	}
	if r := recs[3]; r.Text != "unterminated post" || r.Time != 1083369600 || r.Line != 13 {
		t.Errorf("post 4 %+v", r)
	}
	if r := recs[4]; r.Text != "" || r.Time != 1083456000 || r.Line != 15 {
		t.Errorf("post 5 %+v", r)
	}
	// A file name outside the corpus pattern.
	recs, _ = parse(t, a, "notes.xml", "<Blog><date>1,May,2004</date><post>x</post></Blog>")
	if len(recs) != 1 || recs[0].User != "notes" || recs[0].Meta != nil {
		t.Errorf("%+v", recs)
	}
}

func TestJSONLMapping(t *testing.T) {
	m := JSONLMapping{Name: "forum", User: "user.id", Text: "body", Time: "ts", ID: "id", Title: "subject",
		Parent: "reply_to", Kind: "=comment", Community: "board", UserName: "user.name", Rating: "stars",
		Meta: map[string]string{"karma": "user.karma", "tags": "tags"}}
	in := `{"id": 5, "user": {"id": 42, "name": "zed", "karma": 1.5}, "body": "hello", "ts": "2020-01-02T03:04:05Z", "subject": "Hi", "reply_to": "4", "board": "general", "stars": "4.5", "tags": ["a","b"]}
{"user": {"id": 43}, "ts": 1}
{"user": {}, "body": "x"}
[1,2]
null
`
	a := mustByName(t, "jsonl", Options{JSONL: m})
	if !a.Detect("f.jsonl", []byte(in)) {
		t.Fatal("not detected")
	}
	if a.Detect("f.jsonl", []byte(`{"other": 1}`)) {
		t.Fatal("detected without fields")
	}
	recs, bad := parse(t, a, "f.jsonl", in)
	if len(recs) != 1 || len(bad) != 4 {
		t.Fatalf("recs %+v bad %+v", recs, bad)
	}
	r := recs[0]
	if r.Source != "forum" || r.Kind != "comment" || r.User != "42" || r.UserName != "zed" || r.Text != "hello" ||
		r.Time != 1577934245 || r.ID != "5" || r.Title != "Hi" || r.ParentID != "4" || r.Community != "general" || r.Rating != 4.5 ||
		r.Meta["karma"] != "1.5" || r.Meta["tags"] != `["a","b"]` {
		t.Errorf("%+v", r)
	}
	if !strings.Contains(bad[0].Err, "missing field body") || !strings.Contains(bad[1].Err, "missing field user.id") || bad[1].Line != 3 {
		t.Errorf("bad %+v", bad)
	}
	// Default name.
	recs, _ = parse(t, mustByName(t, "jsonl", Options{JSONL: JSONLMapping{User: "u", Text: "t"}}), "g", `{"u":"a","t":"b"}`)
	if recs[0].Source != "jsonl" || recs[0].Kind != "post" {
		t.Errorf("%+v", recs[0])
	}
}

func TestValueHelpers(t *testing.T) {
	times := map[string]int64{
		"1706745600": 1706745600, "1706745600.0": 1706745600, "1.7067456e9": 1706745600, "1706745600123": 1706745600,
		"2024-02-01T00:00:00Z": 1706745600, "2024-02-01T01:00:00+01:00": 1706745600, "2024-02-01 00:00:00": 1706745600,
		"Thu Feb 01 00:00:00 +0000 2024": 1706745600, "02 1, 2024": 1706745600, "2024-02-01": 1706745600,
		"2024-02-01T00:00:00.123Z": 1706745600,
	}
	for s, want := range times {
		if got, ok := parseTime(s); !ok || got != want {
			t.Errorf("parseTime(%q) = %d %v, want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "soon", "31,May,2004"} {
		if _, ok := parseTime(s); ok {
			t.Errorf("parseTime(%q) ok", s)
		}
	}
	if got := fixUTF8("a\xe9b\x80\x81c\xe2\x80\x99"); got != "aéb€c’" {
		t.Errorf("fixUTF8 = %q", got)
	}
	if n, ok := parseNumber("1,234"); !ok || n != 1234 {
		t.Error(n)
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("stop")
	for _, c := range []struct{ name, in string }{
		{"reddit", ndjson3},
		{"reddit", "id,subreddit,author,title\n1,s,a,t\n2,s,b,t\n"},
		{"twitter", `[{"created_at":"x","id_str":"1","full_text":"a","user":{"id_str":"1"}},{"created_at":"x","id_str":"1","full_text":"a","user":{"id_str":"1"}}]`},
		{"blogger", "<Blog><post>a</post><post>b</post></Blog>"},
		{"amazon", `{"reviewerID":"a","reviewText":"b"}` + "\n" + `{"reviewerID":"a","reviewText":"b"}`},
	} {
		n := 0
		err := mustByName(t, c.name, Options{}).Parse(context.Background(), Input{Reader: strings.NewReader(c.in), Name: "x"},
			func(tasks.Record) error { n++; return stop }, func(tasks.Malformed) {})
		if err != stop || n != 1 {
			t.Errorf("%s: err %v after %d", c.name, err, n)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := mustByName(t, "reddit", Options{}).Parse(ctx, Input{Reader: strings.NewReader(strings.Repeat(ndjson3, 1000)), Name: "x"},
		func(tasks.Record) error { return nil }, func(tasks.Malformed) {})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// The parent cache matches a comment's parent_id "t3_<id>" with a
// submission whose id is "<id>" or "t3_<id>", and nothing else.
func TestRedditParentCacheKeys(t *testing.T) {
	a := newRedditCache(16)
	a.remember("p1", "one", "")
	a.remember("t3_p2", "two", "")
	a.remember("t3_t3_p3", "three", "")
	for parent, want := range map[string]string{"t3_p1": "one", "t3_p2": "two", "t3_t3_p2": "", "t3_t3_p3": "three",
		"t3_p3": "", "p1": "", "t1_p1": "", "t3_": "", "": ""} {
		if got := a.lookup(parent); got != want {
			t.Errorf("lookup(%q) = %q, want %q", parent, got, want)
		}
	}
}
