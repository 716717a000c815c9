package source

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/humanllm/humanllm/tasks"
)

// jsonlAdapter reads any JSON-lines format through a JSONLMapping. Each
// line is decoded into a generic map (numbers kept as written), then the
// mapped fields are read by dotted path; scalar values of any type become
// strings, objects and arrays compact JSON. Only used when forced
// (--source jsonl) or, in detection, when the mapping is configured and the
// first object has the User and Text fields.
type jsonlAdapter struct{ m JSONLMapping }

func (a *jsonlAdapter) Name() string { return "jsonl" }

func (a *jsonlAdapter) Detect(name string, head []byte) bool {
	if !a.m.Configured() || firstNonSpace(head) != '{' {
		return false
	}
	line := trimBOM(head)
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if dec.Decode(&obj) != nil {
		// a first line longer than head: fall back to its top-level keys
		k := firstObjectKeys(head)
		return k[topKey(a.m.User)] && k[topKey(a.m.Text)]
	}
	_, u := a.get(obj, a.m.User)
	_, t := a.get(obj, a.m.Text)
	return u && t
}

func topKey(path string) string {
	k, _, _ := strings.Cut(path, ".")
	return k
}

// get reads a mapped field: a dotted path, or a constant after "=".
func (a *jsonlAdapter) get(obj map[string]any, path string) (string, bool) {
	if path == "" {
		return "", false
	}
	if c, ok := strings.CutPrefix(path, "="); ok {
		return c, true
	}
	v, ok := lookupPath(obj, path)
	if !ok || v == nil {
		return "", false
	}
	return anyString(v), true
}

func (a *jsonlAdapter) Parse(ctx context.Context, in Input, emit Emit, bad Bad) error {
	m := a.m
	name := m.Name
	if name == "" {
		name = "jsonl"
	}
	return eachJSONLine(ctx, in, bad, func(line []byte, n int) error {
		var obj map[string]any
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil {
			bad(tasks.Malformed{File: in.Name, Line: n, Err: jsonErr(err), Excerpt: excerpt(line)})
			return nil
		}
		if obj == nil {
			bad(tasks.Malformed{File: in.Name, Line: n, Err: "not a JSON object", Excerpt: excerpt(line)})
			return nil
		}
		rec := tasks.Record{Source: name, Kind: tasks.KindPost, File: in.Name, Line: n}
		var ok bool
		if rec.User, ok = a.get(obj, m.User); !ok || rec.User == "" {
			bad(tasks.Malformed{File: in.Name, Line: n, Err: "missing field " + m.User, Excerpt: excerpt(line)})
			return nil
		}
		if rec.Text, ok = a.get(obj, m.Text); !ok {
			bad(tasks.Malformed{File: in.Name, Line: n, Err: "missing field " + m.Text, Excerpt: excerpt(line)})
			return nil
		}
		if k, _ := a.get(obj, m.Kind); k != "" {
			rec.Kind = k
		}
		if t, ok := a.get(obj, m.Time); ok {
			rec.Time, _ = parseTime(t)
		}
		rec.ID, _ = a.get(obj, m.ID)
		rec.Title, _ = a.get(obj, m.Title)
		rec.ParentID, _ = a.get(obj, m.Parent)
		rec.ParentText, _ = a.get(obj, m.ParentText)
		rec.Community, _ = a.get(obj, m.Community)
		rec.UserName, _ = a.get(obj, m.UserName)
		rec.ItemID, _ = a.get(obj, m.ItemID)
		rec.ItemTitle, _ = a.get(obj, m.ItemTitle)
		if r, ok := a.get(obj, m.Rating); ok {
			rec.Rating, _ = parseNumber(r)
		}
		for out, path := range m.Meta {
			if v, _ := a.get(obj, path); v != "" {
				rec.Meta = setMeta(rec.Meta, out, v)
			}
		}
		return emit(rec)
	})
}
