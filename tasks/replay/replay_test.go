package replay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
)

func TestBuildTwoCopies(t *testing.T) {
	sharedtest.Path(t, "data/amazon/reviews_Musical_Instruments_5.json.gz")
	dst := t.TempDir()
	// one copy holds ~40k records; asking for one more forces a second copy
	s, err := load(sharedtest.Root())
	if err != nil {
		t.Fatal(err)
	}
	st, err := Build(sharedtest.Root(), dst, s.records+1)
	if err != nil {
		t.Fatal(err)
	}
	if st.Copies != 2 || st.Records != 2*s.records {
		t.Fatalf("stats %+v, one copy = %d records", st, s.records)
	}
	b, err := os.ReadFile(filepath.Join(dst, "amazon-0001.json"))
	if err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(string(b), "\n", 2)[0]
	if !strings.Contains(first, `"reviewerID": "r1-A2IBPI20UZIR0U"`) || !strings.Contains(first, `"reviewText": "[r1] Not much to write`) {
		t.Errorf("copy 1 first review not re-keyed: %.200s", first)
	}
	if n := strings.Count(string(b), "\n"); n != 10261 {
		t.Errorf("amazon copy has %d lines, want 10261", n)
	}
	blog, _ := filepath.Glob(filepath.Join(dst, "blogger", "0000", "*.xml"))
	if len(blog) != 195 || !strings.HasPrefix(filepath.Base(blog[0]), "1") {
		t.Errorf("blogger copy: %d files (%v)", len(blog), blog[:min(1, len(blog))])
	}
	// reuse: a second Build with the same target writes nothing
	os.Remove(filepath.Join(dst, "amazon-0000.json"))
	if _, err := Build(sharedtest.Root(), dst, s.records+1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "amazon-0000.json")); !os.IsNotExist(err) {
		t.Error("complete build was not reused")
	}
}
