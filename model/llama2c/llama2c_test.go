package llama2c

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/model"
)

const stories = "models/stories260K/stories260K.bin"

func TestReadStories260K(t *testing.T) {
	path := sharedtest.Path(t, stories)
	w, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	want := model.Config{Dim: 64, HiddenDim: 172, NLayers: 5, NHeads: 8, NKVHeads: 4, Vocab: 512, MaxSeqLen: 512,
		RopeTheta: 10000, RMSEps: 1e-5, TiedEmbeddings: true, RopeLayout: model.RopeHalf}
	if w.Config != want {
		t.Fatalf("config %+v, want %+v", w.Config, want)
	}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	// 2 + 5*9 + 2 (legacy tables) tensors.
	if len(w.Tensors) != 1+5*9+1+2 {
		t.Fatalf("%d tensors", len(w.Tensors))
	}
	if w.Tensors[0].Name != model.NameEmbed || w.Get("model.layers.4.mlp.down_proj.weight") == nil {
		t.Fatal("unexpected names")
	}
	var n int
	for _, s := range w.Config.ParamSpecs() {
		n += len(w.Get(s.Name).Data)
	}
	if n != 260032 {
		t.Fatalf("%d parameters", n)
	}
	// Embedding starts right after the header; the first value of the
	// file is the first embedding value.
	raw, _ := os.ReadFile(path)
	if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[28:])); got != w.Tensors[0].Data[0] {
		t.Fatalf("embedding[0] = %v, file %v", w.Tensors[0].Data[0], got)
	}
	// The legacy cos table at position 0 is all ones.
	if c := w.Get(NameFreqCos); c.Data[0] != 1 || c.Shape[0] != 512 || c.Shape[1] != 4 {
		t.Fatalf("cos table %v %v", c.Shape, c.Data[:4])
	}

	// The interleaved read differs from the half read only by the row
	// permutation of wq and wk.
	wi, err := ReadLayout(path, model.RopeInterleaved)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range w.Tensors {
		ti := wi.Get(tt.Name)
		same := slices.Equal(tt.Data, ti.Data)
		isQK := strings.HasSuffix(tt.Name, model.SuffixWq) || strings.HasSuffix(tt.Name, model.SuffixWk)
		if same == isQK {
			t.Fatalf("%s: equal=%v", tt.Name, same)
		}
	}
	q0i := wi.Get(model.LayerName(0, model.SuffixWq)).Data
	q0h := w.Get(model.LayerName(0, model.SuffixWq)).Data
	// head 1, half-layout row 1 = interleaved row 2; row 5 (= 1+4) = interleaved row 3.
	if !slices.Equal(q0h[(8+1)*64:(8+2)*64], q0i[(8+2)*64:(8+3)*64]) ||
		!slices.Equal(q0h[(8+5)*64:(8+6)*64], q0i[(8+3)*64:(8+4)*64]) {
		t.Fatal("wq rows not permuted as documented")
	}
}

func TestRoundTrip(t *testing.T) {
	path := sharedtest.Path(t, stories)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, layout := range []model.RopeLayout{model.RopeHalf, model.RopeInterleaved} {
		w, err := ReadLayout(path, layout)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "rt.bin")
		if err := Write(out, w); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(out)
		if !bytes.Equal(got, orig) {
			t.Fatalf("layout %v: round trip differs (%d vs %d bytes)", layout, len(got), len(orig))
		}
	}
}

func TestRecomputedLegacyTables(t *testing.T) {
	w, err := Read(sharedtest.Path(t, stories))
	if err != nil {
		t.Fatal(err)
	}
	cos, sin := legacyRopeTables(w.Config)
	for i, v := range w.Get(NameFreqCos).Data {
		if math.Abs(float64(v-cos[i])) > 1e-4 || math.Abs(float64(w.Get(NameFreqSin).Data[i]-sin[i])) > 1e-4 {
			t.Fatalf("table %d: file %v/%v, computed %v/%v", i, v, w.Get(NameFreqSin).Data[i], cos[i], sin[i])
		}
	}
}

func TestSizeMismatch(t *testing.T) {
	orig, err := os.ReadFile(sharedtest.Path(t, stories))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		data []byte
		size string
	}{
		{orig[:len(orig)-4], "1056536"},
		{append(slices.Clone(orig), 0, 0, 0, 0), "1056544"},
	} {
		p := filepath.Join(dir, "bad.bin")
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Read(p)
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		for _, want := range []string{p, c.size, "1056540", "dim 64"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
	}
	// Garbage header.
	p := filepath.Join(dir, "garbage.bin")
	os.WriteFile(p, bytes.Repeat([]byte{0xff}, 64), 0o644)
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), "bad header") {
		t.Fatalf("garbage: %v", err)
	}
}

// An untied model (negative vocab in the header) writes the classifier at
// the end and reads back identically; missing legacy tables are computed.
func TestUntiedRoundTrip(t *testing.T) {
	cfg := model.Config{Dim: 16, HiddenDim: 40, NLayers: 2, NHeads: 4, NKVHeads: 2, Vocab: 30, MaxSeqLen: 8,
		RopeTheta: 10000, RMSEps: 1e-5}
	w := model.NewWeights(cfg)
	k := 0
	for _, tt := range w.Tensors {
		for i := range tt.Data {
			tt.Data[i] = float32(k) * 0.001
			k++
		}
	}
	var buf bytes.Buffer
	if err := Encode(&buf, w); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if v := int32(binary.LittleEndian.Uint32(b[20:])); v != -30 {
		t.Fatalf("header vocab %d, want -30", v)
	}
	h, _ := ReadHeader(bytes.NewReader(b))
	if int64(len(b)) != h.FileSize() {
		t.Fatalf("wrote %d bytes, header implies %d", len(b), h.FileSize())
	}
	// The classifier is the last vocab*dim floats.
	head := w.Get(model.NameLMHead).Data
	if got := math.Float32frombits(binary.LittleEndian.Uint32(b[len(b)-4:])); got != head[len(head)-1] {
		t.Fatalf("last float %v, want %v", got, head[len(head)-1])
	}
	r, err := Decode(bytes.NewReader(b), int64(len(b)), "mem", model.RopeHalf)
	if err != nil {
		t.Fatal(err)
	}
	if r.Config != cfg {
		t.Fatalf("config %+v", r.Config)
	}
	for _, tt := range w.Tensors {
		if !slices.Equal(tt.Data, r.Get(tt.Name).Data) || !slices.Equal(tt.Shape, r.Get(tt.Name).Shape) {
			t.Fatalf("%s differs", tt.Name)
		}
	}
	if r.Get(NameFreqCos) == nil {
		t.Fatal("no legacy tables read back")
	}

	bias := cfg
	bias.QKVBias = true
	if err := Encode(&buf, model.NewWeights(bias)); err == nil {
		t.Fatal("biases accepted")
	}
}
