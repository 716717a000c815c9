// Package trainertest holds test helpers for the trainer and the train
// command: a byte-level renderer and synthetic chat samples. The renderer
// is NOT a chat template and must not be used to train real models: it
// exists so that trainer tests do not depend on a tokenizer.
package trainertest

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/humanllm/humanllm/tasks"
)

// Renderer renders each message as "<role initial>:" + content + "\n",
// one id per byte (ids < 256); assistant content and its "\n" are trained.
type Renderer struct{}

// Render implements data.Renderer.
func (Renderer) Render(s tasks.Sample) ([]int32, []bool, error) {
	var ids []int32
	var tr []bool
	for _, m := range s.Messages {
		for _, c := range []byte(m.Role[:1] + ":") {
			ids, tr = append(ids, int32(c)), append(tr, false)
		}
		for _, c := range []byte(m.Content + "\n") {
			ids, tr = append(ids, int32(c)), append(tr, m.Role == "assistant")
		}
	}
	return ids, tr, nil
}

var words = strings.Fields("the a cat dog sat ran on under mat tree red blue big small and then it was happy sad")

// Samples returns n deterministic chat samples of the task kinds given
// (cycled), with short user prompts and assistant answers that follow a
// learnable pattern (the answer repeats words of the prompt).
func Samples(n int, seed uint64, kinds ...string) []tasks.Sample {
	if len(kinds) == 0 {
		kinds = []string{"action", "style"}
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]tasks.Sample, n)
	for i := range out {
		var q []string
		for range 2 + rng.IntN(5) {
			q = append(q, words[rng.IntN(len(words))])
		}
		kind := kinds[i%len(kinds)]
		ans := strings.Join(q, " ")
		if kind == "style" {
			ans = strings.ToUpper(ans)
		}
		out[i] = tasks.Sample{
			Task:   fmt.Sprintf("%s.test", kind),
			Source: "test",
			Messages: []tasks.Message{
				{Role: "user", Content: strings.Join(q, " ")},
				{Role: "assistant", Content: ans},
			},
		}
	}
	return out
}
