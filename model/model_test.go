package model

import (
	"bufio"
	"errors"
	"slices"
	"strings"
	"testing"
)

// stories260K is the shape of the shared llama2.c test model.
var stories260K = Config{
	Dim: 64, HiddenDim: 172, NLayers: 5, NHeads: 8, NKVHeads: 4, Vocab: 512, MaxSeqLen: 512,
	RopeTheta: 10000, RMSEps: 1e-5, TiedEmbeddings: true,
}

func TestParamCount(t *testing.T) {
	// README: 260,032 float32 parameters (without the legacy RoPE tables).
	if got := stories260K.ParamCount(); got != 260032 {
		t.Fatalf("ParamCount = %d, want 260032", got)
	}
	untied := stories260K
	untied.TiedEmbeddings = false
	if got := untied.ParamCount(); got != 260032+512*64 {
		t.Fatalf("untied ParamCount = %d", got)
	}
	bias := stories260K
	bias.QKVBias = true
	if got := bias.ParamCount(); got != 260032+5*(64+32+32) {
		t.Fatalf("bias ParamCount = %d", got)
	}
	// Llama 2 7B: 6,738,415,616 parameters.
	l7 := Config{Dim: 4096, HiddenDim: 11008, NLayers: 32, NHeads: 32, NKVHeads: 32, Vocab: 32000,
		MaxSeqLen: 4096, RopeTheta: 10000, RMSEps: 1e-5}
	if got := l7.ParamCount(); got != 6738415616 {
		t.Fatalf("Llama-2-7B ParamCount = %d, want 6738415616", got)
	}
}

func TestValidate(t *testing.T) {
	if err := stories260K.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := stories260K
	bad.NKVHeads = 3
	bad.RMSEps = 0
	err := bad.Validate()
	if err == nil || !strings.Contains(err.Error(), "n_kv_heads 3") || !strings.Contains(err.Error(), "rms_eps") {
		t.Fatalf("Validate = %v", err)
	}
}

func TestMemoryEstimate(t *testing.T) {
	m := stories260K.Memory(4, 64)
	p := stories260K.ParamCount()
	if m.Weights != 4*p || m.Grads != 4*p || m.Optimizer != 8*p {
		t.Fatalf("estimate %+v", m)
	}
	if m.Activations <= 0 || m.Total() != m.Weights+m.Grads+m.Optimizer+m.Activations {
		t.Fatalf("estimate %+v", m)
	}
	// Activations grow with batch and quadratically-ish with seq.
	if m2 := stories260K.Memory(8, 64); m2.Activations != 2*m.Activations {
		t.Fatalf("activations not linear in batch: %d vs %d", m2.Activations, m.Activations)
	}
	if err := CheckFits(m, m.Total()); err != nil {
		t.Fatal(err)
	}
	err := CheckFits(m, m.Total()-1)
	if !errors.Is(err, ErrWontFit) || !strings.Contains(err.Error(), "AdamW") {
		t.Fatalf("CheckFits = %v", err)
	}
	t.Log(m)
}

func TestMemAvailable(t *testing.T) {
	in := "MemTotal:       24000000 kB\nMemFree:        1 kB\nMemAvailable:   23000000 kB\n"
	got, err := parseMemAvailable("x", bufio.NewScanner(strings.NewReader(in)))
	if err != nil || got != 23000000*1024 {
		t.Fatalf("parse = %d, %v", got, err)
	}
	if _, err := parseMemAvailable("x", bufio.NewScanner(strings.NewReader("MemTotal: 1 kB\n"))); err == nil {
		t.Fatal("no error without MemAvailable")
	}
	avail, err := MemAvailable()
	if err != nil {
		t.Skip(err)
	}
	if avail <= 0 {
		t.Fatalf("MemAvailable = %d", avail)
	}
	// A 7B model with a large batch does not fit in this test box.
	huge := Config{Dim: 4096, HiddenDim: 11008, NLayers: 32, NHeads: 32, NKVHeads: 32, Vocab: 32000,
		MaxSeqLen: 4096, RopeTheta: 10000, RMSEps: 1e-5}
	if _, err := huge.CheckFitsInRAM(64, 4096); !errors.Is(err, ErrWontFit) {
		t.Fatalf("7B CheckFitsInRAM = %v", err)
	}
	if _, err := stories260K.CheckFitsInRAM(1, 8); err != nil {
		t.Fatal(err)
	}
}

func TestHumanBytes(t *testing.T) {
	for _, c := range []struct {
		b    int64
		want string
	}{{512, "512 B"}, {2048, "2.00 KiB"}, {3 << 30, "3.00 GiB"}, {5 << 40, "5.00 TiB"}} {
		if got := HumanBytes(c.b); got != c.want {
			t.Errorf("HumanBytes(%d) = %q, want %q", c.b, got, c.want)
		}
	}
}

func TestPermuteRopeRows(t *testing.T) {
	// 2 heads of 4 rows, 1 column: interleaved rows [0 1 2 3 | 4 5 6 7]
	// become half rows [0 2 1 3 | 4 6 5 7].
	in := []float32{0, 1, 2, 3, 4, 5, 6, 7}
	half := PermuteRopeRows(in, 2, 4, 1, RopeInterleaved, RopeHalf)
	if want := []float32{0, 2, 1, 3, 4, 6, 5, 7}; !slices.Equal(half, want) {
		t.Fatalf("to half = %v, want %v", half, want)
	}
	// Head size 8: [0..7] -> [0 2 4 6 1 3 5 7]; and back.
	in8 := make([]float32, 16)
	for i := range in8 {
		in8[i] = float32(i)
	}
	h8 := PermuteRopeRows(in8, 1, 8, 2, RopeInterleaved, RopeHalf)
	want8 := []float32{0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15}
	if !slices.Equal(h8, want8) {
		t.Fatalf("head 8 = %v", h8)
	}
	if back := PermuteRopeRows(h8, 1, 8, 2, RopeHalf, RopeInterleaved); !slices.Equal(back, in8) {
		t.Fatalf("round trip = %v", back)
	}
}

func TestWeights(t *testing.T) {
	c := stories260K
	c.QKVBias = true
	w := NewWeights(c)
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	if w.Classifier() != w.Get(NameEmbed) {
		t.Fatal("tied classifier is not the embedding")
	}
	if err := w.Add(&Tensor{Name: NameEmbed, Shape: []int{1}, Data: []float32{0}}); err == nil {
		t.Fatal("duplicate accepted")
	}
	q := w.Get(LayerName(2, SuffixWq))
	for i := range q.Data {
		q.Data[i] = float32(i)
	}
	cl := w.Clone()
	if err := cl.ConvertRope(RopeInterleaved); err != nil {
		t.Fatal(err)
	}
	if cl.Config.RopeLayout != RopeInterleaved || slices.Equal(cl.Get(LayerName(2, SuffixWq)).Data, q.Data) {
		t.Fatal("ConvertRope did nothing")
	}
	if err := cl.ConvertRope(RopeHalf); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cl.Get(LayerName(2, SuffixWq)).Data, q.Data) {
		t.Fatal("ConvertRope round trip differs")
	}
	w.Tensors = w.Tensors[:len(w.Tensors)-1]
	w.reindex()
	if err := w.Validate(); err == nil || !strings.Contains(err.Error(), NameFinalNorm) {
		t.Fatalf("Validate = %v", err)
	}
}
