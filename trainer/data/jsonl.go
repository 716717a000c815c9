// Package data turns chat-messages JSONL (what humanllm prepare writes, and
// what TRL, Axolotl and LLaMA-Factory read) into training batches: reading
// with precise errors, rendering through a chat template into token ids with
// a trained-token mask (the Renderer, supplied by the model package),
// deterministic per-epoch shuffling, and packing several samples per
// sequence with positions and attention starts that do not cross sample
// boundaries. A Loader's position (epoch, next sample) is all a checkpoint
// needs to resume the exact same stream.
package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/humanllm/humanllm/tasks"
)

// maxLine bounds one JSONL line (a sample with a long history is well under
// this).
const maxLine = 64 << 20

// ResolvePath maps a --data argument to a JSONL file: a prepare output
// directory gives DIR/<split>.jsonl, a file is used as it is.
func ResolvePath(path, split string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	if !st.IsDir() {
		return path, nil
	}
	p := filepath.Join(path, split+".jsonl")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("data: %s is a directory without %s.jsonl (a humanllm prepare output has train.jsonl and test.jsonl)", path, split)
	}
	return p, nil
}

// ReadFile reads every sample of a chat-messages JSONL file.
func ReadFile(path string) ([]tasks.Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads chat-messages JSONL from r; name is used in errors. Blank lines
// are skipped. A line that is not a JSON object, lacks "messages", has a
// message without a known role or string content, or has no assistant turn
// is an error naming name:line and the field.
func Read(r io.Reader, name string) ([]tasks.Sample, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), maxLine)
	var out []tasks.Sample
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		s, err := parseSample(b)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than %d MiB", name, line+1, maxLine>>20)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// wireSample accepts the fields of tasks.Sample with raw messages so that
// type errors can name the field.
type wireSample struct {
	Messages json.RawMessage `json:"messages"`
	Task     any             `json:"task"`
	Source   any             `json:"source"`
	User     any             `json:"user"`
}

func parseSample(b []byte) (tasks.Sample, error) {
	var w wireSample
	if err := json.Unmarshal(b, &w); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field == "" {
			return tasks.Sample{}, fmt.Errorf("not a JSON object (%s)", ute.Value)
		}
		return tasks.Sample{}, fmt.Errorf("invalid JSON: %v", err)
	}
	if len(w.Messages) == 0 || string(w.Messages) == "null" {
		return tasks.Sample{}, fmt.Errorf(`field "messages": missing`)
	}
	var raw []map[string]any
	if err := json.Unmarshal(w.Messages, &raw); err != nil {
		return tasks.Sample{}, fmt.Errorf(`field "messages": want an array of {"role","content"} objects`)
	}
	s := tasks.Sample{Messages: make([]tasks.Message, len(raw))}
	assistant := false
	for i, m := range raw {
		role, ok := m["role"].(string)
		if !ok {
			return tasks.Sample{}, fmt.Errorf(`field "messages[%d].role": missing or not a string`, i)
		}
		switch role {
		case "system", "user", "assistant":
		default:
			return tasks.Sample{}, fmt.Errorf(`field "messages[%d].role": %q is not system, user or assistant`, i, role)
		}
		content, ok := m["content"].(string)
		if !ok {
			return tasks.Sample{}, fmt.Errorf(`field "messages[%d].content": missing or not a string`, i)
		}
		assistant = assistant || role == "assistant"
		s.Messages[i] = tasks.Message{Role: role, Content: content}
	}
	if !assistant {
		return tasks.Sample{}, fmt.Errorf(`field "messages": no assistant turn to train on`)
	}
	var err error
	if s.Task, err = optString(w.Task, "task"); err != nil {
		return tasks.Sample{}, err
	}
	if s.Source, err = optString(w.Source, "source"); err != nil {
		return tasks.Sample{}, err
	}
	if s.User, err = optString(w.User, "user"); err != nil {
		return tasks.Sample{}, err
	}
	return s, nil
}

func optString(v any, field string) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("field %q: not a string", field)
}
