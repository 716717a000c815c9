package gguf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/model/dtype"
)

// sampleKVs has one value of every type, arrays included.
func sampleKVs() []KV {
	return []KV{
		{"general.architecture", "llama"},
		{"t.u8", uint8(200)}, {"t.i8", int8(-5)}, {"t.u16", uint16(65000)}, {"t.i16", int16(-300)},
		{"t.u32", uint32(1 << 31)}, {"t.i32", int32(-1 << 30)}, {"t.f32", float32(1e-5)},
		{"t.bool", true}, {"t.false", false}, {"t.str", "héllo ▁world"}, {"t.empty", ""},
		{"t.u64", uint64(1 << 60)}, {"t.i64", int64(-1 << 60)}, {"t.f64", math.Pi},
		{"a.u8", []uint8{1, 2, 3}}, {"a.i8", []int8{-1, 2}}, {"a.u16", []uint16{7}}, {"a.i16", []int16{-7, 8}},
		{"a.u32", []uint32{1, 2}}, {"a.i32", []int32{-1, 6}}, {"a.f32", []float32{0.5, -2}},
		{"a.bool", []bool{true, false, true}}, {"a.str", []string{"<s>", "", "▁t"}},
		{"a.u64", []uint64{1 << 40}}, {"a.i64", []int64{-9}}, {"a.f64", []float64{1.5}},
		{"a.emptystr", []string{}}, {"a.emptyf32", []float32{}},
	}
}

func randFloats(r *rand.Rand, n int, scale float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64() * scale)
	}
	return out
}

// sampleTensors covers every written type and a raw tensor.
func sampleTensors() []Tensor {
	r := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 4*6)
	for i := range 6 {
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(i*i))
	}
	return []Tensor{
		{Name: "a", Shape: []int{3, 5}, Type: F32, Data: randFloats(r, 15, 1)},
		{Name: "b.f16", Shape: []int{7}, Type: F16, Data: randFloats(r, 7, 1)},
		{Name: "c.bf16", Shape: []int{2, 3}, Type: BF16, Data: randFloats(r, 6, 1)},
		{Name: "d.q8", Shape: []int{4, 64}, Type: Q8_0, Data: randFloats(r, 256, 0.1)},
		{Name: "e.i32", Shape: []int{2, 3}, Type: TensorType(26), Raw: raw},
		{Name: "f.scalar", Shape: []int{}, Type: F32, Data: []float32{42}},
		{Name: "g.4d", Shape: []int{2, 1, 3, 32}, Type: Q8_0, Data: randFloats(r, 192, 3)},
	}
}

