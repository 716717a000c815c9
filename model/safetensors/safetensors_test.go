package safetensors

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTripDTypesAndSharded(t *testing.T) {
	dir := t.TempDir()
	ts := []Tensor{
		{Name: "b.weight", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, 1e-3, 65504}},
		{Name: "a.bias", Shape: []int{3}, Data: []float32{0.1, 0.2, 0.3}, DType: "BF16"},
		{Name: "c", Shape: []int{2}, Data: []float32{1.5, -0.25}, DType: "F16"},
		{Name: "scalar", Shape: []int{}, Data: []float32{7}},
	}
	p := filepath.Join(dir, "model.safetensors")
	if err := WriteFile(p, ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p)
	if n := binary.LittleEndian.Uint64(raw); n%8 != 0 {
		t.Errorf("header length %d not padded to 8", n)
	}
	m, err := OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Names(); !reflect.DeepEqual(got, []string{"a.bias", "b.weight", "c", "scalar"}) {
		t.Errorf("names %v", got)
	}
	for _, tt := range ts {
		got, shape, err := m.Float32(tt.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(shape, tt.Shape) {
			t.Errorf("%s shape %v", tt.Name, shape)
		}
		for i := range got {
			tol := 0.0
			if tt.DType == "BF16" {
				tol = math.Abs(float64(tt.Data[i])) / 128
			}
			if math.Abs(float64(got[i]-tt.Data[i])) > tol {
				t.Errorf("%s[%d] = %v want %v", tt.Name, i, got[i], tt.Data[i])
			}
		}
	}
	if f := m.files["model.safetensors"]; f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata)
	}
	// Sharded: two files and an index.
	sd := t.TempDir()
	if err := WriteFile(filepath.Join(sd, "model-00001-of-00002.safetensors"), ts[:2], nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(sd, "model-00002-of-00002.safetensors"), ts[2:], nil); err != nil {
		t.Fatal(err)
	}
	idx := `{"metadata":{"total_size":40},"weight_map":{"b.weight":"model-00001-of-00002.safetensors","a.bias":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors","scalar":"model-00002-of-00002.safetensors"}}`
	os.WriteFile(filepath.Join(sd, "model.safetensors.index.json"), []byte(idx), 0o644)
	sm, err := OpenModel(sd)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := sm.Float32("c"); !reflect.DeepEqual(got, []float32{1.5, -0.25}) {
		t.Errorf("sharded c = %v", got)
	}
	os.WriteFile(filepath.Join(sd, "model.safetensors.index.json"), []byte(strings.Replace(idx, `"c":"model-00002`, `"c":"model-00001`, 1)), 0o644)
	if _, err := OpenModel(sd); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("index pointing at the wrong shard: %v", err)
	}
}

// Every malformed header is an error, never a panic or an out-of-range read.
func TestParseRejects(t *testing.T) {
	good, err := Encode([]Tensor{{Name: "w", Shape: []int{2}, Data: []float32{1, 2}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(good); err != nil {
		t.Fatal(err)
	}
	mk := func(h string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(b, h...), make([]byte, data)...)
	}
	cases := map[string][]byte{
		"short":        {1, 2},
		"huge header":  binary.LittleEndian.AppendUint64(nil, 1<<40),
		"not object":   mk(`[1]`, 0),
		"bad dtype":    mk(`{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}`, 4),
		"size":         mk(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4),
		"gap":          mk(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
		"overlap":      mk(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"v":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4),
		"trailing":     mk(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 8),
		"neg shape":    mk(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4),
		"offsets":      mk(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4]}}`, 4),
		"extra field":  mk(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, 4),
		"bad metadata": mk(`{"__metadata__":{"a":1}}`, 0),
		"overflow":     mk(`{"w":{"dtype":"F64","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}`, 8),
	}
	for name, b := range cases {
		if _, err := Parse(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Encode([]Tensor{{Name: "w", Shape: []int{3}, Data: []float32{1}}}, nil); err == nil {
		t.Error("shape/data mismatch accepted")
	}
	if _, err := Encode([]Tensor{{Name: "w", Data: []float32{1}, Shape: []int{1}}, {Name: "w", Data: []float32{1}, Shape: []int{1}}}, nil); err == nil {
		t.Error("duplicate accepted")
	}
}

func FuzzParse(f *testing.F) {
	good, _ := Encode([]Tensor{{Name: "w", Shape: []int{2, 1}, Data: []float32{1, 2}}, {Name: "b", Shape: []int{1}, Data: []float32{3}, DType: "BF16"}}, map[string]string{"k": "v"})
	f.Add(good)
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '})
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		for _, ti := range file.Tensors {
			if _, _, err := file.Raw(ti.Name); err != nil {
				t.Fatal(err)
			}
			file.Float32(ti.Name) // must not panic whatever the dtype
		}
	})
}
