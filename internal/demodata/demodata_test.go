package demodata

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestExcerptSmallAndExtractable(t *testing.T) {
	var total int64
	var n int
	fs.WalkDir(FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			total += info.Size()
			n++
		}
		return nil
	})
	if total > 1_000_000 {
		t.Errorf("demo excerpt is %d bytes; the project allows at most 1 MB", total)
	}
	if n < 16 {
		t.Errorf("demo excerpt has %d files, expected every source", n)
	}
	dir, err := Extract(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"amazon_musical_instruments_top40.json.gz", "blogger/1000331.female.37.indUnk.Leo.xml", "reddit_test_comments.json.gz", "twitter_congress_active.jsonl.gz"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("extracted excerpt lacks %s: %v", want, err)
		}
	}
}
