// Package llama2c reads and writes llama2.c's legacy ("version 0")
// checkpoint format, the .bin files run.c loads (stories260K, stories15M…).
//
// # Format
//
// Little-endian. A 28-byte header of seven int32 — dim, hidden_dim,
// n_layers, n_heads, n_kv_heads, vocab_size, seq_len — then float32 arrays
// packed back to back, row-major, each per-layer tensor stored for all
// layers (layer 0 first): token embedding [vocab, dim]; attention RMSNorm
// [layers, dim]; wq [layers, dim, dim]; wk, wv [layers, kv_dim, dim]; wo
// [layers, dim, dim]; FFN RMSNorm [layers, dim]; w1 (gate) [layers, hidden,
// dim]; w2 (down) [layers, dim, hidden]; w3 (up) [layers, hidden, dim];
// final RMSNorm [dim]; the legacy RoPE tables cos then sin, each [seq_len,
// head_size/2] (unused by run.c); and, only when the header's vocab_size is
// negative, the classifier [vocab, dim]. A positive vocab_size means the
// classifier is tied to the embedding. The file size is exactly implied by
// the header; Read checks it.
//
// # Names and RoPE layout
//
// Read returns model.Weights with Hugging Face names
// (model.embed_tokens.weight, model.layers.N.self_attn.q_proj.weight, …;
// w1 → mlp.gate_proj, w2 → mlp.down_proj, w3 → mlp.up_proj). The two
// legacy RoPE tables are kept as the extra tensors NameFreqCos and
// NameFreqSin so that Write reproduces the file byte for byte.
//
// llama2.c rotates adjacent pairs (2i, 2i+1) of each head (Meta's
// interleaved layout); the rest of this project uses Hugging Face's
// rotate-half pairing (i, i+head/2). Read therefore permutes the rows of wq
// and wk inside each head (model.PermuteRopeRows) and returns a config with
// RopeLayout = model.RopeHalf; Write permutes them back. The permutation is
// exact (a reordering of rows), so a read/write round trip is
// byte-identical. ReadLayout(path, model.RopeInterleaved) skips the
// conversion.
package llama2c

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/humanllm/humanllm/model"
)

// Names of the legacy RoPE tables kept as extra tensors.
const (
	NameFreqCos = "llama2c.freq_cis_real"
	NameFreqSin = "llama2c.freq_cis_imag"
)

// Defaults llama2.c trains with; the header does not store them.
const (
	RopeTheta = 10000.0
	RMSEps    = 1e-5
)

const headerSize = 7 * 4

// Header is the seven int32 of a legacy checkpoint.
type Header struct {
	Dim, HiddenDim, NLayers, NHeads, NKVHeads, Vocab, SeqLen int32
}

// Config is the model config the header describes (in llama2.c's own
// interleaved RoPE layout).
func (h Header) Config() model.Config {
	v := int(h.Vocab)
	if v < 0 {
		v = -v
	}
	return model.Config{
		Dim: int(h.Dim), HiddenDim: int(h.HiddenDim), NLayers: int(h.NLayers),
		NHeads: int(h.NHeads), NKVHeads: int(h.NKVHeads), Vocab: v, MaxSeqLen: int(h.SeqLen),
		RopeTheta: RopeTheta, RMSEps: RMSEps,
		TiedEmbeddings: h.Vocab > 0,
		RopeLayout:     model.RopeInterleaved,
	}
}

func (h Header) String() string {
	cls := "tied classifier"
	if h.Vocab < 0 {
		cls = "separate classifier"
	}
	return fmt.Sprintf("dim %d, hidden_dim %d, n_layers %d, n_heads %d, n_kv_heads %d, vocab_size %d (%s), seq_len %d",
		h.Dim, h.HiddenDim, h.NLayers, h.NHeads, h.NKVHeads, h.Vocab, cls, h.SeqLen)
}

// FileSize is the exact size in bytes of a checkpoint with this header.
func (h Header) FileSize() int64 {
	n := int64(0)
	for _, s := range layout(h.Config()) {
		n += int64(s.Size())
	}
	return headerSize + 4*n
}

// headerFromConfig is the header Write stores for cfg.
func headerFromConfig(c model.Config) (Header, error) {
	if c.QKVBias {
		return Header{}, errors.New("llama2c: the format has no q/k/v biases")
	}
	fits := func(v int) bool { return v > 0 && v <= math.MaxInt32 }
	for _, v := range []int{c.Dim, c.HiddenDim, c.NLayers, c.NHeads, c.NKVHeads, c.Vocab, c.MaxSeqLen} {
		if !fits(v) {
			return Header{}, fmt.Errorf("llama2c: config value %d does not fit the header", v)
		}
	}
	h := Header{int32(c.Dim), int32(c.HiddenDim), int32(c.NLayers), int32(c.NHeads), int32(c.NKVHeads),
		int32(c.Vocab), int32(c.MaxSeqLen)}
	if !c.TiedEmbeddings {
		h.Vocab = -h.Vocab
	}
	return h, nil
}

