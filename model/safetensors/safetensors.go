// Package safetensors reads and writes Hugging Face safetensors files: an
// 8-byte little-endian header length, a JSON header mapping each tensor name
// to its dtype, shape and [begin, end) byte range in the data that follows
// (plus an optional "__metadata__" object of strings), then the data,
// little-endian, row-major.
//
// The reader treats the file as hostile: the header length, every range and
// every shape are checked (ranges must tile the data exactly, as the
// reference implementation requires) before anything is used. The writer
// follows the reference serializer: tensors sorted by name, the header
// padded with spaces to a multiple of 8 bytes, written to a temporary file,
// fsynced and renamed.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/humanllm/humanllm/model/dtype"
)

// MaxHeader is the largest header accepted (the reference uses 100 MB).
const MaxHeader = 100 << 20

// Info is one tensor's header entry.
type Info struct {
	Name  string
	DType string // "F32", "F16", "BF16", "I32", ...
	Shape []int
	Begin int64 // byte offset into the data section
	End   int64
}

// File is a parsed safetensors file held in memory.
type File struct {
	Path     string
	Metadata map[string]string
	Tensors  []Info // in data order
	byName   map[string]int
	data     []byte
}

var elemSize = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"U16": 2, "I16": 2, "F16": 2, "BF16": 2,
	"U32": 4, "I32": 4, "F32": 4,
	"U64": 8, "I64": 8, "F64": 8,
}

// ReadFile reads and validates a safetensors file.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.Path = path
	return f, nil
}

// Parse validates b as a safetensors file. The File refers to b.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("safetensors: %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeader || n > uint64(len(b)-8) {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the file (%d bytes) or the %d MB limit", n, len(b), MaxHeader>>20)
	}
	hdr := b[8 : 8+n]
	if len(bytes.TrimSpace(hdr)) == 0 || bytes.TrimSpace(hdr)[0] != '{' {
		return nil, fmt.Errorf("safetensors: header is not a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, fmt.Errorf("safetensors: header: %v", err)
	}
	f := &File{data: b[8+n:], byName: map[string]int{}}
	for name, v := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(v, &f.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: __metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		var e struct {
			DType   string  `json:"dtype"`
			Shape   []int64 `json:"shape"`
			Offsets []int64 `json:"data_offsets"`
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %v", name, err)
		}
		size, ok := elemSize[e.DType]
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, e.DType)
		}
		if len(e.Offsets) != 2 || e.Offsets[0] < 0 || e.Offsets[1] < e.Offsets[0] {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets %v is not [begin, end]", name, e.Offsets)
		}
		count := int64(1)
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			if d < 0 || d > math.MaxInt32 || count > 0 && d > math.MaxInt64/size/count {
				return nil, fmt.Errorf("safetensors: tensor %q: bad shape %v", name, e.Shape)
			}
			count *= d
			shape[i] = int(d)
		}
		if got := e.Offsets[1] - e.Offsets[0]; got != count*size {
			return nil, fmt.Errorf("safetensors: tensor %q: %s%v needs %d bytes, data_offsets give %d", name, e.DType, e.Shape, count*size, got)
		}
		f.Tensors = append(f.Tensors, Info{Name: name, DType: e.DType, Shape: shape, Begin: e.Offsets[0], End: e.Offsets[1]})
	}
	sort.Slice(f.Tensors, func(i, j int) bool {
		a, b := f.Tensors[i], f.Tensors[j]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		return a.End < b.End
	})
	var at int64
	for i, t := range f.Tensors {
		if t.Begin != at {
			return nil, fmt.Errorf("safetensors: tensor %q starts at %d, want %d (ranges must tile the data)", t.Name, t.Begin, at)
		}
		at = t.End
		f.byName[t.Name] = i
	}
	if at != int64(len(f.data)) {
		return nil, fmt.Errorf("safetensors: tensors cover %d data bytes, the file has %d", at, len(f.data))
	}
	return f, nil
}

// Lookup returns the named tensor's entry.
func (f *File) Lookup(name string) (Info, bool) {
	i, ok := f.byName[name]
	if !ok {
		return Info{}, false
	}
	return f.Tensors[i], true
}

// Raw returns the named tensor's bytes (a view of the file).
func (f *File) Raw(name string) ([]byte, Info, error) {
	t, ok := f.Lookup(name)
	if !ok {
		return nil, Info{}, fmt.Errorf("safetensors: %s: no tensor %q", f.Path, name)
	}
	return f.data[t.Begin:t.End], t, nil
}

// Float32 returns the named tensor converted to float32 (from F32, F16 or
// BF16) and its shape.
func (f *File) Float32(name string) ([]float32, []int, error) {
	b, t, err := f.Raw(name)
	if err != nil {
		return nil, nil, err
	}
	out, err := toFloat32(b, t.DType)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %s: tensor %q: %w", f.Path, name, err)
	}
	return out, t.Shape, nil
}

