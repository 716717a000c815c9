package llama

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/humanllm/humanllm/model"
)

// InitStd is the standard deviation of the GPT-2-style initialisation.
const InitStd = 0.02

// InitWeights returns fresh weights for cfg, deterministic in seed:
// matrices and embeddings ~ N(0, 0.02²), the residual output projections
// (self_attn.o_proj and mlp.down_proj) ~ N(0, (0.02/√(2·n_layers))²), RMSNorm
// weights 1 and biases 0. Values are drawn tensor by tensor in ParamSpecs
// order from a PCG generator.
func InitWeights(cfg model.Config, seed uint64) (*model.Weights, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := model.NewWeights(cfg)
	rng := rand.New(rand.NewPCG(seed, 0xda3e39cb94b95bdb))
	resid := InitStd / math.Sqrt(2*float64(cfg.NLayers))
	for _, t := range w.Tensors {
		switch {
		case strings.HasSuffix(t.Name, "norm.weight"):
			for i := range t.Data {
				t.Data[i] = 1
			}
		case strings.HasSuffix(t.Name, ".bias"):
			// zeros
		default:
			std := InitStd
			if strings.HasSuffix(t.Name, model.SuffixWo) || strings.HasSuffix(t.Name, model.SuffixDown) {
				std = resid
			}
			for i := range t.Data {
				t.Data[i] = float32(rng.NormFloat64() * std)
			}
		}
	}
	return w, nil
}