// layout lists the tensors in file order. Per-layer entries stand for all
// layers (the file stores tensor k of every layer before tensor k+1).
type fileTensor struct {
	suffix   string // per-layer suffix, or "" for a global tensor
	name     string // global name
	shape    []int  // shape of one layer's tensor
	perLayer bool
}

func (f fileTensor) Size() int {
	n := 1
	for _, d := range f.shape {
		n *= d
	}
	return n
}

func layout(c model.Config) []fileTensor {
	d, kv, h := c.Dim, c.KVDim(), c.HiddenDim
	L := func(s string, shape ...int) fileTensor { return fileTensor{suffix: s, shape: shape, perLayer: true} }
	G := func(n string, shape ...int) fileTensor { return fileTensor{name: n, shape: shape} }
	hs := 0
	if c.NHeads > 0 {
		hs = d / c.NHeads
	}
	ts := []fileTensor{
		G(model.NameEmbed, c.Vocab, d),
		L(model.SuffixAttnNorm, d),
		L(model.SuffixWq, d, d),
		L(model.SuffixWk, kv, d),
		L(model.SuffixWv, kv, d),
		L(model.SuffixWo, d, d),
		L(model.SuffixFFNNorm, d),
		L(model.SuffixGate, h, d),
		L(model.SuffixDown, d, h),
		L(model.SuffixUp, h, d),
		G(model.NameFinalNorm, d),
		G(NameFreqCos, c.MaxSeqLen, hs/2),
		G(NameFreqSin, c.MaxSeqLen, hs/2),
	}
	if !c.TiedEmbeddings {
		ts = append(ts, G(model.NameLMHead, c.Vocab, d))
	}
	// Per-layer sizes count all layers.
	for i := range ts {
		if ts[i].perLayer {
			ts[i].shape = append([]int{c.NLayers}, ts[i].shape...)
		}
	}
	return ts
}

// Read loads a legacy checkpoint and converts wq/wk to the rotate-half
// RoPE layout (model.RopeHalf).
func Read(path string) (*model.Weights, error) { return ReadLayout(path, model.RopeHalf) }

// ReadLayout loads a legacy checkpoint with wq/wk in the given RoPE layout
// (model.RopeInterleaved keeps the file's own order).
func ReadLayout(path string, rope model.RopeLayout) (*model.Weights, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("llama2c: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("llama2c: %w", err)
	}
	return Decode(bufio.NewReaderSize(f, 1<<20), st.Size(), path, rope)
}

// ReadHeader reads and validates the header at the start of r.
func ReadHeader(r io.Reader) (Header, error) {
	var h Header
	if err := binary.Read(r, binary.LittleEndian, &h); err != nil {
		return h, err
	}
	if err := h.Config().Validate(); err != nil {
		return h, fmt.Errorf("bad header (%v): %w", h, err)
	}
	// Guard FileSize against overflow on garbage headers: no sane
	// checkpoint is anywhere near 2^50 bytes.
	est := 0.0
	for _, ft := range layout(h.Config()) {
		n := 1.0
		for _, d := range ft.shape {
			n *= float64(d)
		}
		est += 4 * n
	}
	if est > 1<<50 {
		return h, fmt.Errorf("bad header (%v): implies %.3g bytes", h, est)
	}
	return h, nil
}