func toFloat32(b []byte, dt string) ([]float32, error) {
	switch dt {
	case "F32":
		out := make([]float32, len(b)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return out, nil
	case "F16", "BF16":
		out := make([]float32, len(b)/2)
		conv := dtype.F16ToF32
		if dt == "BF16" {
			conv = dtype.BF16ToF32
		}
		for i := range out {
			out[i] = conv(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("dtype %s is not a float type we read (F32, F16, BF16)", dt)
}

// Tensor is one tensor to write: float32 values stored as DType ("F32",
// "F16" or "BF16"; "" means F32).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
	DType string
}

// Encode serialises tensors and metadata.
func Encode(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	ts := append([]Tensor(nil), tensors...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	hdr := map[string]any{}
	if len(metadata) > 0 {
		hdr["__metadata__"] = metadata
	}
	type entry struct {
		DType   string  `json:"dtype"`
		Shape   []int   `json:"shape"`
		Offsets []int64 `json:"data_offsets"`
	}
	var off int64
	for i, t := range ts {
		if t.DType == "" {
			ts[i].DType, t.DType = "F32", "F32"
		}
		if t.Name == "" || t.Name == "__metadata__" {
			return nil, fmt.Errorf("safetensors: bad tensor name %q", t.Name)
		}
		if _, dup := hdr[t.Name]; dup {
			return nil, fmt.Errorf("safetensors: tensor %q given twice", t.Name)
		}
		n := 1
		for _, d := range t.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors: tensor %q: negative dimension in %v", t.Name, t.Shape)
			}
			n *= d
		}
		if n != len(t.Data) {
			return nil, fmt.Errorf("safetensors: tensor %q: shape %v holds %d values, data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		var size int64
		switch t.DType {
		case "F32":
			size = 4
		case "F16", "BF16":
			size = 2
		default:
			return nil, fmt.Errorf("safetensors: tensor %q: cannot write dtype %q (F32, F16, BF16)", t.Name, t.DType)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		hdr[t.Name] = entry{DType: t.DType, Shape: shape, Offsets: []int64{off, off + int64(n)*size}}
		off += int64(n) * size
	}
	h, err := json.Marshal(hdr)
	if err != nil {
		return nil, err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := make([]byte, 8, 8+len(h)+int(off))
	binary.LittleEndian.PutUint64(out, uint64(len(h)))
	out = append(out, h...)
	for _, t := range ts {
		switch t.DType {
		case "F32":
			for _, v := range t.Data {
				out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
			}
		case "F16":
			for _, v := range t.Data {
				out = binary.LittleEndian.AppendUint16(out, dtype.F32ToF16(v))
			}
		case "BF16":
			for _, v := range t.Data {
				out = binary.LittleEndian.AppendUint16(out, dtype.F32ToBF16(v))
			}
		}
	}
	return out, nil
}

// WriteFile writes tensors to path atomically: a temporary file in the same
// directory, fsynced, then renamed over path.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	b, err := Encode(tensors, metadata)
	if err != nil {
		return err
	}
	return WriteAtomic(path, b)
}

// WriteAtomic writes b to path through a fsynced temporary file and a
// rename, so that path holds either its old content or b, never a part.
func WriteAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Index is a sharded checkpoint's model.safetensors.index.json.
type Index struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

// Model is a set of safetensors files read as one: a single
// model.safetensors or the shards named by model.safetensors.index.json.
type Model struct {
	files  map[string]*File
	tensor map[string]*File
}

// OpenModel reads dir/model.safetensors.index.json and its shards when the
// index exists, else dir/model.safetensors.
func OpenModel(dir string) (*Model, error) {
	m := &Model{files: map[string]*File{}, tensor: map[string]*File{}}
	idxPath := filepath.Join(dir, "model.safetensors.index.json")
	b, err := os.ReadFile(idxPath)
	if os.IsNotExist(err) {
		f, err := ReadFile(filepath.Join(dir, "model.safetensors"))
		if err != nil {
			return nil, err
		}
		for _, t := range f.Tensors {
			m.tensor[t.Name] = f
		}
		m.files["model.safetensors"] = f
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	var idx Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: %v", idxPath, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: weight_map is empty", idxPath)
	}
	for name, shard := range idx.WeightMap {
		if filepath.Base(shard) != shard {
			return nil, fmt.Errorf("%s: weight_map[%q] = %q is not a file name in the directory", idxPath, name, shard)
		}
		f, ok := m.files[shard]
		if !ok {
			if f, err = ReadFile(filepath.Join(dir, shard)); err != nil {
				return nil, err
			}
			m.files[shard] = f
		}
		if _, ok := f.Lookup(name); !ok {
			return nil, fmt.Errorf("%s: weight_map puts %q in %s, which does not hold it", idxPath, name, shard)
		}
		m.tensor[name] = f
	}
	return m, nil
}

// Names lists the tensors, sorted.
func (m *Model) Names() []string {
	out := make([]string, 0, len(m.tensor))
	for n := range m.tensor {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Float32 returns a tensor as float32 with its shape.
func (m *Model) Float32(name string) ([]float32, []int, error) {
	f, ok := m.tensor[name]
	if !ok {
		return nil, nil, fmt.Errorf("safetensors: no tensor %q in the model", name)
	}
	return f.Float32(name)
}

// Info returns a tensor's entry.
func (m *Model) Info(name string) (Info, bool) {
	f, ok := m.tensor[name]
	if !ok {
		return Info{}, false
	}
	return f.Lookup(name)
}
