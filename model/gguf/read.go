package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"sort"

	"github.com/humanllm/humanllm/model/dtype"
)

// File is a parsed GGUF file held in memory.
type File struct {
	Path       string
	Version    uint32
	Alignment  uint64
	KV         []KV         // in file order
	Tensors    []TensorInfo // in file order
	DataOffset uint64       // file offset of the data section

	data     []byte // the data section
	kvIndex  map[string]int
	tenIndex map[string]int
}

// ReadFile reads and validates a GGUF file.
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

// cursor reads little-endian values from b; after the first failure every
// read fails and err says where.
type cursor struct {
	b   []byte
	off int
	err error
}

func (c *cursor) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("offset %d: %s", c.off, fmt.Sprintf(format, args...))
	}
}

func (c *cursor) remain() int { return len(c.b) - c.off }

func (c *cursor) take(n uint64, what string) []byte {
	if c.err != nil {
		return nil
	}
	if n > uint64(c.remain()) {
		c.fail("%s needs %d bytes, %d left", what, n, c.remain())
		return nil
	}
	p := c.b[c.off : c.off+int(n) : c.off+int(n)]
	c.off += int(n)
	return p
}

func (c *cursor) u8(what string) uint8 {
	if p := c.take(1, what); p != nil {
		return p[0]
	}
	return 0
}

func (c *cursor) u16(what string) uint16 {
	if p := c.take(2, what); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (c *cursor) u32(what string) uint32 {
	if p := c.take(4, what); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (c *cursor) u64(what string) uint64 {
	if p := c.take(8, what); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (c *cursor) str(what string) string {
	n := c.u64(what + " length")
	return string(c.take(n, what))
}

// count reads an element count and checks that n elements of at least min
// bytes each fit in what is left, so that allocating n is safe.
func (c *cursor) count(what string, minSize int) int {
	n := c.u64(what)
	if c.err != nil {
		return 0
	}
	if n > uint64(c.remain()/minSize) {
		c.fail("%s = %d, but only %d bytes are left", what, n, c.remain())
		return 0
	}
	return int(n)
}

// value reads one value of type t (not an array).
func (c *cursor) value(t ValueType, what string) any {
	switch t {
	case TypeUint8:
		return c.u8(what)
	case TypeInt8:
		return int8(c.u8(what))
	case TypeUint16:
		return c.u16(what)
	case TypeInt16:
		return int16(c.u16(what))
	case TypeUint32:
		return c.u32(what)
	case TypeInt32:
		return int32(c.u32(what))
	case TypeFloat32:
		return math.Float32frombits(c.u32(what))
	case TypeBool:
		return c.bool(what)
	case TypeString:
		return c.str(what)
	case TypeUint64:
		return c.u64(what)
	case TypeInt64:
		return int64(c.u64(what))
	case TypeFloat64:
		return math.Float64frombits(c.u64(what))
	}
	c.fail("%s: invalid value type %d", what, t)
	return nil
}

func (c *cursor) bool(what string) bool {
	v := c.u8(what)
	if v > 1 && c.err == nil {
		c.fail("%s: bool byte %d is not 0 or 1", what, v)
	}
	return v == 1
}

// array reads an array value: element type, count, elements.
func (c *cursor) array(what string) any {
	et := ValueType(c.u32(what + " element type"))
	if c.err != nil {
		return nil
	}
	size := et.size()
	switch {
	case et == TypeArray:
		c.fail("%s: arrays of arrays are not supported", what)
		return nil
	case size < 0:
		c.fail("%s: invalid element type %d", what, et)
		return nil
	case size == 0: // strings: at least their 8-byte length each
		size = 8
	}
	n := c.count(what+" element count", size)
	if c.err != nil {
		return nil
	}
	le := binary.LittleEndian
	switch et {
	case TypeUint8:
		return append([]uint8{}, c.take(uint64(n), what)...)
	case TypeInt8:
		p := c.take(uint64(n), what)
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(p[i])
		}
		return out
	case TypeBool:
		p := c.take(uint64(n), what)
		out := make([]bool, n)
		for i := range out {
			if p[i] > 1 {
				c.fail("%s[%d]: bool byte %d is not 0 or 1", what, i, p[i])
				return nil
			}
			out[i] = p[i] == 1
		}
		return out
	case TypeUint16, TypeInt16:
		p := c.take(uint64(n)*2, what)
		if et == TypeUint16 {
			out := make([]uint16, n)
			for i := range out {
				out[i] = le.Uint16(p[2*i:])
			}
			return out
		}
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(le.Uint16(p[2*i:]))
		}
		return out
	case TypeUint32, TypeInt32, TypeFloat32:
		p := c.take(uint64(n)*4, what)
		switch et {
		case TypeUint32:
			out := make([]uint32, n)
			for i := range out {
				out[i] = le.Uint32(p[4*i:])
			}
			return out
		case TypeInt32:
			out := make([]int32, n)
			for i := range out {
				out[i] = int32(le.Uint32(p[4*i:]))
			}
			return out
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(p[4*i:]))
		}
		return out
	case TypeUint64, TypeInt64, TypeFloat64:
		p := c.take(uint64(n)*8, what)
		switch et {
		case TypeUint64:
			out := make([]uint64, n)
			for i := range out {
				out[i] = le.Uint64(p[8*i:])
			}
			return out
		case TypeInt64:
			out := make([]int64, n)
			for i := range out {
				out[i] = int64(le.Uint64(p[8*i:]))
			}
			return out
		}
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(p[8*i:]))
		}
		return out
	case TypeString:
		out := make([]string, n)
		for i := range out {
			out[i] = c.str(what)
			if c.err != nil {
				return nil
			}
		}
		return out
	}
	return nil
}

