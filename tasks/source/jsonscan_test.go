package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/tasks"
)

// fastDecoder is a record type with a checking fast-path decoder.
type fastDecoder[T any] interface {
	*T
	decodeFast([]byte) bool
}

// checkFast holds a fast path to encoding/json: when decodeFast accepts
// raw, json.Unmarshal accepts it too with the same result.
func checkFast[T any, P fastDecoder[T]](t *testing.T, raw []byte) bool {
	t.Helper()
	var fast, slow T
	ok := P(&fast).decodeFast(raw)
	err := json.Unmarshal(raw, &slow)
	if ok {
		if err != nil {
			t.Fatalf("decodeFast accepted %q, json.Unmarshal: %v", raw, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("decodeFast(%q) = %+v, json.Unmarshal %+v", raw, fast, slow)
		}
	}
	return ok
}

func checkAmazonFast(t *testing.T, line []byte) bool {
	t.Helper()
	return checkFast[amazonJSON](t, line)
}

func checkTwitterFast(t *testing.T, raw []byte) bool { t.Helper(); return checkFast[tweetJSON](t, raw) }

// TestAmazonFastPathRealData: every review of the shared sample takes the
// fast path, with encoding/json's result.
func TestAmazonFastPathRealData(t *testing.T) {
	zr := sharedtest.OpenGzip(t, "data/amazon/reviews_Musical_Instruments_5.json.gz")
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		n++
		if !checkAmazonFast(t, sc.Bytes()) {
			t.Fatalf("line %d: fast path declined %q", n, sc.Bytes())
		}
	}
	if n < 10000 {
		t.Fatalf("%d reviews", n)
	}
}

var amazonFastSeeds = []string{
	`{"reviewerID": "A2IBPI20UZIR0U", "asin": "1384719342", "reviewerName": "cassandra tu \"Yeah, well, that's just like, u...", "helpful": [0, 0], "reviewText": "Not much to write about here", "overall": 5.0, "summary": "good", "unixReviewTime": 1393545600, "reviewTime": "02 28, 2014"}`,
	`{"user_id":"U1","parent_asin":"P","asin":"A","rating":4,"title":"t","text":"x\u00e9\n","timestamp":1700000000000,"helpful_vote":3,"verified_purchase":true,"images":[{"u":1},{}]}`,
	`{"reviewerID":"a","reviewText":"b","style":{"Size:":" Large","Color:":"Red"},"image":["x","y"],"vote":"1,234","verified":false}`,
	`{"reviewerID":"a","reviewerID":"b","helpful":[1,2],"helpful":null,"reviewText":null,"reviewText":"c"}`,
	`{"ReviewerID":"a","reviewText":"b"}`, `{"reviewerid":"a","reviewtext":"b"}`, `{"re\u0076iewerID":"a"}`,
	`{"reviewerID":"a","helpful":"3/4"}`, `{"reviewerID":"a","helpful":[[1],{"a":[]},"x",-0.5e+3,true,null]}`,
	`{"reviewerID":1e5,"overall":-0,"unixReviewTime":"1393545600"}`, ` {"asin" : "x" } `, `{}`, `[]`, `{"a":01}`,
	`{"a":1.}`, `{"a":"\x"}`, `{"a":"` + "\x01" + `"}`, `{"a":"\xff\xfe"}`, `{"reviewText":"\xff"}`, `{"a":tru}`,
	`{"a":1}x`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":[1,]}`, `{"a":{"b":1,}}`, `{"\u212aey":1,"ſummary":2}`,
	`{"summary":"\ud800"}`, `{"style":"notamap","image":3,"images":null}`,
}

func FuzzAmazonFastPath(f *testing.F) {
	for _, s := range amazonFastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		checkAmazonFast(t, line)
	})
}

