package llama

import (
	"encoding/json"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/llama2c"
)

// expected mirrors shared/models/stories260K/expected.json.
type expected struct {
	Greedy struct {
		Steps int     `json:"steps"`
		IDs   []int32 `json:"ids"`
	} `json:"greedy_from_bos"`
	PromptLogits struct {
		IDs    []int32     `json:"ids"`
		Logits [][]float64 `json:"logits"`
		Argmax []int       `json:"argmax"`
	} `json:"prompt_logits"`
	TeacherForced struct {
		IDs    []int32 `json:"ids"`
		MeanCE float64 `json:"mean_ce"`
	} `json:"teacher_forced_loss"`
}

var (
	storiesOnce sync.Once
	storiesW    *model.Weights
	storiesExp  *expected
	storiesErr  error
)

// loadStories returns the stories260K weights (rotate-half layout) and its
// fixtures, skipping when the shared data is absent.
func loadStories(t testing.TB) (*model.Weights, *expected) {
	t.Helper()
	bin := sharedtest.Path(t, "models/stories260K/stories260K.bin")
	js := sharedtest.Path(t, "models/stories260K/expected.json")
	storiesOnce.Do(func() {
		storiesW, storiesErr = llama2c.Read(bin)
		if storiesErr != nil {
			return
		}
		var b []byte
		if b, storiesErr = os.ReadFile(js); storiesErr != nil {
			return
		}
		storiesExp = new(expected)
		storiesErr = json.Unmarshal(b, storiesExp)
	})
	if storiesErr != nil {
		t.Fatal(storiesErr)
	}
	return storiesW, storiesExp
}

// teacherForced splits the fixture's 64 ids into inputs ids[:63] and
// targets ids[1:].
func teacherForced(e *expected) (ids, targets []int32) {
	all := e.TeacherForced.IDs
	return slices.Clone(all[:len(all)-1]), slices.Clone(all[1:])
}
