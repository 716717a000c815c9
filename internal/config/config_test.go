package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

type inner struct {
	MinChars int            `mapstructure:"min_chars"`
	PerSrc   map[string]int `mapstructure:"per_source"`
}

type cfg struct {
	Name    string        `mapstructure:"name"`
	Workers int           `mapstructure:"workers"`
	Timeout time.Duration `mapstructure:"timeout"`
	Langs   []string      `mapstructure:"langs"`
	Filter  inner         `mapstructure:"filter"`
}

func defaults() cfg {
	return cfg{Name: "def", Workers: 1, Timeout: time.Second, Langs: []string{"en"}, Filter: inner{MinChars: 300}}
}

func write(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedence(t *testing.T) {
	file := write(t, "name: file\nworkers: 3\nfilter:\n  min_chars: 200\n  per_source: {reddit: 50}\ntimeout: 5s\n")
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.Int("workers", 1, "")
	fs.String("name", "def", "")
	if err := fs.Parse([]string{"--workers=7"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HUMANLLM_NAME", "env")
	t.Setenv("HUMANLLM_FILTER_MIN_CHARS", "150")
	c := defaults()
	if err := Load(&c, file, fs, map[string]string{"workers": "workers", "name": "name"}); err != nil {
		t.Fatal(err)
	}
	if c.Workers != 7 {
		t.Errorf("flag must win: workers=%d", c.Workers)
	}
	if c.Name != "env" {
		t.Errorf("env must beat file when the flag is unset: name=%q", c.Name)
	}
	if c.Filter.MinChars != 150 {
		t.Errorf("env must beat file: min_chars=%d", c.Filter.MinChars)
	}
	if c.Timeout != 5*time.Second {
		t.Errorf("file duration: %v", c.Timeout)
	}
	if c.Filter.PerSrc["reddit"] != 50 {
		t.Errorf("map leaf from file: %v", c.Filter.PerSrc)
	}
	if len(c.Langs) != 1 || c.Langs[0] != "en" {
		t.Errorf("default kept: %v", c.Langs)
	}
}

func TestUnknownKey(t *testing.T) {
	file := write(t, "name: x\nfilter:\n  min_char: 3\n")
	c := defaults()
	err := Load(&c, file, pflag.NewFlagSet("x", pflag.ContinueOnError), nil)
	if err == nil {
		t.Fatal("unknown key accepted")
	}
	for _, want := range []string{"line 3", `"filter.min_char"`, `did you mean "filter.min_chars"`, file} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	file = write(t, "bogus: 1\n")
	if err := Load(&c, file, nil, nil); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("top-level unknown key: %v", err)
	}
}

func TestKeys(t *testing.T) {
	c := defaults()
	got := strings.Join(Keys(&c), ",")
	if got != "filter.min_chars,filter.per_source,langs,name,timeout,workers" {
		t.Errorf("keys: %s", got)
	}
}
