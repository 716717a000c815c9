package model

import (
	"errors"
	"fmt"
	"slices"
)

// Tensor is a named, dense, row-major float32 array.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Size is the number of elements the shape implies.
func (t *Tensor) Size() int { return shapeSize(t.Shape) }

// Weights is a model's tensors by Hugging Face name, in a fixed order, with
// the Config they belong to. Besides the parameters of Config.ParamSpecs it
// may hold extra tensors a format carries (llama2.c's legacy RoPE tables,
// for instance), which loaders keep so that a file can be written back
// unchanged.
type Weights struct {
	Config  Config
	Tensors []*Tensor

	index map[string]int
}

// NewWeights allocates zero tensors for every parameter of cfg.
func NewWeights(cfg Config) *Weights {
	w := &Weights{Config: cfg}
	for _, s := range cfg.ParamSpecs() {
		_ = w.Add(&Tensor{Name: s.Name, Shape: slices.Clone(s.Shape), Data: make([]float32, s.Size())})
	}
	return w
}

// Add appends a tensor; it fails on a duplicate name or a data length that
// does not match the shape.
func (w *Weights) Add(t *Tensor) error {
	if w.index == nil {
		w.reindex()
	}
	if _, dup := w.index[t.Name]; dup {
		return fmt.Errorf("weights: duplicate tensor %q", t.Name)
	}
	if len(t.Data) != t.Size() {
		return fmt.Errorf("weights: tensor %q has %d values for shape %v", t.Name, len(t.Data), t.Shape)
	}
	w.index[t.Name] = len(w.Tensors)
	w.Tensors = append(w.Tensors, t)
	return nil
}

// Get returns the named tensor or nil.
func (w *Weights) Get(name string) *Tensor {
	if w.index == nil || len(w.index) != len(w.Tensors) {
		w.reindex()
	}
	if i, ok := w.index[name]; ok {
		return w.Tensors[i]
	}
	return nil
}

func (w *Weights) reindex() {
	w.index = make(map[string]int, len(w.Tensors))
	for i, t := range w.Tensors {
		w.index[t.Name] = i
	}
}

// Validate checks that every parameter of the config is present with the
// right shape and data length.
func (w *Weights) Validate() error {
	if err := w.Config.Validate(); err != nil {
		return err
	}
	var errs []error
	for _, s := range w.Config.ParamSpecs() {
		t := w.Get(s.Name)
		switch {
		case t == nil:
			errs = append(errs, fmt.Errorf("missing tensor %q", s.Name))
		case !slices.Equal(t.Shape, s.Shape):
			errs = append(errs, fmt.Errorf("tensor %q has shape %v, want %v", s.Name, t.Shape, s.Shape))
		case len(t.Data) != s.Size():
			errs = append(errs, fmt.Errorf("tensor %q has %d values, want %d", s.Name, len(t.Data), s.Size()))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("weights: %w", errors.Join(errs...))
	}
	return nil
}

// Clone is a deep copy.
func (w *Weights) Clone() *Weights {
	c := &Weights{Config: w.Config}
	for _, t := range w.Tensors {
		_ = c.Add(&Tensor{Name: t.Name, Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)})
	}
	return c
}

// Classifier returns the output projection [vocab, dim]: lm_head.weight, or
// the token embedding when the config ties them.
func (w *Weights) Classifier() *Tensor {
	if w.Config.TiedEmbeddings {
		return w.Get(NameEmbed)
	}
	return w.Get(NameLMHead)
}
