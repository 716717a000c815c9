//go:build !cuda

package cuda

import (
	"errors"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/device"
)

// Available reports whether this build has the CUDA backend (build tag
// cuda).
const Available = false

// ErrNotBuilt is what Open returns in a build without the tag.
var ErrNotBuilt = errors.New("built without CUDA support: rebuild with -tags cuda")

// Implementation is empty in builds without the tag; Open never returns one.
type Implementation struct{ kernels.Kernels }

// Open reports ErrNotBuilt.
func Open(Options) (*Implementation, error) { return nil, ErrNotBuilt }

// Info is never called in builds without the tag.
func (*Implementation) Info() Info { return Info{} }

// Name is never called in builds without the tag.
func (*Implementation) Name() string { return "" }

// PeakFP32 is never called in builds without the tag.
func (*Implementation) PeakFP32() float64 { return 0 }

// Compile reports ErrNotBuilt.
func (*Implementation) Compile() error { return ErrNotBuilt }

// ResidentSgemmer is never called in builds without the tag.
func (*Implementation) ResidentSgemmer() kernels.Sgemmer { return nil }

// Close does nothing.
func (*Implementation) Close() error { return nil }

// Device is never called in builds without the tag.
func (*Implementation) Device() device.Device { return nil }
