package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// raw builds GGUF bytes by hand for the rejection tests.
type raw struct{ b []byte }

func newRaw(version uint32, nTensors, nKV uint64) *raw {
	r := &raw{b: []byte(Magic)}
	return r.u32(version).u64(nTensors).u64(nKV)
}

func (r *raw) u32(v uint32) *raw { r.b = binary.LittleEndian.AppendUint32(r.b, v); return r }
func (r *raw) u64(v uint64) *raw { r.b = binary.LittleEndian.AppendUint64(r.b, v); return r }
func (r *raw) str(s string) *raw { r.u64(uint64(len(s))); r.b = append(r.b, s...); return r }
func (r *raw) bytes(p ...byte) *raw {
	r.b = append(r.b, p...)
	return r
}

// tensor appends a tensor info.
func (r *raw) tensor(name string, typ uint32, off uint64, dims ...uint64) *raw {
	r.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		r.u64(d)
	}
	return r.u32(typ).u64(off)
}

// pad pads to 32 and appends n zero bytes of data.
func (r *raw) data(n int) *raw {
	for len(r.b)%32 != 0 {
		r.b = append(r.b, 0)
	}
	r.b = append(r.b, make([]byte, n)...)
	return r
}

func TestParseRejects(t *testing.T) {
	okFile := newRaw(3, 1, 1).str("k").u32(uint32(TypeUint8)).bytes(1).tensor("w", 0, 0, 4).data(16).b
	if _, err := Parse(okFile); err != nil {
		t.Fatalf("the valid base case fails: %v", err)
	}
	v2 := append([]byte{}, okFile...)
	binary.LittleEndian.PutUint32(v2[4:], 2)
	if _, err := Parse(v2); err != nil {
		t.Fatalf("version 2 fails: %v", err)
	}
	cases := map[string][]byte{
		"empty":            nil,
		"bad magic":        append([]byte("GGUG"), okFile[4:]...),
		"version 1":        newRaw(1, 0, 0).b,
		"version 4":        newRaw(4, 0, 0).b,
		"big endian":       newRaw(3<<24, 0, 0).b,
		"huge tensors":     newRaw(3, 1<<62, 0).b,
		"huge kvs":         newRaw(3, 0, math.MaxUint64).b,
		"kv past end":      newRaw(3, 0, 2).str("k").u32(uint32(TypeUint8)).bytes(1).b,
		"key length":       newRaw(3, 0, 1).u64(1 << 40).bytes(make([]byte, 16)...).b,
		"empty key":        newRaw(3, 0, 1).str("").u32(uint32(TypeUint8)).bytes(1, 0, 0).b,
		"duplicate key":    newRaw(3, 0, 2).str("k").u32(0).bytes(1).str("k").u32(0).bytes(1).b,
		"value type":       newRaw(3, 0, 1).str("k").u32(13).bytes(1).b,
		"short value":      newRaw(3, 0, 1).str("k").u32(uint32(TypeUint64)).bytes(1, 2, 3).b,
		"string length":    newRaw(3, 0, 1).str("k").u32(uint32(TypeString)).u64(math.MaxUint64).b,
		"bool byte":        newRaw(3, 0, 1).str("k").u32(uint32(TypeBool)).bytes(2).b,
		"bool array byte":  newRaw(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeBool)).u64(2).bytes(1, 7).b,
		"array count":      newRaw(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeUint32)).u64(1 << 61).b,
		"string array":     newRaw(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(1 << 30).str("a").b,
		"string in array":  newRaw(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(1).u64(99).b,
		"nested array":     newRaw(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeArray)).u64(0).b,
		"array elem type":  newRaw(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(77).u64(0).b,
		"alignment type":   newRaw(3, 0, 1).str(KeyAlignment).u32(uint32(TypeUint64)).u64(32).b,
		"alignment zero":   newRaw(3, 0, 1).str(KeyAlignment).u32(uint32(TypeUint32)).u32(0).b,
		"alignment pow2":   newRaw(3, 0, 1).str(KeyAlignment).u32(uint32(TypeUint32)).u32(24).b,
		"tensor past end":  newRaw(3, 2, 0).tensor("w", 0, 0, 4).b,
		"empty name":       newRaw(3, 1, 0).tensor("", 0, 0, 4).data(16).b,
		"long name":        newRaw(3, 1, 0).tensor(strings.Repeat("x", 64), 0, 0, 4).data(16).b,
		"duplicate tensor": newRaw(3, 2, 0).tensor("w", 0, 0, 4).tensor("w", 0, 32, 4).data(64).b,
		"5 dims":           newRaw(3, 1, 0).tensor("w", 0, 0, 1, 1, 1, 1, 1).data(4).b,
		"dim overflow":     newRaw(3, 1, 0).tensor("w", 0, 0, 1<<32, 1<<32).data(4).b,
		"dim sign":         newRaw(3, 1, 0).tensor("w", 0, 0, 0, 1<<63).data(4).b,
		"size overflow":    newRaw(3, 1, 0).tensor("w", 0, 0, 1<<62, 1).data(4).b,
		"unknown type":     newRaw(3, 1, 0).tensor("w", 4, 0, 4).data(16).b,
		"type 99":          newRaw(3, 1, 0).tensor("w", 99, 0, 4).data(16).b,
		"q8 row":           newRaw(3, 1, 0).tensor("w", 8, 0, 16, 2).data(34).b,
		"q8 scalar":        newRaw(3, 1, 0).tensor("w", 8, 0).data(34).b,
		"misaligned":       newRaw(3, 1, 0).tensor("w", 0, 4, 4).data(64).b,
		"data past end":    newRaw(3, 1, 0).tensor("w", 0, 0, 4).data(15).b,
		"offset past end":  newRaw(3, 1, 0).tensor("w", 0, 1<<40, 4).data(16).b,
		"offset wraps":     newRaw(3, 1, 0).tensor("w", 0, math.MaxUint64-31, 4).data(16).b,
		"overlap":          newRaw(3, 2, 0).tensor("a", 0, 0, 16).tensor("b", 0, 32, 16).data(96).b,
		"no data section":  newRaw(3, 1, 0).tensor("w", 0, 0, 0).b,
	}
	for name, b := range cases {
		if f, err := Parse(b); err == nil {
			t.Errorf("%s: parsed: %+v", name, f.Tensors)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	// Overlap check, positive side: two adjacent tensors and a zero-size one.
	adj := newRaw(3, 3, 0).tensor("a", 0, 0, 8).tensor("b", 0, 32, 8).tensor("z", 0, 64, 0).data(64).b
	if _, err := Parse(adj); err != nil {
		t.Fatal(err)
	}
	// Tensors need not be in offset order.
	rev := newRaw(3, 2, 0).tensor("b", 0, 32, 8).tensor("a", 0, 0, 8).data(64).b
	if f, err := Parse(rev); err != nil || f.Tensors[0].Name != "b" {
		t.Fatal(err)
	}
}

func TestAccessors(t *testing.T) {
	f, err := Parse(encode(t, sampleKVs(), nil))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := f.String("t.str"); err != nil || s != "héllo ▁world" {
		t.Fatal(s, err)
	}
	if _, err := f.String("t.u8"); err == nil {
		t.Fatal("u8 as string")
	}
	for key, want := range map[string]uint64{"t.u8": 200, "t.u16": 65000, "t.u32": 1 << 31, "t.u64": 1 << 60} {
		if n, err := f.Uint(key); err != nil || n != want {
			t.Fatal(key, n, err)
		}
	}
	for _, key := range []string{"t.i8", "t.i16", "t.i32", "t.i64", "t.str", "missing"} {
		if _, err := f.Uint(key); err == nil {
			t.Fatal(key, "accepted")
		}
	}
	if x, err := f.Float("t.f32"); err != nil || x != float64(float32(1e-5)) {
		t.Fatal(x, err)
	}
	if _, _, err := f.Raw("nope"); err == nil {
		t.Fatal("missing tensor")
	}
	if _, err := Parse(bytes.Repeat([]byte{0}, 3)); err == nil {
		t.Fatal("3 bytes parsed")
	}
}
