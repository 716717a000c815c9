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

// TestValidateHistoryWindow: synth.heuristic.max_history_chars takes 0 (the
// whole history) and refuses a negative bound, naming the key.
func TestValidateHistoryWindow(t *testing.T) {
	c := DefaultConfig()
	c.Inputs, c.Out = []string{"in"}, "out"
	if c.Synth.Heuristic.MaxHistoryChars != 24000 {
		t.Errorf("default window %d, want 24000", c.Synth.Heuristic.MaxHistoryChars)
	}
	c.Synth.Heuristic.MaxHistoryChars = 0
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Synth.Heuristic.MaxHistoryChars = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "synth.heuristic.max_history_chars") {
		t.Fatalf("negative window: %v", err)
	}
}
