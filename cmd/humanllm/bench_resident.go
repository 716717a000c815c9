package main

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/device"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/gpt2"
	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/model/llama/resident"
	"github.com/humanllm/humanllm/trainer/data"
)

// residentBenchConfig is the Llama counterpart of a GPT-2 benchmark model
// for the device-resident step: the same layers, heads, width, context and
// vocabulary; SwiGLU of hidden width 4·C, tied embeddings, no biases.
func residentBenchConfig(c gpt2.Config) model.Config {
	return model.Config{Dim: c.Dim, HiddenDim: 4 * c.Dim, NLayers: c.Layers, NHeads: c.Heads, NKVHeads: c.Heads,
		Vocab: c.Vocab, MaxSeqLen: c.Context, RMSEps: 1e-5, RopeTheta: 10000, TiedEmbeddings: true}
}

// llamaFLOPsPerToken is the training FLOPs per token of the Llama step by
// gpt2.Config.FLOPsPerToken's convention: 6 per parameter (forward 2,
// backward 4; the tied embedding counted once, as the classifier) plus
// 12·L·T·C for attention's scores and weighted sums.
func llamaFLOPsPerToken(c model.Config, t int) float64 {
	return 6*float64(c.ParamCount()) + 12*float64(c.NLayers*t*c.Dim)
}

// benchResidentStep times the device-resident Llama step
// (model/llama/resident) on dev: per step one micro-batch of random
// tokens goes up, forward + cross-entropy + backward, the gradient norm
// comes down, clipping at 1 and AdamW (the graph benchmark's settings) run
// on the device, and the device is synchronised before the clock stops.
func benchResidentStep(cfg model.Config, name string, batch, warmup, steps int, dev device.Device) (trainRow, error) {
	runtime.GC()
	w, err := llama.InitWeights(cfg, 1337)
	if err != nil {
		return trainRow{}, err
	}
	t := cfg.MaxSeqLen
	st, err := resident.New(dev, w, batch, t, resident.Options{})
	if err != nil {
		return trainRow{}, err
	}
	defer st.Close()
	n := batch * t
	rng := rand.New(rand.NewPCG(1337, 2))
	b := data.Batch{B: batch, T: t, Inputs: make([]int32, n), Targets: make([]int32, n), TrainedTokens: n}
	hyper := make([]kernels.AdamWParams, len(st.Params()))
	var times []time.Duration
	for i := range warmup + steps {
		for j := range b.Inputs {
			b.Inputs[j], b.Targets[j] = int32(rng.IntN(cfg.Vocab)), int32(rng.IntN(cfg.Vocab))
		}
		t0 := time.Now()
		if _, _, err := st.Accumulate([]data.Batch{b}, n); err != nil {
			return trainRow{}, err
		}
		coef := 1.0
		if norm := st.GradNorm(); norm > 1 {
			coef = 1 / (norm + 1e-6)
		}
		for k := range hyper {
			hyper[k] = kernels.AdamWParams{LR: 3e-4, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, Step: i + 1}
		}
		if err := st.Update(coef, hyper); err != nil {
			return trainRow{}, err
		}
		dev.Sync()
		if i >= warmup {
			times = append(times, time.Since(t0))
		}
	}
	slices.Sort(times)
	med := times[len(times)/2]
	tps := float64(n) / med.Seconds()
	return trainRow{
		Impl: "ours-resident", Model: "llama-" + name, Batch: batch, TokensPerS: tps,
		StepMSMedian: ms(med), StepMSMin: ms(times[0]), StepMSMax: ms(times[len(times)-1]),
		GFLOPS: llamaFLOPsPerToken(cfg, t) * tps / 1e9,
		Note:   fmt.Sprintf("device-resident step on %s", dev.Name()),
	}, nil
}

type deviceLayer = device.Device

// hostLayer is the host device over kernels/cpu.
func hostLayer() device.Device { return device.Host{K: cpu.Implementation{}} }
