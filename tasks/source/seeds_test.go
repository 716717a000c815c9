package source

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
)

// TestWriteFuzzSeeds regenerates the real-data seed files under
// testdata/fuzz from the shared samples. It only runs when
// HUMANLLM_WRITE_FUZZ_SEEDS=1 (the committed seeds are its output).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("HUMANLLM_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set HUMANLLM_WRITE_FUZZ_SEEDS=1 to regenerate the seed corpora")
	}
	writeFuzzSeeds(sharedtest.Path(t, "data") + "/")
}

func seedRead(p string) []byte {
	f, _ := os.Open(p)
	defer f.Close()
	var r io.Reader = f
	if filepath.Ext(p) == ".gz" {
		r, _ = gzip.NewReader(f)
	}
	b, _ := io.ReadAll(r)
	return b
}

func seedLines(b []byte, n int) []byte {
	i := 0
	for k := 0; k < n; k++ {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return b
		}
		i += j + 1
	}
	return b[:i]
}

func seedPut(fuzz, name string, b []byte) {
	dir := filepath.Join("testdata/fuzz", fuzz)
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n[]byte("+strconv.Quote(string(b))+")\n"), 0o644)
}

func writeFuzzSeeds(d string) {
	c := seedRead(d + "reddit/test_comments.json")
	seedPut("FuzzReddit", "comments_head", seedLines(c, 3))
	s := seedRead(d + "reddit/test_submissions.json")
	seedPut("FuzzReddit", "submissions_head", seedLines(s, 2))
	// a comment line with a string created_utc (line 11), an int one (16)
	seedPut("FuzzReddit", "comments_mixed_types", append(seedLines(c, 11)[len(seedLines(c, 10)):], seedLines(c, 16)[len(seedLines(c, 15)):]...))
	seedPut("FuzzReddit", "submission_2019_csv_head", seedLines(seedRead(d+"reddit/submission_2019.csv.gz"), 25))
	tw := seedRead(d + "twitter/congresstweets_automator_test_tweets.json.gz")
	// first two array elements, array closed
	dec := 0
	depth := 0
	inStr, esc := false, false
	end := 0
	for i, ch := range tw {
		if inStr {
			if esc {
				esc = false
			} else if ch == '\\' {
				esc = true
			} else if ch == '"' {
				inStr = false
			}
			continue
		}
		switch ch {
		case '"':
			inStr = true
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				dec++
				if dec == 2 {
					end = i + 1
				}
			}
		}
		if end > 0 {
			break
		}
	}
	seedPut("FuzzTwitter", "congress_first2", append(append([]byte{}, tw[:end]...), ']'))
	seedPut("FuzzTwitter", "congress_first1_ndjson", append(append([]byte{}, tw[1:bytes.Index(tw, []byte(`},{"created_at"`))+1]...), '\n'))
	a := seedRead(d + "amazon/reviews_Musical_Instruments_5.json.gz")
	seedPut("FuzzAmazon", "musical_instruments_head", seedLines(a, 4))
	seedPut("FuzzJSONL", "musical_instruments_head", seedLines(a, 2))
	b1 := seedRead(d + "blogger/1000331.female.37.indUnk.Leo.xml")
	seedPut("FuzzBlogger", "1000331_head", b1[:bytes.Index(b1, []byte("<date>28,May"))])
	b2 := seedRead(d + "blogger/1004904.male.23.Arts.Capricorn.xml")
	i := bytes.Index(b2, []byte("Gael Garc"))
	st := bytes.LastIndex(b2[:i], []byte("<date>"))
	en := bytes.Index(b2[i:], []byte("</post>")) + i + len("</post>\r\n")
	seedPut("FuzzBlogger", "latin1_post", append(append([]byte("<Blog>\r\n"), b2[st:en]...), []byte("</Blog>\r\n")...))
	b3 := seedRead(d + "blogger/106738.male.25.Internet.Leo.xml")
	i = bytes.Index(b3, []byte("&#181;"))
	st = bytes.LastIndex(b3[:i], []byte("<date>"))
	en = bytes.Index(b3[i:], []byte("</post>")) + i + len("</post>")
	if en-st > 6000 {
		en = st + 6000
	}
	seedPut("FuzzBlogger", "entities_post", b3[st:en])
	seedPut("FuzzDetect", "twitter_head", tw[:2000])
	seedPut("FuzzDetect", "blogger_head", b1[:500])
	seedPut("FuzzPyLiteral", "meta2014", []byte(`{'asin': '0000031852', 'title': 'Girls Ballet Tutu Zebra Hot Pink', 'price': 3.17, 'imUrl': 'http://ecx.images-amazon.com/images/I/51fAmVkTbyL._SY300_.jpg', 'related': {'also_bought': ['B00JHONN1S', 'B002BZX8Z6'], 'bought_together': ['B002BZX8Z6']}, 'salesRank': {'Toys & Games': 211836}, 'categories': [['Sports & Outdoors', 'Other Sports', 'Dance']], 'description': 'It\'s a \xe9 "quoted" thing'}`))
}
