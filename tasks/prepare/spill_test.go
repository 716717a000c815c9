package prepare

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/humanllm/humanllm/tasks"
)

func TestSpillRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := newSpillWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	in := []spilled{
		{hash: 0xff00000000000001, seq: 1, rec: tasks.Record{Source: "reddit", Kind: "comment", User: "u", Text: "héllo\x00world", Time: -5, Rating: 4.5, Line: 7, Meta: map[string]string{"b": "2", "a": ""}}},
		{hash: 0xff00000000000002, seq: 2, rec: tasks.Record{Source: "amazon", ItemID: "B1", ItemTitle: "T", Text: ""}},
		{hash: 0x0100000000000000, seq: 3, rec: tasks.Record{Source: "twitter", Text: "x"}},
	}
	for i := range in {
		if err := w.add(&in[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	var got []spilled
	path := spillName(dir, 0xff, "")
	if err := readSpill(path, func(s *spilled) error { got = append(got, *s); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in[:2]) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, in[:2])
	}
	parts, err := splitSpill(path, spillBits)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || filepath.Base(parts[0]) != "shard-255.bin.0" {
		t.Fatalf("split parts %v", parts)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("split must remove the original")
	}
	got = nil
	if err := readSpill(parts[0], func(s *spilled) error { got = append(got, *s); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in[:2]) {
		t.Fatalf("after split: %+v", got)
	}
}

func TestSpillCorrupt(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.bin")
	os.WriteFile(p, []byte{5, 0, 0, 0, 1, 2}, 0o644)
	if err := readSpill(p, func(*spilled) error { return nil }); err == nil {
		t.Fatal("truncated spill accepted")
	}
}
