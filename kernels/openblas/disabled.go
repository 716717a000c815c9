//go:build !openblas || !cgo

package openblas

import (
	"errors"

	"github.com/humanllm/humanllm/kernels"
)

// Available reports whether this build calls OpenBLAS.
const Available = false

// ErrUnavailable is returned by New in builds without OpenBLAS.
var ErrUnavailable = errors.New("OpenBLAS comparison unavailable: build with CGO_ENABLED=1 -tags openblas after installing libopenblas-dev (make bench-kernels does both)")

// Implementation is empty in builds without OpenBLAS; New never returns one.
type Implementation struct{ kernels.Float32 }

// New reports ErrUnavailable.
func New() (Implementation, error) { return Implementation{}, ErrUnavailable }

// CoreName is empty without OpenBLAS.
func CoreName() string { return "" }

// Config is empty without OpenBLAS.
func Config() string { return "" }

// SetThreads does nothing without OpenBLAS.
func SetThreads(int) {}