// FuzzUnquoteJSON: wherever json.Unmarshal reads a string literal,
// unquoteJSON reads the same string.
func FuzzUnquoteJSON(f *testing.F) {
	for _, s := range []string{`""`, `"abc"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u20AC\ud83d\ude00"`, `"\ud800"`,
		`"\ud800\u0041"`, `"\udc00\ud800"`, "\"\xff\xc3(\"", `"\u12"`, `"\x"`, "\"a\x01\"", `"caf\u00e9 \"ok\" \ud83d"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		if json.Unmarshal(b, &want) != nil || len(b) == 0 || b[0] != '"' {
			return
		}
		got, ok := unquoteJSON(bytes.TrimSpace(b))
		if !ok || got != want {
			t.Fatalf("unquoteJSON(%q) = %q, %v; json.Unmarshal %q", b, got, ok, want)
		}
	})
}

// TestTwitterFastPathRealData: every tweet of the shared sample (a JSON
// array of API v1.1 objects) takes the fast path, with encoding/json's
// result.
func TestTwitterFastPathRealData(t *testing.T) {
	zr := sharedtest.OpenGzip(t, "data/twitter/congresstweets_automator_test_tweets.json.gz")
	var tweets []json.RawMessage
	if err := json.NewDecoder(zr).Decode(&tweets); err != nil {
		t.Fatal(err)
	}
	users := 0
	for i, raw := range tweets {
		if !checkTwitterFast(t, raw) {
			t.Fatalf("tweet %d: fast path declined %.300q", i, raw)
		}
		var tw tweetJSON
		tw.decodeFast(raw)
		if tw.User != nil && tw.User.IDStr.present() {
			users++
		}
	}
	if len(tweets) != 750 || users != 750 {
		t.Fatalf("%d tweets, %d with a user id", len(tweets), users)
	}
}

var twitterFastSeeds = []string{
	`{"created_at":"Tue Jun 13 20:44:06 +0000 2017","id":874729112040079400,"id_str":"874729112040079360","full_text":"It is time\nhttps://t.co/x","entities":{"hashtags":[],"urls":[{"url":"https://t.co/x","indices":[108,131]}]},"in_reply_to_status_id":null,"in_reply_to_status_id_str":null,"user":{"id":12788332,"id_str":"12788332","name":"Ways and Means","screen_name":"WaysandMeansGOP","location":"Washington, D.C.","description":"Oldest \"House\" committee","entities":{"url":{"urls":[]}},"followers_count":30637,"verified":true},"lang":"en"}`,
	`{"created_at":"x","text":"RT @a: b","retweeted_status":{"id":1,"user":{"id":2}},"user":{"id":5},"extended_tweet":{"full_text":"long \u00e9 text","display_text_range":[0,3]}}`,
	`{"text":"a","user":{"id_str":"1"},"user":{"name":"n"}}`, `{"text":"a","user":{"id_str":"1"},"user":null,"user":{"id":2}}`,
	`{"text":"a","user":"bob"}`, `{"text":"a","user":[1]}`, `{"text":"a","user":{"ID_str":"1"}}`, `{"Text":"a"}`,
	`{"text":"a","extended_tweet":3}`, `{"text":"a","extended_tweet":{"Full_text":"b"}}`, `{"text":"a","extended_tweet":null}`,
	`{"text":"a","extended_tweet":{"full_text":"b"},"extended_tweet":{}}`, `{"retweeted_status":null,"text":null}`,
	`{"retweeted_status":false,"full_text":"\ud800x","lang":["en"],"in_reply_to_status_id":123}`, `{"us\u0065r":{}}`,
	`{"user":{"n\u0061me":"x"}}`, `{"user":{"name":"a",}}`, `{"user":{"name":"a"}`, `{"user":{"name":"a"}}}`,
	`{"user":{"followers_count":-1.5e3,"verified":false,"description":{"a":[1, 2]}}}`, `{"ſcreen_name":1}`,
	`{"user":{"ſcreen_name":"a","\u212a":1}}`, ` { "text" : "a" , "user" : { } } `, `{}`, `[]`, `{"text":"\xff"}`,
}

func FuzzTwitterFastPath(f *testing.F) {
	for _, s := range twitterFastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkTwitterFast(t, raw)
	})
}

// parseNumberOracle is parseNumber as it was: ParseInt tried on every
// string first.
func parseNumberOracle(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if strings.IndexByte(s, ',') >= 0 {
		s = strings.ReplaceAll(s, ",", "")
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return float64(i), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// FuzzParseNumber holds parseNumber (which skips ParseInt where it must
// fail) to the oracle, bit for bit.
func FuzzParseNumber(f *testing.F) {
	bits := func(parse func(string) (float64, bool)) func(string) (uint64, bool) {
		return func(s string) (uint64, bool) {
			v, ok := parse(s)
			return math.Float64bits(v), ok
		}
	}
	fuzzOracle(f, "parseNumber", bits(parseNumber), bits(parseNumberOracle),
		"", "5.0", "42", "-7", "+3", "1,234", " 9 ", "1e9", "0x10", "1_000", "9223372036854775808", "-", "+", "NaN", "inf", "١٢")
}

// fuzzOracle fuzzes a parser of strings against its oracle (the code it
// replaced), from the seeds.
func fuzzOracle[T comparable](f *testing.F, name string, got, want func(string) (T, bool), seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, gok := got(s)
		w, wok := want(s)
		if g != w || gok != wok {
			t.Fatalf("%s(%q) = %v %v, want %v %v", name, s, g, gok, w, wok)
		}
	})
}

// FuzzFoldsToField holds foldsToField (which compares an ASCII key only
// with the fields of its length) to bytes.EqualFold with every field.
func FuzzFoldsToField(f *testing.F) {
	for _, s := range []string{"", "text", "TEXT", "Full_Text", "ſcreen_name", "\u212Aey", "id", "ID_STR", "x\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		for _, fields := range [][]string{amazonFields, tweetFields, tweetUserFields, tweetExtendedFields} {
			want := false
			for _, fl := range fields {
				want = want || bytes.EqualFold([]byte(key), []byte(fl))
			}
			if got := foldsToField([]byte(key), fields); got != want {
				t.Fatalf("foldsToField(%q, %v) = %v, want %v", key, fields, got, want)
			}
		}
	})
}

// parseTimeOracle is parseTime trying every layout in order.
func parseTimeOracle(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if c := s[0]; c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' {
		if f, ok := parseNumber(s); ok && strings.IndexByte(s, ',') < 0 {
			return unixFromNumber(f), true
		}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

// FuzzParseTime holds parseTime (which tries only the layouts whose first
// element can match the first byte) to trying them all.
func FuzzParseTime(f *testing.F) {
	fuzzOracle(f, "parseTime", parseTime, parseTimeOracle,
		"", "Tue Jun 13 20:44:06 +0000 2017", "2017-06-13T20:44:06Z", "2017-06-13 20:44:06",
		"02 28, 2014", "2 28, 2014", "January 2, 2006", "Jan 2, 2006", "2 January 2006", "01/02/2006 15:04",
		"2006/01/02", "Mon, 02 Jan 2006 15:04:05 -0700", "Monday, 02-Jan-06 15:04:05 MST", "Mon Jan  2 15:04:05 MST 2006",
		"mon jan 2 15:04:05 2006", "1546302005", "+2017-06-13", " 2017-06-13 ", "_2 Jan", "٢٠١٧-06-13", "\xff2017")
}

// The Amazon fields decodeFast only views in the line (rating, times,
// helpful) leave nothing of it in the records: records parsed from a long
// stream, whose line buffer is refilled many times, equal those parsed one
// line at a time.
func TestAmazonRecordsOwnTheirBytes(t *testing.T) {
	var all bytes.Buffer
	var lines []string
	for i := range 600 {
		l := fmt.Sprintf(`{"reviewerID": "U%d", "asin": "I%d", "reviewerName": "n%d", "helpful": [%d, %d], "reviewText": "text %d %s", "overall": %d.0, "summary": "s%d", "unixReviewTime": %d, "reviewTime": "0%d 2%d, 2014", "vote": "1,%03d", "verified": true}`,
			i, i%7, i, i%5, i%3+i, i, strings.Repeat("w", i%50), i%5+1, i, 1393545600+i*86400, i%9+1, i%9, i)
		if i%4 == 0 {
			l = strings.Replace(l, `"unixReviewTime": `, `"unixReviewTimeX": `, 1) // the time from reviewTime
		}
		lines = append(lines, l)
		all.WriteString(l + "\n")
	}
	parse := func(s string) []tasks.Record {
		var recs []tasks.Record
		err := mustByName(t, "amazon", Options{}).Parse(context.Background(), Input{Reader: strings.NewReader(s), Name: "a"},
			func(r tasks.Record) error { recs = append(recs, r); return nil }, func(m tasks.Malformed) { t.Errorf("bad %v", m) })
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	got := parse(all.String())
	if len(got) != len(lines) {
		t.Fatalf("%d records", len(got))
	}
	for i, l := range lines {
		want := parse(l + "\n")
		want[0].Line = i + 1
		if !reflect.DeepEqual(got[i], want[0]) {
			t.Fatalf("line %d:\n got %+v\nwant %+v", i+1, got[i], want[0])
		}
		if got[i].Time == 0 || got[i].Rating == 0 || got[i].Meta["helpful"] == "" {
			t.Fatalf("line %d: fields not read: %+v", i+1, got[i])
		}
	}
}
