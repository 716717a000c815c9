// Package model holds what the transformer architectures share: the Llama
// family Config (shapes, parameter count, memory estimate and the check that
// refuses a model that will not fit in RAM) and Weights, a format-neutral set
// of named float32 tensors using Hugging Face names
// ("model.layers.0.self_attn.q_proj.weight").
//
// Subpackages: llama2c reads and writes llama2.c's legacy .bin checkpoints;
// llama has the plain-Go reference forward pass (float64, KV cache,
// generation) and the gorgonia training graph; tokenizer holds the
// tokenizers.
package model
