package ref_test

import (
	"testing"

	"github.com/humanllm/humanllm/kernels/kernelstest"
	"github.com/humanllm/humanllm/kernels/ref"
)

func TestSgemm(t *testing.T) { kernelstest.TestSgemm(t, ref.Implementation{}) }
func TestSgemmStridedBatched(t *testing.T) {
	kernelstest.TestSgemmStridedBatched(t, ref.Implementation{})
}

func TestLinearer(t *testing.T) { kernelstest.TestLinearer(t, ref.Implementation{}) }

func TestGELULinearer(t *testing.T) { kernelstest.TestGELULinearer(t, ref.Implementation{}) }
