package source

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/humanllm/humanllm/tasks"
)

// Seed corpora: testdata/fuzz/FuzzXxx/ holds small excerpts of the real
// samples in the shared data folder (the start of a real file cut at a
// record boundary, or one real record: a Latin-1 blog post, one with
// numeric entities, Reddit lines with string and int created_utc), plus any
// input a fuzzer found failing.

// fuzzParse runs a over data and checks the adapter contracts: no panic, no
// error other than from the input as a whole, and sane records.
func fuzzParse(t *testing.T, a Adapter, name string, data []byte) {
	// A watchdog turns a hang into a crash the fuzzer records.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			panic(fmt.Sprintf("%s: parse of %d bytes took over 5s", a.Name(), len(data)))
		}
	}()
	lines := strings.Count(string(data), "\n") + strings.Count(string(data), "\r") + strings.Count(string(data), "\u0085") + 1
	err := a.Parse(context.Background(), Input{Reader: strings.NewReader(string(data)), Name: name},
		func(r tasks.Record) error {
			if r.Source == "" || r.Kind == "" || r.File != name {
				t.Fatalf("record without source/kind/file: %+v", r)
			}
			if r.User == "" {
				t.Fatalf("record without user: %+v", r)
			}
			if r.Line < 1 || r.Line > lines {
				t.Fatalf("line %d outside 1..%d", r.Line, lines)
			}
			if a.Name() == tasks.SourceBlogger || a.Name() == tasks.SourceReddit && !strings.HasPrefix(strings.TrimSpace(string(data)), "{") {
				if !utf8.ValidString(r.Text) || !utf8.ValidString(r.Title) || !utf8.ValidString(r.User) {
					t.Fatalf("invalid UTF-8 in %+v", r)
				}
			}
			return nil
		},
		func(m tasks.Malformed) {
			if m.File != name || m.Err == "" || m.Line < 1 || m.Line > lines+1 || len(m.Excerpt) > 200 || !utf8.ValidString(m.Excerpt) {
				t.Fatalf("bad malformed report %+v (lines %d)", m, lines)
			}
		})
	_ = err // errors are allowed (e.g. a CSV header that cannot be read)
	a.Detect(name, data)
}

func FuzzReddit(f *testing.F) {
	f.Add([]byte(ndjson3))
	f.Add([]byte("id,subreddit,author,timestamp,title\nx,s,a,1,\"t\nu\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, newRedditCache(8), "f", data)
	})
}

func FuzzTwitter(f *testing.F) {
	f.Add([]byte(`[{"created_at":"Tue Jun 13 20:44:06 +0000 2017","id_str":"1","full_text":"x","user":{"id_str":"2"}}]`))
	f.Add([]byte("username,tweet,date,time\na,b,2020-01-01,10:00:00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, &twitterAdapter{}, "f", data)
	})
}

func FuzzBlogger(f *testing.F) {
	f.Add([]byte("<Blog>\r\n<date>31,May,2004</date>\r\n<post>caf\xe9 &amp; urlLink x</post>\r\n</Blog>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, &bloggerAdapter{}, "1.male.2.x.y.xml", data)
	})
}

func FuzzAmazon(f *testing.F) {
	f.Add([]byte(`{"reviewerID": "A", "asin": "B", "reviewText": "t", "overall": 5.0, "unixReviewTime": 1393545600, "helpful": [0, 0]}`))
	f.Add([]byte(`{"user_id": "U", "parent_asin": "B", "text": "t", "rating": 5, "timestamp": 1588687728923, "style": {"a": 1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, newAmazon(Options{}), "f", data)
	})
}

func FuzzJSONL(f *testing.F) {
	f.Add([]byte(`{"u": {"id": 1}, "t": "x", "ts": "2020-01-01", "m": [1]}`))
	m := JSONLMapping{User: "u.id", Text: "t", Time: "ts", Rating: "r", Kind: "k", Meta: map[string]string{"m": "m"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, &jsonlAdapter{m: m}, "f", data)
	})
}

func FuzzPyLiteral(f *testing.F) {
	f.Add([]byte(`{'asin': 'B', 'title': 'it\'s', 'categories': [['A', 'B']], 'x': (1, True, None)}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pyLiteralToJSON(data)
	})
}

func FuzzDetect(f *testing.F) {
	f.Add([]byte(ndjson3))
	f.Fuzz(func(t *testing.T, data []byte) {
		Detect("f", data, Adapters(Options{JSONL: JSONLMapping{User: "a.b", Text: "c"}}))
	})
}
