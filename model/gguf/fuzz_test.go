package gguf

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/humanllm/humanllm/model"
)

// tinyLlama is a small random Llama export with a vocab, for fuzz seeds.
func tinyLlama(t testing.TB, typ TensorType) []byte {
	cfg := model.Config{Dim: 32, HiddenDim: 64, NLayers: 1, NHeads: 2, NKVHeads: 1, Vocab: 8, MaxSeqLen: 16,
		RopeTheta: 10000, RMSEps: 1e-5, TiedEmbeddings: true}
	w := model.NewWeights(cfg)
	r := rand.New(rand.NewPCG(7, 8))
	for _, tt := range w.Tensors {
		tt.Data = randFloats(r, len(tt.Data), 1)
	}
	v := &Vocab{Model: "llama", Tokens: []string{"<unk>", "<s>", "</s>", "<0x0A>", "▁a", "b", "▁", "ab"},
		Scores: []float32{0, 0, 0, 0, -1, -2, -3, -4}, Types: []int32{2, 3, 3, 6, 1, 1, 1, 1},
		BOS: 1, EOS: 2, UNK: 0, PAD: -1, AddBOS: true}
	var buf bytes.Buffer
	if err := EncodeLlama(&buf, w, Options{Type: typ, Vocab: v}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// reencode writes a parsed file back with its raw tensor bytes.
func reencode(t *testing.T, f *File) []byte {
	var ts []Tensor
	for _, ti := range f.Tensors {
		raw, _, err := f.Raw(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, Tensor{Name: ti.Name, Shape: ti.Shape(), Type: ti.Type, Raw: raw})
	}
	var buf bytes.Buffer
	if err := Encode(&buf, f.KV, ts); err != nil {
		t.Fatalf("a parsed file does not re-encode: %v", err)
	}
	return buf.Bytes()
}

// FuzzParse: Parse never panics or over-allocates; whatever it accepts
// dequantises without panicking, decodes (or is refused) as a Llama
// model, and re-encodes to a file that parses to the same encoding.
func FuzzParse(f *testing.F) {
	f.Add(tinyLlama(f, F32))
	f.Add(tinyLlama(f, Q8_0))
	f.Add(tinyLlama(f, F16))
	var buf bytes.Buffer
	if err := Encode(&buf, sampleKVs(), sampleTensors()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(newRaw(3, 2, 0).tensor("b", 0, 32, 8).tensor("a", 0, 0, 8).data(64).b)
	f.Add(newRaw(2, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(1).str("x").b)
	f.Add([]byte("GGUF"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		for _, ti := range p.Tensors {
			if data, shape, err := p.Float32(ti.Name); err == nil {
				n := 1
				for _, d := range shape {
					n *= d
				}
				if n != len(data) {
					t.Fatalf("%s: %d values for shape %v", ti.Name, len(data), shape)
				}
			}
		}
		_, _ = VocabOf(p)
		_, _, _ = DecodeLlama(p, model.RopeHalf)
		e1 := reencode(t, p)
		p2, err := Parse(e1)
		if err != nil {
			t.Fatalf("re-encoded file does not parse: %v", err)
		}
		if e2 := reencode(t, p2); !bytes.Equal(e1, e2) {
			t.Fatal("re-encoding is not stable")
		}
	})
}
