package prepare

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/tasks"
)

func spillTestRecords() []spilled {
	return []spilled{
		{hash: 0xff00000000000001, seq: 1, rec: tasks.Record{Source: "reddit", Kind: "comment", User: "u", Text: "héllo\x00world", Time: -5, Rating: 4.5, Line: 7, Meta: map[string]string{"b": "2", "a": ""}}},
		{hash: 0xff00000000000002, seq: 2, rec: tasks.Record{Source: "amazon", ItemID: "B1", ItemTitle: "T", Text: ""}},
		{hash: 0x0100000000000000, seq: 3, rec: tasks.Record{Source: "twitter", Text: "x"}},
		{hash: 0xff00000000000003, seq: 4, rec: tasks.Record{Source: "blogger", Text: strings.Repeat("long text ", 40), HasNearHash: true, NearHash: 42}},
	}
}

// writeSpillTestRecords spills spillTestRecords into dir with chunk-byte
// shard buffers and closes the writer.
func writeSpillTestRecords(t *testing.T, dir string, chunk int) (*spillWriter, []spilled) {
	t.Helper()
	w, err := newSpillWriter(dir, chunk)
	if err != nil {
		t.Fatal(err)
	}
	in := spillTestRecords()
	for i := range in {
		if err := w.add(in[i].hash, in[i].seq, &in[i].rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	return w, in
}

// TestSpillRoundTrip writes records with chunks that keep every shard in
// memory, with chunks so small that every record goes to disk, and with
// chunks in between (files and tails): load gives the same records every
// way, in input order per shard.
func TestSpillRoundTrip(t *testing.T) {
	for _, chunk := range []int{1 << 20, 1, 200} {
		dir := t.TempDir()
		w, in := writeSpillTestRecords(t, dir, chunk)
		onDisk, _ := filepath.Glob(filepath.Join(dir, "shard-*"))
		if chunk < 1<<20 && len(onDisk) == 0 || chunk == 1<<20 && len(onDisk) != 0 {
			t.Errorf("chunk %d: files on disk %v", chunk, onDisk)
		}
		names := w.names()
		want := []string{spillName(dir, 0x01, ""), spillName(dir, 0xff, "")}
		if !reflect.DeepEqual(names, want) {
			t.Fatalf("names %v, want %v", names, want)
		}
		if n, err := w.size(names[1]); err != nil || n != int64(len(encodeAll(in[0], in[1], in[3]))) {
			t.Errorf("size %d %v", n, err)
		}
		// The larger shard first: the smaller one is then read into the
		// same buffer, which must not change the records already decoded.
		var got []spilled
		var buf []byte
		for j := len(names) - 1; j >= 0; j-- {
			b, owned, err := w.load(names[j], &buf)
			if err != nil {
				t.Fatal(err)
			}
			if chunk == 1<<20 && !owned || chunk == 1 && owned {
				t.Errorf("chunk %d: %s owned %v", chunk, names[j], owned)
			}
			recs, err := decodeAll(b, owned)
			if err != nil {
				t.Fatal(err)
			}
			got = append(recs, got...)
		}
		if want := []spilled{in[2], in[0], in[1], in[3]}; !reflect.DeepEqual(got, want) {
			t.Fatalf("chunk %d round trip:\n got %+v\nwant %+v", chunk, got, want)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 || len(w.names()) != 0 {
			t.Errorf("after load: files %v, names %v", left, w.names())
		}
	}
}

func encodeAll(s ...spilled) []byte {
	var b []byte
	for i := range s {
		b = encodeSpilled(b, s[i].hash, s[i].seq, &s[i].rec)
	}
	return b
}

// TestSpillSplit: a shard held in memory goes to disk whole and splits by
// the next hash bits, keeping its records and their order.
func TestSpillSplit(t *testing.T) {
	dir := t.TempDir()
	w, in := writeSpillTestRecords(t, dir, 1<<20)
	path := spillName(dir, 0xff, "")
	if err := w.toDisk(path); err != nil {
		t.Fatal(err)
	}
	var got []spilled
	if err := readSpill(path, func(s *spilled) error { got = append(got, *s); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []spilled{in[0], in[1], in[3]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("to disk:\n got %+v\nwant %+v", got, want)
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
	if n, err := w.size(parts[0]); err != nil || n != int64(len(encodeAll(want...))) {
		t.Errorf("part size %d %v", n, err)
	}
	var buf []byte
	b, owned, err := w.load(parts[0], &buf)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = decodeAll(b, owned); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after split: %+v %v", got, err)
	}
}

func TestSpillCorrupt(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.bin")
	os.WriteFile(p, []byte{5, 0, 0, 0, 1, 2}, 0o644)
	if err := readSpill(p, func(*spilled) error { return nil }); err == nil {
		t.Fatal("truncated spill accepted")
	}
	good := encodeAll(spillTestRecords()...)
	badLen := append([]byte(nil), good...)
	badLen[4+8+1] = 0x7f // the first string runs past its record
	for _, b := range [][]byte{{5, 0, 0, 0, 1, 2}, {1, 0}, good[:len(good)-1], append(good[:len(good):len(good)], 9, 0, 0, 0, 1), badLen} {
		if _, err := decodeAll(b, false); err == nil {
			t.Errorf("corrupt shard % x... accepted", b[:min(len(b), 8)])
		}
	}
}

// TestPeekSourceItem holds peekSourceItem to the decoded records: the
// Source and ItemID it reads without decoding are theirs.
func TestPeekSourceItem(t *testing.T) {
	in := spillTestRecords()
	b := encodeAll(in...)
	keys, err := indexShard(b)
	if err != nil || len(keys) != len(in) {
		t.Fatal(len(keys), err)
	}
	for i, k := range keys {
		src, item, err := peekSourceItem(b, k)
		if err != nil || string(src) != in[i].rec.Source || string(item) != in[i].rec.ItemID {
			t.Errorf("record %d: peek %q %q %v, want %q %q", i, src, item, err, in[i].rec.Source, in[i].rec.ItemID)
		}
	}
	if _, _, err := peekSourceItem(b[:keys[0].off+12], spillKey{off: keys[0].off, end: keys[0].off + 12}); err == nil {
		t.Error("a cut record peeked without error")
	}
}

// TestDecodeMetaReuse: a record whose Meta is encoded as the last one's
// decodes to the same map (and says so); any other Meta is its own.
func TestDecodeMetaReuse(t *testing.T) {
	meta := map[string]string{"age": "23", "sign": "Leo"}
	in := []spilled{
		{hash: 1, seq: 1, rec: tasks.Record{Source: "blogger", Text: "a", Meta: meta}},
		{hash: 1, seq: 2, rec: tasks.Record{Source: "blogger", Text: "b", Meta: map[string]string{"sign": "Leo", "age": "23"}}},
		{hash: 1, seq: 3, rec: tasks.Record{Source: "blogger", Text: "c", Meta: map[string]string{"age": "24", "sign": "Leo"}}},
		{hash: 1, seq: 4, rec: tasks.Record{Source: "blogger", Text: "d"}},
		{hash: 1, seq: 5, rec: tasks.Record{Source: "blogger", Text: "e"}},
	}
	b := encodeAll(in...)
	keys, err := indexShard(b)
	if err != nil {
		t.Fatal(err)
	}
	d := newShardDecoder(b, false)
	wantSame := []bool{false, true, false, false, false}
	for i, k := range keys {
		var s spilled
		if err := d.decode(k, &s); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s.rec.Meta, in[i].rec.Meta) || d.meta.same != wantSame[i] {
			t.Errorf("record %d: Meta %v same %v, want %v %v", i, s.rec.Meta, d.meta.same, in[i].rec.Meta, wantSame[i])
		}
	}
}

// TestEncodeMetaOrder: a Meta is written in key order, whatever the map's
// iteration order, so equal maps encode to equal bytes (the decoder's
// reuse of the last Meta compares them).
func TestEncodeMetaOrder(t *testing.T) {
	m := map[string]string{}
	for _, k := range []string{"sign", "age", "industry", "gender", "a", "zz", "m"} {
		m[k] = k + "!"
	}
	r := tasks.Record{Source: "blogger", Meta: m}
	want := encodeSpilled(nil, 1, 1, &r)
	for range 20 {
		c := map[string]string{}
		for k, v := range m {
			c[k] = v
		}
		r.Meta = c
		if got := encodeSpilled(nil, 1, 1, &r); string(got) != string(want) {
			t.Fatal("equal Meta maps encoded differently")
		}
	}
	var s spilled
	if err := decodeSpilled(want[4:], string(want[4:]), &s, nil); err != nil || !reflect.DeepEqual(s.rec.Meta, m) {
		t.Fatalf("decoded Meta %v, %v", s.rec.Meta, err)
	}
}

// decodeAll decodes every record of a loaded shard, in order.
func decodeAll(b []byte, owned bool) ([]spilled, error) {
	keys, err := indexShard(b)
	if err != nil {
		return nil, err
	}
	d := newShardDecoder(b, owned)
	out := make([]spilled, len(keys))
	for i, k := range keys {
		if err := d.decode(k, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