// Parse validates b as a GGUF file (version 2 or 3). The File refers to b.
func Parse(b []byte) (*File, error) {
	f, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	return f, nil
}

func parse(b []byte) (*File, error) {
	c := &cursor{b: b}
	if magic := c.take(4, "magic"); c.err != nil || string(magic) != Magic {
		if c.err != nil {
			return nil, c.err
		}
		return nil, fmt.Errorf("not a GGUF file (magic %q)", magic)
	}
	f := &File{Version: c.u32("version"), kvIndex: map[string]int{}, tenIndex: map[string]int{}}
	if c.err != nil {
		return nil, c.err
	}
	if f.Version != 2 && f.Version != 3 {
		return nil, fmt.Errorf("version %d is not supported (2 or 3; a big-endian file reads as a huge version)", f.Version)
	}
	// Smallest tensor info: name length 8 + 1 byte + n_dims 4 + type 4 +
	// offset 8; smallest KV: key length 8 + 1 byte + type 4 + 1 byte.
	nTensors := c.count("tensor count", 25)
	nKV := c.count("metadata count", 14)
	if c.err != nil {
		return nil, c.err
	}
	f.KV = make([]KV, 0, nKV)
	for i := range nKV {
		key := c.str(fmt.Sprintf("key %d", i))
		if c.err != nil {
			return nil, c.err
		}
		if key == "" {
			return nil, fmt.Errorf("key %d is empty", i)
		}
		if _, dup := f.kvIndex[key]; dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		t := ValueType(c.u32(key + " type"))
		var v any
		if t == TypeArray {
			v = c.array(key)
		} else {
			v = c.value(t, key)
		}
		if c.err != nil {
			return nil, c.err
		}
		f.kvIndex[key] = len(f.KV)
		f.KV = append(f.KV, KV{Key: key, Value: v})
	}
	f.Alignment = DefaultAlignment
	if v, ok := f.Value(KeyAlignment); ok {
		a, ok := v.(uint32)
		if !ok {
			return nil, fmt.Errorf("%s is %T, must be a uint32", KeyAlignment, v)
		}
		if a == 0 || a&(a-1) != 0 {
			return nil, fmt.Errorf("%s = %d is not a power of 2", KeyAlignment, a)
		}
		f.Alignment = uint64(a)
	}

	f.Tensors = make([]TensorInfo, 0, nTensors)
	for i := range nTensors {
		name := c.str(fmt.Sprintf("tensor %d name", i))
		if c.err != nil {
			return nil, c.err
		}
		if name == "" || len(name) > MaxNameLen {
			return nil, fmt.Errorf("tensor %d: name %q must be 1 to %d bytes", i, name, MaxNameLen)
		}
		if _, dup := f.tenIndex[name]; dup {
			return nil, fmt.Errorf("duplicate tensor %q", name)
		}
		nd := c.u32(name + " n_dims")
		if c.err != nil {
			return nil, c.err
		}
		if nd > MaxDims {
			return nil, fmt.Errorf("tensor %q has %d dimensions, at most %d", name, nd, MaxDims)
		}
		ti := TensorInfo{Name: name, Dims: make([]uint64, nd)}
		elems := uint64(1)
		for j := range ti.Dims {
			d := c.u64(name + " dimension")
			if c.err != nil {
				return nil, c.err
			}
			hi, lo := bits.Mul64(elems, d)
			if d > math.MaxInt64 || hi != 0 || lo > math.MaxInt64 {
				return nil, fmt.Errorf("tensor %q: dimension %d = %d overflows", name, j, d)
			}
			ti.Dims[j] = d
			elems = lo
		}
		ti.Type = TensorType(c.u32(name + " type"))
		ti.Offset = c.u64(name + " offset")
		if c.err != nil {
			return nil, c.err
		}
		tt, ok := tensorTypes[ti.Type]
		if !ok {
			return nil, fmt.Errorf("tensor %q has unknown type %d", name, uint32(ti.Type))
		}
		ne0 := uint64(1)
		if nd > 0 {
			ne0 = ti.Dims[0]
		}
		if ne0%uint64(tt.block) != 0 {
			return nil, fmt.Errorf("tensor %q: %v rows of %d values are not a multiple of its block size %d", name, ti.Type, ne0, tt.block)
		}
		if hi, _ := bits.Mul64(elems/uint64(tt.block), uint64(tt.bytes)); hi != 0 {
			return nil, fmt.Errorf("tensor %q: size overflows", name)
		}
		if ti.Offset%f.Alignment != 0 {
			return nil, fmt.Errorf("tensor %q: offset %d is not a multiple of the alignment %d", name, ti.Offset, f.Alignment)
		}
		f.tenIndex[name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, ti)
	}

	if nTensors == 0 {
		return f, nil
	}
	start := alignUp(uint64(c.off), f.Alignment)
	if start > uint64(len(b)) {
		return nil, fmt.Errorf("data section would start at %d, past the end of the file (%d bytes)", start, len(b))
	}
	f.DataOffset = start
	f.data = b[start:]
	// Tensors must lie inside the data section without overlapping.
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return f.Tensors[order[i]].Offset < f.Tensors[order[j]].Offset })
	var end uint64
	prev := ""
	for _, i := range order {
		t := f.Tensors[i]
		if t.Offset < end {
			return nil, fmt.Errorf("tensor %q at offset %d overlaps tensor %q (ends at %d)", t.Name, t.Offset, prev, end)
		}
		n := t.Bytes()
		if t.Offset > uint64(len(f.data)) || n > uint64(len(f.data))-t.Offset {
			return nil, fmt.Errorf("tensor %q: %d bytes at offset %d run past the data section (%d bytes)", t.Name, n, t.Offset, len(f.data))
		}
		end, prev = t.Offset+n, t.Name
	}
	return f, nil
}

