package prepare

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/config"
)

// TestPresetDocumentsEveryKey keeps configs/prepare.yaml complete: every key
// the program accepts appears there, with the default value, and loading it
// changes nothing.
func TestPresetDocumentsEveryKey(t *testing.T) {
	const preset = "../../configs/prepare.yaml"
	b, err := os.ReadFile(preset)
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	text := string(b)
	for _, k := range config.Keys(&def) {
		leaf := k[strings.LastIndex(k, ".")+1:]
		if !strings.Contains(text, leaf+":") {
			t.Errorf("%s does not document key %s", preset, k)
		}
	}
	got := DefaultConfig()
	if err := config.Load(&got, preset, nil, nil); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, def) {
		t.Errorf("loading %s changes the defaults:\n got %+v\nwant %+v", preset, got, def)
	}
	demo := DefaultConfig()
	if err := config.Load(&demo, "../../configs/demo.yaml", nil, nil); err != nil {
		t.Fatal(err)
	}
}
