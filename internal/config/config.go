// Package config loads a typed configuration struct through viper with the
// precedence every humanllm command follows:
//
//	struct defaults < YAML file (--config) < HUMANLLM_* environment < flags
//
// Keys are the struct's mapstructure tags joined by dots ("filter.min_chars");
// the environment variable for a key is HUMANLLM_ + the key upper-cased with
// dots replaced by underscores (HUMANLLM_FILTER_MIN_CHARS). A key in the
// file that the struct does not have is an error naming the key and its line,
// never silently ignored.
package config

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix is the prefix of environment overrides.
const EnvPrefix = "HUMANLLM"

// Load fills out, a pointer to a struct already holding the defaults. file
// may be empty. flagKeys maps a flag name in flags to the config key it
// overrides; only flags the user set on the command line take effect.
func Load(out any, file string, flags *pflag.FlagSet, flagKeys map[string]string) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: Load needs a pointer to a struct, got %T", out)
	}
	keys := map[string]reflect.Value{}
	flatten("", rv.Elem(), keys)

	v := viper.New()
	for k, val := range keys {
		v.SetDefault(k, val.Interface())
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("config %s: %w", file, err)
		}
		if err := checkKeys(file, data, keys); err != nil {
			return err
		}
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return fmt.Errorf("config %s: %w", file, err)
		}
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	for name, key := range flagKeys {
		f := flags.Lookup(name)
		if f == nil {
			return fmt.Errorf("config: no flag --%s for key %s", name, key)
		}
		if _, ok := keys[key]; !ok {
			return fmt.Errorf("config: flag --%s names unknown key %s", name, key)
		}
		if f.Changed {
			v.Set(key, f.Value.String())
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				v.Set(key, sv.GetSlice())
			}
		}
	}
	dec := func(c *mapstructure.DecoderConfig) {
		c.WeaklyTypedInput = true
		c.ErrorUnused = false
		c.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		)
	}
	if err := v.Unmarshal(out, dec); err != nil {
		where := "config"
		if file != "" {
			where = "config " + file
		}
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// Keys lists every key of the struct pointed to by out, sorted.
func Keys(out any) []string {
	keys := map[string]reflect.Value{}
	flatten("", reflect.ValueOf(out).Elem(), keys)
	ks := make([]string, 0, len(keys))
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// flatten records every leaf key. Maps and slices are leaves: their content
// is free-form.
func flatten(prefix string, v reflect.Value, keys map[string]reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("mapstructure")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if strings.Contains(opts, "squash") {
			flatten(prefix, fv, keys)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		if fv.Kind() == reflect.Struct && f.Type.String() != "time.Time" {
			flatten(key, fv, keys)
			continue
		}
		keys[key] = fv
	}
}

// checkKeys reports the first key in the YAML document that the struct does
// not have, with its line.
func checkKeys(file string, data []byte, keys map[string]reflect.Value) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config %s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("config %s: line %d: top level must be a mapping of keys", file, root.Line)
	}
	return walk(file, "", root, keys)
}

func walk(file, prefix string, n *yaml.Node, keys map[string]reflect.Value) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := strings.ToLower(k.Value)
		if prefix != "" {
			key = prefix + "." + key
		}
		if _, leaf := keys[key]; leaf {
			continue
		}
		if val.Kind == yaml.MappingNode && hasPrefix(keys, key+".") {
			if err := walk(file, key, val, keys); err != nil {
				return err
			}
			continue
		}
		msg := fmt.Sprintf("config %s: line %d: unknown key %q", file, k.Line, key)
		if s := suggest(key, keys); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return fmt.Errorf("%s", msg)
	}
	return nil
}

func hasPrefix(keys map[string]reflect.Value, p string) bool {
	for k := range keys {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// suggest returns the known key closest to key by edit distance, if close.
func suggest(key string, keys map[string]reflect.Value) string {
	best, bestD := "", 4
	ks := make([]string, 0, len(keys))
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