func encode(t testing.TB, kvs []KV, ts []Tensor) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, kvs, ts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEncodeParseRoundTrip(t *testing.T) {
	for _, align := range []uint32{0, 64, 1} {
		kvs := sampleKVs()
		if align != 0 {
			kvs = append(kvs, KV{KeyAlignment, align})
		}
		ts := sampleTensors()
		b := encode(t, kvs, ts)
		f, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		want := uint64(align)
		if align == 0 {
			want = DefaultAlignment
		}
		if f.Version != 3 || f.Alignment != want || f.DataOffset%want != 0 {
			t.Fatalf("version %d alignment %d data offset %d", f.Version, f.Alignment, f.DataOffset)
		}
		if !reflect.DeepEqual(f.KV, kvs) {
			t.Fatalf("KVs differ:\n%#v\n%#v", f.KV, kvs)
		}
		if len(f.Tensors) != len(ts) {
			t.Fatalf("%d tensors", len(f.Tensors))
		}
		for i, in := range ts {
			ti := f.Tensors[i]
			if ti.Name != in.Name || ti.Type != in.Type || !reflect.DeepEqual(ti.Shape(), in.Shape) || ti.Offset%want != 0 {
				t.Fatalf("tensor %d: %+v vs %s %v %v", i, ti, in.Name, in.Shape, in.Type)
			}
			raw, _, err := f.Raw(in.Name)
			if err != nil {
				t.Fatal(err)
			}
			if in.Raw != nil {
				if !bytes.Equal(raw, in.Raw) {
					t.Fatalf("%s: raw bytes differ", in.Name)
				}
				if _, _, err := f.Float32(in.Name); err == nil {
					t.Fatalf("%s: Float32 of an I32 tensor should fail", in.Name)
				}
				continue
			}
			got, shape, err := f.Float32(in.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(shape, in.Shape) || len(got) != len(in.Data) {
				t.Fatalf("%s: shape %v, %d values", in.Name, shape, len(got))
			}
			for j, x := range in.Data {
				var w float32
				switch in.Type {
				case F32:
					w = x
				case F16:
					w = dtype.F16ToF32(dtype.F32ToF16(x))
				case BF16:
					w = dtype.BF16ToF32(dtype.F32ToBF16(x))
				case Q8_0:
					w = q8Ref(in.Data[j/32*32:j/32*32+32], j%32)
				}
				if got[j] != w {
					t.Fatalf("%s[%d] = %v, want %v (from %v)", in.Name, j, got[j], w, x)
				}
			}
		}
		// Every prefix that cuts into tensor data or the header fails.
		last := f.DataOffset + f.Tensors[len(f.Tensors)-1].Offset + f.Tensors[len(f.Tensors)-1].Bytes()
		for n := range int(last) {
			if _, err := Parse(b[:n]); err == nil {
				t.Fatalf("align %d: prefix of %d bytes (of %d) parsed", align, n, len(b))
			}
		}
	}
}

// q8Ref is the Q8_0 value of element j of a 32-value block, computed
// independently in float64 the way ggml does in float32.
func q8Ref(block []float32, j int) float32 {
	var amax float32
	for _, v := range block {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	d := amax / 127
	if d == 0 {
		return 0
	}
	id := 1 / d
	q := math.Round(float64(block[j] * id))
	return dtype.F16ToF32(dtype.F32ToF16(d)) * float32(q)
}

func TestByteLayout(t *testing.T) {
	b := encode(t, []KV{{"k", uint32(7)}}, []Tensor{{Name: "w", Shape: []int{2, 3}, Type: F32, Data: []float32{1, 2, 3, 4, 5, 6}}})
	le := binary.LittleEndian
	want := []byte("GGUF")
	want = le.AppendUint32(want, 3)
	want = le.AppendUint64(want, 1) // tensors
	want = le.AppendUint64(want, 1) // KVs
	want = le.AppendUint64(want, 1)
	want = append(want, 'k')
	want = le.AppendUint32(want, uint32(TypeUint32))
	want = le.AppendUint32(want, 7)
	want = le.AppendUint64(want, 1)
	want = append(want, 'w')
	want = le.AppendUint32(want, 2)
	want = le.AppendUint64(want, 3) // ne[0]: the row length
	want = le.AppendUint64(want, 2)
	want = le.AppendUint32(want, 0) // F32
	want = le.AppendUint64(want, 0) // offset
	for len(want)%32 != 0 {
		want = append(want, 0)
	}
	for _, v := range []float32{1, 2, 3, 4, 5, 6} {
		want = le.AppendUint32(want, math.Float32bits(v))
	}
	for len(want)%32 != 0 {
		want = append(want, 0)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("bytes\n%x\nwant\n%x", b, want)
	}
	// No tensors: no padding, no data section.
	b = encode(t, []KV{{"k", "v"}}, nil)
	if len(b) != 4+4+8+8+8+1+4+8+1 {
		t.Fatalf("%d bytes", len(b))
	}
	if f, err := Parse(b); err != nil || len(f.KV) != 1 {
		t.Fatal(err)
	}
}

func TestQ8_0(t *testing.T) {
	// A block with max 127: d = 1 exactly, q = round(x) with ties away from 0.
	x := make([]float32, 32)
	x[0], x[1], x[2], x[3], x[4] = 127, -2.5, 2.5, 0.49, -126.6
	b := appendQ8_0Block(nil, x)
	if len(b) != 34 || binary.LittleEndian.Uint16(b) != dtype.F32ToF16(1) {
		t.Fatalf("block %x", b)
	}
	if q := []int8{int8(b[2]), int8(b[3]), int8(b[4]), int8(b[5]), int8(b[6])}; !reflect.DeepEqual(q, []int8{127, -3, 3, 0, -127}) {
		t.Fatalf("q = %v", q)
	}
	// All zeros: d = 0, q = 0.
	if b := appendQ8_0Block(nil, make([]float32, 32)); !bytes.Equal(b, make([]byte, 34)) {
		t.Fatalf("zero block %x", b)
	}
	// Error bound on random data: |x - x̂| <= d/2 + 127·|d - f16(d)|.
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		x := randFloats(r, 32, math.Exp(r.Float64()*10-5))
		got, err := decode(appendQ8_0Block(nil, x), Q8_0, 32)
		if err != nil {
			t.Fatal(err)
		}
		if err := q8Within(x, got); err != "" {
			t.Fatal(err)
		}
	}
	// Non-finite values are refused.
	if err := Encode(&bytes.Buffer{}, nil, []Tensor{{Name: "x", Shape: []int{32}, Type: Q8_0, Data: append(make([]float32, 31), float32(math.Inf(1)))}}); err == nil {
		t.Fatal("Inf quantised")
	}
}

// q8Within checks got against the Q8_0 error bound for x (blocks of 32).
func q8Within(x, got []float32) string {
	for blk := 0; blk < len(x); blk += 32 {
		var amax float32
		for _, v := range x[blk : blk+32] {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := float64(amax) / 127
		dh := float64(dtype.F16ToF32(dtype.F32ToF16(float32(d))))
		bound := d/2 + 127*math.Abs(d-dh) + 1e-6*float64(amax)
		for j := blk; j < blk+32; j++ {
			if e := math.Abs(float64(x[j]) - float64(got[j])); e > bound {
				return fmt.Sprintf("q8_0 element %d: error %g > bound %g (x %v, got %v)", j, e, bound, x[j], got[j])
			}
		}
	}
	return ""
}

func TestEncodeRejects(t *testing.T) {
	ok := Tensor{Name: "x", Shape: []int{2}, Type: F32, Data: []float32{1, 2}}
	cases := map[string]struct {
		kvs []KV
		ts  []Tensor
	}{
		"empty key":         {kvs: []KV{{"", uint8(1)}}},
		"duplicate key":     {kvs: []KV{{"a", uint8(1)}, {"a", uint8(2)}}},
		"bad value type":    {kvs: []KV{{"a", 3}}},
		"nested array":      {kvs: []KV{{"a", [][]int32{{1}}}}},
		"alignment type":    {kvs: []KV{{KeyAlignment, uint64(32)}}},
		"alignment pow2":    {kvs: []KV{{KeyAlignment, uint32(48)}}},
		"duplicate tensor":  {ts: []Tensor{ok, ok}},
		"empty name":        {ts: []Tensor{{Shape: []int{1}, Type: F32, Data: []float32{1}}}},
		"long name":         {ts: []Tensor{{Name: strings.Repeat("n", 64), Shape: []int{1}, Type: F32, Data: []float32{1}}}},
		"5 dims":            {ts: []Tensor{{Name: "x", Shape: []int{1, 1, 1, 1, 1}, Type: F32, Data: []float32{1}}}},
		"negative dim":      {ts: []Tensor{{Name: "x", Shape: []int{-1}, Type: F32}}},
		"data length":       {ts: []Tensor{{Name: "x", Shape: []int{3}, Type: F32, Data: []float32{1}}}},
		"raw length":        {ts: []Tensor{{Name: "x", Shape: []int{3}, Type: F32, Raw: make([]byte, 8)}}},
		"raw and data":      {ts: []Tensor{{Name: "x", Shape: []int{1}, Type: F32, Raw: make([]byte, 4), Data: []float32{1}}}},
		"q8 row":            {ts: []Tensor{{Name: "x", Shape: []int{2, 16}, Type: Q8_0, Data: make([]float32, 32)}}},
		"unknown type":      {ts: []Tensor{{Name: "x", Shape: []int{1}, Type: 99, Raw: make([]byte, 4)}}},
		"no float encoding": {ts: []Tensor{{Name: "x", Shape: []int{1}, Type: 26, Data: []float32{1}}}},
	}
	for name, c := range cases {
		if err := Encode(&bytes.Buffer{}, c.kvs, c.ts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	if err := WriteFile(path, sampleKVs(), sampleTensors()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if _, err := ReadFile(path); err != nil {
		t.Fatal(err)
	}
	// A failing write leaves the old file and no temporary file.
	if err := WriteFile(path, []KV{{"", uint8(1)}}, nil); err == nil {
		t.Fatal("bad write succeeded")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("failed write changed the file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d entries left in the directory", len(ents))
	}
}