// Value returns the value of a key.
func (f *File) Value(key string) (any, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return nil, false
	}
	return f.KV[i].Value, true
}

// String returns a string value.
func (f *File) String(key string) (string, error) {
	v, ok := f.Value(key)
	if !ok {
		return "", fmt.Errorf("gguf: no key %q", key)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("gguf: %s is %T, not a string", key, v)
	}
	return s, nil
}

// Uint returns an integer value of any integer type that is not negative.
func (f *File) Uint(key string) (uint64, error) {
	v, ok := f.Value(key)
	if !ok {
		return 0, fmt.Errorf("gguf: no key %q", key)
	}
	var n int64
	switch x := v.(type) {
	case uint8:
		return uint64(x), nil
	case uint16:
		return uint64(x), nil
	case uint32:
		return uint64(x), nil
	case uint64:
		return x, nil
	case int8:
		n = int64(x)
	case int16:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	default:
		return 0, fmt.Errorf("gguf: %s is %T, not an integer", key, v)
	}
	if n < 0 {
		return 0, fmt.Errorf("gguf: %s = %d is negative", key, n)
	}
	return uint64(n), nil
}

// Float returns a float32 or float64 value as float64.
func (f *File) Float(key string) (float64, error) {
	v, ok := f.Value(key)
	if !ok {
		return 0, fmt.Errorf("gguf: no key %q", key)
	}
	switch x := v.(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	}
	return 0, fmt.Errorf("gguf: %s is %T, not a float", key, v)
}

// Tensor returns a tensor's info.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.tenIndex[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

// Raw returns a tensor's encoded bytes (a view of the file).
func (f *File) Raw(name string) ([]byte, TensorInfo, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, t, fmt.Errorf("gguf: %s: no tensor %q", f.Path, name)
	}
	n := t.Bytes()
	return f.data[t.Offset : t.Offset+n : t.Offset+n], t, nil
}

// Float32 returns a tensor's values as float32 (dequantised from F32, F16,
// BF16 or Q8_0) with its row-major shape.
func (f *File) Float32(name string) ([]float32, []int, error) {
	b, t, err := f.Raw(name)
	if err != nil {
		return nil, nil, err
	}
	out, err := decode(b, t.Type, t.Elements())
	if err != nil {
		return nil, nil, fmt.Errorf("gguf: %s: tensor %q: %w", f.Path, name, err)
	}
	return out, t.Shape(), nil
}

var errType = errors.New("type is not one this package dequantises (F32, F16, BF16, Q8_0)")

func decode(b []byte, t TensorType, n uint64) ([]float32, error) {
	le := binary.LittleEndian
	switch t {
	case F32, F16, BF16, Q8_0:
	default:
		return nil, fmt.Errorf("%v: %w", t, errType)
	}
	out := make([]float32, n)
	switch t {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = dtype.F16ToF32(le.Uint16(b[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = dtype.BF16ToF32(le.Uint16(b[2*i:]))
		}
	case Q8_0:
		for blk := 0; blk < len(out)/32; blk++ {
			p := b[34*blk : 34*blk+34]
			d := dtype.F16ToF32(le.Uint16(p))
			for j := range 32 {
				out[32*blk+j] = float32(int8(p[2+j])) * d
			}
		}
	}
	return out, nil
}
