package synth

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/tasks"
)

var (
	bloggerPostRe = regexp.MustCompile(`(?s)<date>([^<]*)</date>\s*<post>(.*?)</post>`)
)

// loadBlogger reads one Blog Authorship Corpus file crudely (latin-1,
// split on <post> tags) into a tasks.User.
func loadBlogger(t testing.TB, name string) *tasks.User {
	t.Helper()
	p := sharedtest.Path(t, filepath.Join("data", "blogger", name))
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// latin-1 -> UTF-8 when not valid UTF-8
	s := string(raw)
	if !isUTF8(raw) {
		rs := make([]rune, len(raw))
		for i, b := range raw {
			rs[i] = rune(b)
		}
		s = string(rs)
	}
	f := strings.Split(strings.TrimSuffix(name, ".xml"), ".")
	u := &tasks.User{Source: tasks.SourceBlogger, ID: f[0], Meta: map[string]string{"gender": f[1], "age": f[2], "industry": f[3], "sign": f[4]}}
	for _, m := range bloggerPostRe.FindAllStringSubmatch(s, -1) {
		var ts int64
		if d, err := time.Parse("2,January,2006", strings.TrimSpace(m[1])); err == nil {
			ts = d.Unix()
		}
		text := strings.TrimSpace(strings.ReplaceAll(m[2], "\r", ""))
		if text == "" {
			continue
		}
		u.Records = append(u.Records, tasks.Record{Source: tasks.SourceBlogger, Kind: tasks.KindPost, User: f[0], Time: ts, Text: text, Meta: u.Meta})
	}
	return u
}

func isUTF8(b []byte) bool {
	return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) && !strings.Contains(string(b), "\uFFFD")
}

// loadTwitter reads the shared congress tweets and returns the user with
// the given screen name.
func loadTwitter(t testing.TB, screen string) *tasks.User {
	t.Helper()
	zr := sharedtest.OpenGzip(t, filepath.Join("data", "twitter", "congresstweets_automator_test_tweets.json.gz"))
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var tweets []struct {
		CreatedAt string `json:"created_at"`
		IDStr     string `json:"id_str"`
		FullText  string `json:"full_text"`
		User      struct {
			IDStr       string `json:"id_str"`
			ScreenName  string `json:"screen_name"`
			Description string `json:"description"`
			Location    string `json:"location"`
		} `json:"user"`
	}
	if err := json.Unmarshal(b, &tweets); err != nil {
		t.Fatal(err)
	}
	u := &tasks.User{Source: tasks.SourceTwitter, ID: screen}
	for i := len(tweets) - 1; i >= 0; i-- { // file is newest first
		tw := tweets[i]
		if tw.User.ScreenName != screen {
			continue
		}
		ts, _ := time.Parse(time.RubyDate, tw.CreatedAt)
		u.Name = tw.User.ScreenName
		u.Meta = map[string]string{"description": tw.User.Description, "location": tw.User.Location}
		u.Records = append(u.Records, tasks.Record{Source: tasks.SourceTwitter, Kind: tasks.KindTweet, ID: tw.IDStr, User: tw.User.IDStr, Time: ts.Unix(), Text: tw.FullText})
	}
	if len(u.Records) == 0 {
		t.Fatalf("no tweets by %s", screen)
	}
	return u
}
