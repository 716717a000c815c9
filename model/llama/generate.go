package llama

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// GenerateOptions control sampling.
type GenerateOptions struct {
	MaxNew      int     // tokens to generate at most
	Temperature float64 // 0: greedy (argmax, first index on ties)
	TopK        int     // keep the K most likely tokens; 0 or >= vocab: all
	TopP        float64 // nucleus: keep the smallest set with mass >= TopP; 0 or >= 1: all
	Seed        uint64  // sampling RNG seed (unused when greedy)
	Stop        []int32 // stop after generating any of these (it is included)
	// OnToken, when set, is called with each token as soon as it is
	// sampled, before the next forward step (for streaming). A non-nil
	// error stops generation: GenerateContext returns the tokens so far,
	// the last one included, with that error.
	OnToken func(id int32) error
}

// Generate continues prompt with up to maxNew tokens using the reference
// forward pass and a KV cache, and returns the new tokens. Temperature 0 is
// greedy decoding; otherwise logits are divided by temperature, filtered by
// topK and topP, and sampled with a PCG generator seeded by seed.
// Generation also stops at max_seq_len.
func (r *Reference) Generate(prompt []int32, maxNew int, temperature float64, topK int, topP float64, seed uint64) ([]int32, error) {
	return r.GenerateWith(prompt, GenerateOptions{MaxNew: maxNew, Temperature: temperature, TopK: topK, TopP: topP, Seed: seed})
}

// GenerateWith is Generate with options (stop tokens, a token callback).
func (r *Reference) GenerateWith(prompt []int32, o GenerateOptions) ([]int32, error) {
	return r.GenerateContext(context.Background(), prompt, o)
}

// GenerateContext is GenerateWith that stops when ctx is done: ctx is
// checked before every forward step (prompt tokens included), and its error
// is returned with the tokens generated so far.
func (r *Reference) GenerateContext(ctx context.Context, prompt []int32, o GenerateOptions) ([]int32, error) {
	if len(prompt) == 0 {
		return nil, fmt.Errorf("llama: generate needs a non-empty prompt (start with BOS)")
	}
	if o.Temperature < 0 || math.IsNaN(o.Temperature) {
		return nil, fmt.Errorf("llama: temperature %v < 0", o.Temperature)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x853c49e6748fea9b))
	s := r.NewState()
	var logits []float64
	var err error
	for _, id := range prompt {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if logits, err = s.Step(id); err != nil {
			return nil, err
		}
	}
	var out []int32
	probs := make([]float64, r.Config.Vocab)
	for len(out) < o.MaxNew {
		next := sample(logits, probs, o, rng)
		out = append(out, next)
		if o.OnToken != nil {
			if err := o.OnToken(next); err != nil {
				return out, err
			}
		}
		if slices.Contains(o.Stop, next) || len(out) == o.MaxNew || s.Pos() >= r.Config.MaxSeqLen {
			break
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if logits, err = s.Step(next); err != nil {
			return out, err
		}
	}
	return out, nil
}

func sample(logits, probs []float64, o GenerateOptions, rng *rand.Rand) int32 {
	if o.Temperature == 0 {
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		return int32(best)
	}
	for i, v := range logits {
		probs[i] = v / o.Temperature
	}
	softmax(probs)
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
	keep := len(idx)
	if o.TopK > 0 && o.TopK < keep {
		keep = o.TopK
	}
	if o.TopP > 0 && o.TopP < 1 {
		var mass float64
		for i := range keep {
			mass += probs[idx[i]]
			if mass >= o.TopP {
				keep = i + 1
				break
			}
		}
	}
	var total float64
	for _, i := range idx[:keep] {
		total += probs[i]
	}
	u := rng.Float64() * total
	for _, i := range idx[:keep] {
		u -= probs[i]
		if u < 0 {
			return int32(i)
		}
	}
	return int32(idx[keep-1])
}
