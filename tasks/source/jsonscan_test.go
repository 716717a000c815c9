package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
)

// checkAmazonFast holds the fast path to encoding/json: when decodeFast
// accepts a line, json.Unmarshal accepts it too with the same result.
func checkAmazonFast(t *testing.T, line []byte) bool {
	t.Helper()
	var fast, slow amazonJSON
	ok := fast.decodeFast(line)
	err := json.Unmarshal(line, &slow)
	if ok {
		if err != nil {
			t.Fatalf("decodeFast accepted %q, json.Unmarshal: %v", line, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("decodeFast(%q) = %+v, json.Unmarshal %+v", line, fast, slow)
		}
	}
	return ok
}

// TestAmazonFastPathRealData: every review of the shared sample takes the
// fast path, with encoding/json's result.
func TestAmazonFastPathRealData(t *testing.T) {
	f, err := os.Open(sharedtest.Path(t, "data/amazon/reviews_Musical_Instruments_5.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
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
