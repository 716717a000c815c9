//go:build !cuda

package cuda

import (
	"errors"
	"testing"
)

// Without the build tag, Open fails with the message the CLI shows for
// --device cuda.
func TestOpenNotBuilt(t *testing.T) {
	impl, err := Open(Options{})
	if impl != nil || !errors.Is(err, ErrNotBuilt) {
		t.Fatalf("Open = %v, %v; want nil, ErrNotBuilt", impl, err)
	}
	if err.Error() != "built without CUDA support: rebuild with -tags cuda" {
		t.Errorf("message %q", err)
	}
	if Available {
		t.Error("Available is true without the cuda tag")
	}
}
