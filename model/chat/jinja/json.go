package jinja

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// ParseJSON decodes a JSON document into template values as
// @huggingface/jinja receives them from JavaScript: objects keep their key
// order, and a number is an Int when it is integral (1.0 included).
func ParseJSON(data []byte) (Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("jinja: trailing data after the JSON value at offset %d", dec.InputOffset())
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (Value, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '[':
			l := &List{Items: []Value{}}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				l.Items = append(l.Items, v)
			}
			_, err := dec.Token()
			return l, err
		case '{':
			d := NewDict()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				d.Set(kt.(string), v)
			}
			_, err := dec.Token()
			return d, err
		}
		return nil, fmt.Errorf("jinja: unexpected %v in JSON", x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("jinja: JSON number %s: %w", x, err)
		}
		return number(f), nil
	}
	return t, nil // string, bool or nil
}

func number(f float64) Value {
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		return Int(f)
	}
	return Float(f)
}

// FromGo converts Go values (maps, slices, strings, numbers, bools, nil
// and values of this package) into template values; map keys are sorted.
func FromGo(v any) (Value, error) {
	switch x := v.(type) {
	case nil, bool, string, Int, Float, *List, *Dict, *Namespace, Func, undefinedT:
		return x, nil
	case int:
		return Int(x), nil
	case int64:
		return Int(x), nil
	case float64:
		return number(x), nil
	case []string:
		l := &List{Items: make([]Value, len(x))}
		for i, s := range x {
			l.Items[i] = s
		}
		return l, nil
	case []any:
		l := &List{Items: make([]Value, len(x))}
		for i, it := range x {
			c, err := FromGo(it)
			if err != nil {
				return nil, err
			}
			l.Items[i] = c
		}
		return l, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := NewDict()
		for _, k := range keys {
			c, err := FromGo(x[k])
			if err != nil {
				return nil, err
			}
			d.Set(k, c)
		}
		return d, nil
	}
	return nil, fmt.Errorf("jinja: cannot use a %T as a template value", v)
}
