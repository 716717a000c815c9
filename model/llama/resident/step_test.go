package resident_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/device"
	"github.com/humanllm/humanllm/kernels/ref"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/model/llama/resident"
	"github.com/humanllm/humanllm/model/llama2c"
	"github.com/humanllm/humanllm/trainer"
	"github.com/humanllm/humanllm/trainer/data"
)

// Tolerances of the resident step against the gorgonia graph (FusedOps on
// the same kernels): the same operations in fp32, parameter gradients
// summed in another order (directly into one buffer instead of per op).
const (
	lossTol = 1e-6 // relative, of the mean loss
	gradTol = 1e-5 // max |Δ| over a tensor, relative to its largest |gradient|
)

func testConfig(variant int) model.Config {
	cfg := model.Config{Dim: 32, HiddenDim: 80, NLayers: 2, NHeads: 4, NKVHeads: 2, Vocab: 61,
		MaxSeqLen: 32, RMSEps: 1e-5, RopeTheta: 10000, TiedEmbeddings: true}
	if variant == 1 {
		cfg.TiedEmbeddings = false
		cfg.QKVBias = true
		cfg.NKVHeads = 4
		cfg.RopeLayout = model.RopeInterleaved
	}
	return cfg
}

func testWeights(t *testing.T, cfg model.Config) *model.Weights {
	t.Helper()
	w, err := llama.InitWeights(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	// Norm weights and biases away from their initial 1 and 0, so that
	// every term of their gradients matters.
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tn := range w.Tensors {
		if strings.HasSuffix(tn.Name, "norm.weight") || strings.HasSuffix(tn.Name, ".bias") {
			for i := range tn.Data {
				tn.Data[i] += float32(rng.NormFloat64() * 0.1)
			}
		}
	}
	return w
}

// testBatch is B=2 rows of T=16: packed, row 0 holds samples [0, 7) and
// [7, 16), row 1 one sample of 11 tokens then padding; plain, each row is
// one sample with ignored padding after it. Some targets are ignored.
func testBatch(cfg model.Config, packed bool) *data.Batch {
	const b, tt = 2, 16
	rng := rand.New(rand.NewPCG(5, 6))
	bt := &data.Batch{B: b, T: tt, Inputs: make([]int32, b*tt), Targets: make([]int32, b*tt),
		Positions: make([]int32, b*tt), Start: make([]int32, b*tt)}
	segs := [][3]int{{0, 0, 7}, {0, 7, 9}, {1, 0, 11}}
	if !packed {
		segs = [][3]int{{0, 0, 13}, {1, 0, 11}}
	}
	for j := range bt.Targets {
		bt.Targets[j] = kernels.IgnoreIndex
		bt.Positions[j] = int32(j % tt)
		bt.Start[j] = 0
	}
	for _, sg := range segs {
		row, off, n := sg[0], sg[1], sg[2]
		for i := range n {
			j := row*tt + off + i
			bt.Inputs[j] = int32(rng.IntN(cfg.Vocab))
			bt.Positions[j] = int32(i)
			bt.Start[j] = int32(off)
			if i+1 < n && i != 2 { // the last token predicts nothing; one more ignored
				bt.Targets[j] = int32(rng.IntN(cfg.Vocab))
				bt.TrainedTokens++
			}
		}
	}
	if !packed {
		bt.Positions, bt.Start = nil, nil
	}
	return bt
}

// TestStepMatchesGraph: one micro-batch through the resident step on the
// host device and through the gorgonia graph give the same loss and every
// parameter gradient within lossTol and gradTol; for packed and padded
// batches, tied and untied classifiers, GQA and q/k/v biases, both RoPE
// layouts, and kernels/ref and kernels/cpu.
func TestStepMatchesGraph(t *testing.T) {
	for _, k := range []kernels.Kernels{ref.Implementation{}, cpu.Implementation{}} {
		compareWithGraph(t, typeName(k), device.Host{K: k}, k, lossTol, gradTol)
	}
}

// compareWithGraph runs one micro-batch through the resident step on dev
// and through the gorgonia graph (FusedOps on k) for every test variant,
// and compares the losses and every parameter gradient (compareOne).
func compareWithGraph(t *testing.T, name string, dev device.Device, k kernels.Kernels, lossTol, gradTol float64) {
	t.Helper()
	for variant := range 2 {
		for _, packed := range []bool{true, false} {
			cfg := testConfig(variant)
			name := fmt.Sprintf("%s/variant%d/%s", name, variant, map[bool]string{true: "packed", false: "padded"}[packed])
			compareOne(t, name, dev, k, testWeights(t, cfg), testBatch(cfg, packed), packed, lossTol, gradTol)
		}
	}
}

// compareOne compares the resident step on dev with the graph on k for
// one batch: the losses (relative tolerance lossTol), every parameter
// gradient (max |Δ| relative to the tensor's largest |gradient|,
// gradTol), and the forward-only step's loss (equal to the training
// step's).
func compareOne(t *testing.T, name string, dev device.Device, k kernels.Kernels, w *model.Weights, b *data.Batch, packed bool, lossTol, gradTol float64) {
	t.Helper()
	g, err := llama.NewGraph(w, b.B, b.T, llama.GraphOptions{Ops: &llama.FusedOps{K: k}})
	if err != nil {
		t.Fatal(err)
	}
	gm := trainer.NewGraphModel(g, packed)
	defer gm.Close()
	want, err := gm.Run(b)
	if err != nil {
		t.Fatal(err)
	}
	st, err := resident.New(dev, w, b.B, b.T, resident.Options{Packed: packed})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Run(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(got-want) / math.Abs(want); !(d <= lossTol) {
		t.Errorf("%s: loss %.7f, graph %.7f", name, got, want)
	}
	worst := 0.0
	for i, sp := range st.Params() {
		if gsp := gm.Params()[i]; gsp.Name != sp.Name {
			t.Fatalf("%s: parameter %d is %s, graph's %s", name, i, sp.Name, gsp.Name)
		}
		gg, rg := gm.Grad(i), st.Grad(i)
		if len(gg) != len(rg) {
			t.Fatalf("%s: %s gradient of %d values, graph's %d", name, sp.Name, len(rg), len(gg))
		}
		var big, diff float64
		for j := range gg {
			big = math.Max(big, math.Abs(float64(gg[j])))
			diff = math.Max(diff, math.Abs(float64(gg[j]-rg[j])))
		}
		if big == 0 {
			t.Errorf("%s: %s has a zero gradient: the test would not see it", name, sp.Name)
			continue
		}
		worst = math.Max(worst, diff/big)
		if !(diff <= gradTol*big) {
			t.Errorf("%s: %s gradient differs by %.3g (largest |g| %.3g)", name, sp.Name, diff, big)
		}
	}
	t.Logf("%s: loss %.7f vs graph %.7f; worst relative gradient difference %.2g", name, got, want, worst)

	ev, err := resident.New(dev, w, b.B, b.T, resident.Options{Packed: packed, NoGrad: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	if l, err := ev.Run(b); err != nil || l != got {
		t.Errorf("%s: NoGrad loss %v (%v), with gradients %v", name, l, err, got)
	}
}

// TestStepMatchesGraphStories260K: the real stories260K model (interleaved
// RoPE, GQA, 5 layers; ../shared) on a packed batch of B=2 rows of T=64
// tokens, resident step on the host device against the graph, both on
// kernels/cpu, within the same tolerances.
func TestStepMatchesGraphStories260K(t *testing.T) {
	w, err := llama2c.Read(sharedtest.Path(t, "models/stories260K/stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	const B, T = 2, 64
	rng := rand.New(rand.NewPCG(8, 9))
	b := &data.Batch{B: B, T: T, Inputs: make([]int32, B*T), Targets: make([]int32, B*T),
		Positions: make([]int32, B*T), Start: make([]int32, B*T)}
	for j := range b.Inputs {
		row, tt := j/T, j%T
		off := 0
		if row == 0 && tt >= 40 {
			off = 40 // row 0: samples [0, 40) and [40, 64)
		}
		b.Inputs[j] = int32(rng.IntN(w.Config.Vocab))
		b.Positions[j], b.Start[j] = int32(tt-off), int32(off)
		b.Targets[j] = kernels.IgnoreIndex
		if tt != 39 && tt != T-1 {
			b.Targets[j] = int32(rng.IntN(w.Config.Vocab))
			b.TrainedTokens++
		}
	}
	k := cpu.Implementation{}
	compareOne(t, "stories260K", device.Host{K: k}, k, w, b, true, lossTol, gradTol)
}

func typeName(k kernels.Kernels) string {
	switch k.(type) {
	case ref.Implementation:
		return "ref"
	case cpu.Implementation:
		return "cpu"
	}
	return "?"
}
