package trainer

import (
	"strings"
	"testing"
	"time"
)

func TestTrainedTokenizerSpec(t *testing.T) {
	for _, c := range []struct {
		src     string
		vocab   int
		ok, err bool
	}{
		{"train:4096", 4096, true, false},
		{"train:263", 263, true, false},
		{"train:262", 0, true, true},
		{"train:", 0, true, true},
		{"train:4k", 0, true, true},
		{"train:-5", 0, true, true},
		{"builtin:tok512", 0, false, false},
		{"runs/x/tokenizer.json", 0, false, false},
		{"", 0, false, false},
	} {
		n, ok, err := TrainedTokenizer(c.src)
		if n != c.vocab || ok != c.ok || (err != nil) != c.err {
			t.Errorf("%q: %d %v %v, want %d %v error %v", c.src, n, ok, err, c.vocab, c.ok, c.err)
		}
		if err != nil && !strings.Contains(err.Error(), "data.tokenizer") {
			t.Errorf("%q: error %v does not name data.tokenizer", c.src, err)
		}
	}
	c := DefaultConfig()
	c.Out = "x"
	c.Data.Tokenizer = "train:12"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "train:N") {
		t.Errorf("Validate train:12: %v", err)
	}
	c.Data.Tokenizer = "builtin:tok512"
	for _, bad := range []struct {
		url, job string
		every    time.Duration
		want     string
	}{
		{"ftp://h:1", "j", 0, "metrics.push_url"},
		{"http://", "j", 0, "metrics.push_url"},
		{"http://u:pw@h:1", "", 0, "metrics.push_job"},
		{"http://h:1", "j", -time.Second, "metrics.push_interval"},
	} {
		c.Metrics.PushURL, c.Metrics.PushJob, c.Metrics.PushInterval = bad.url, bad.job, bad.every
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), bad.want) || strings.Contains(err.Error(), "pw") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	c.Metrics.PushURL, c.Metrics.PushJob, c.Metrics.PushInterval = "127.0.0.1:9091", "j", 0
	if err := c.Validate(); err != nil {
		t.Errorf("host:port push URL: %v", err)
	}
}

// FuzzTrainedTokenizer: any data.tokenizer value parses without panic; a
// train:N accepted has N >= MinTrainedVocab, and only train: values are
// taken for it.
func FuzzTrainedTokenizer(f *testing.F) {
	for _, s := range []string{"train:4096", "train:263", "train:", "train:+300", "train:0300", "train:99999999999999999999", "builtin:tok512", "x.json", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok, err := TrainedTokenizer(s)
		if ok != strings.HasPrefix(s, TrainedTokenizerPrefix) {
			t.Fatalf("%q: ok %v", s, ok)
		}
		if ok && err == nil && n < MinTrainedVocab {
			t.Fatalf("%q: vocabulary %d accepted", s, n)
		}
		if !ok && (n != 0 || err != nil) {
			t.Fatalf("%q: %d %v for a non-train value", s, n, err)
		}
	})
}