// Decode reads a checkpoint of size bytes from r; name labels errors.
func Decode(r io.Reader, size int64, name string, rope model.RopeLayout) (*model.Weights, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, fmt.Errorf("llama2c: %s: %w", name, err)
	}
	if want := h.FileSize(); size != want {
		return nil, fmt.Errorf("llama2c: %s: file is %d bytes, but its header (%v) implies exactly %d bytes",
			name, size, h, want)
	}
	cfg := h.Config()
	w := &model.Weights{Config: cfg}
	buf := make([]byte, 0, 1<<16)
	readFloats := func(n int) ([]float32, error) {
		out := make([]float32, n)
		for off := 0; off < n; {
			k := min(n-off, cap(buf)/4)
			b := buf[:4*k]
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, err
			}
			for i := range k {
				out[off+i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
			off += k
		}
		return out, nil
	}
	// The file stores per-layer tensors layer-major; add them to w in
	// model order (embedding, layer by layer, norm, head, extras).
	perLayer := map[string][]float32{}
	global := map[string]*model.Tensor{}
	for _, ft := range layout(cfg) {
		data, err := readFloats(ft.Size())
		if err != nil {
			return nil, fmt.Errorf("llama2c: %s: reading %s%s: %w", name, ft.name, ft.suffix, err)
		}
		if ft.perLayer {
			perLayer[ft.suffix] = data
		} else {
			global[ft.name] = &model.Tensor{Name: ft.name, Shape: ft.shape, Data: data}
		}
	}
	for _, spec := range cfg.ParamSpecs() {
		t := global[spec.Name]
		if t == nil {
			var l int
			var suffix string
			if _, err := fmt.Sscanf(spec.Name, "model.layers.%d.", &l); err != nil {
				return nil, fmt.Errorf("llama2c: internal: unexpected tensor %q", spec.Name)
			}
			suffix = spec.Name[len(model.LayerName(l, "")):]
			all := perLayer[suffix]
			n := spec.Size()
			t = &model.Tensor{Name: spec.Name, Shape: spec.Shape, Data: all[l*n : (l+1)*n : (l+1)*n]}
		}
		if err := w.Add(t); err != nil {
			return nil, fmt.Errorf("llama2c: %s: %w", name, err)
		}
	}
	for _, n := range []string{NameFreqCos, NameFreqSin} {
		if err := w.Add(global[n]); err != nil {
			return nil, fmt.Errorf("llama2c: %s: %w", name, err)
		}
	}
	if err := w.ConvertRope(rope); err != nil {
		return nil, fmt.Errorf("llama2c: %s: %w", name, err)
	}
	return w, nil
}

// Write stores w as a legacy checkpoint at path (wq/wk converted back to
// the interleaved layout; w is not modified). Missing legacy RoPE tables
// are computed.
func Write(path string, w *model.Weights) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("llama2c: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := Encode(bw, w); err != nil {
		f.Close()
		return fmt.Errorf("llama2c: %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("llama2c: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("llama2c: %s: %w", path, err)
	}
	return nil
}

// Encode writes w in the legacy format to out.
func Encode(out io.Writer, w *model.Weights) error {
	if err := w.Validate(); err != nil {
		return err
	}
	cfg := w.Config
	h, err := headerFromConfig(cfg)
	if err != nil {
		return err
	}
	if err := binary.Write(out, binary.LittleEndian, h); err != nil {
		return err
	}
	buf := make([]byte, 1<<16)
	write := func(data []float32) error {
		for off := 0; off < len(data); {
			k := min(len(data)-off, len(buf)/4)
			for i := range k {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(data[off+i]))
			}
			if _, err := out.Write(buf[:4*k]); err != nil {
				return err
			}
			off += k
		}
		return nil
	}
	hd := cfg.HeadDim()
	cos, sin := legacyRopeTables(cfg)
	for _, ft := range layout(cfg) {
		if !ft.perLayer {
			t := w.Get(ft.name)
			var data []float32
			switch {
			case t != nil && t.Size() == ft.Size():
				data = t.Data
			case ft.name == NameFreqCos:
				data = cos
			case ft.name == NameFreqSin:
				data = sin
			default:
				return fmt.Errorf("missing tensor %s", ft.name)
			}
			if err := write(data); err != nil {
				return err
			}
			continue
		}
		for l := range cfg.NLayers {
			t := w.Get(model.LayerName(l, ft.suffix))
			data := t.Data
			switch ft.suffix {
			case model.SuffixWq:
				data = model.PermuteRopeRows(data, cfg.NHeads, hd, cfg.Dim, cfg.RopeLayout, model.RopeInterleaved)
			case model.SuffixWk:
				data = model.PermuteRopeRows(data, cfg.NKVHeads, hd, cfg.Dim, cfg.RopeLayout, model.RopeInterleaved)
			}
			if err := write(data); err != nil {
				return err
			}
		}
	}
	return nil
}

// legacyRopeTables computes the tables llama2.c's legacy export stores:
// cos and sin of pos·theta^(-2i/head) for pos < seq_len, i < head/2.
func legacyRopeTables(c model.Config) (cos, sin []float32) {
	hd := c.HeadDim()
	half := hd / 2
	cos = make([]float32, c.MaxSeqLen*half)
	sin = make([]float32, c.MaxSeqLen*half)
	for p := range c.MaxSeqLen {
		for i := range half {
			f := float32(1 / math.Pow(c.RopeTheta, float64(2*i)/float64(hd)))
			a := float64(float32(p) * f)
			cos[p*half+i] = float32(math.Cos(a))
			sin[p*half+i] = float32(math.Sin(a))
		}
	}
	return cos, sin
}
