// Package model will hold the transformer architectures (Llama family,
// GPT-2) as gorgonia graphs, the tokenizers and the weight formats
// (safetensors, GGUF, llama2.c), each checked against a reference
// implementation. Nothing is implemented here yet: it is the subject of the
// model issue, and no command depends on it.
package model
