package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/humanllm/humanllm/model/dtype"
)

// Tensor is a tensor to write: either float32 values (Data), converted to
// Type (F32, F16, BF16 or Q8_0), or bytes already encoded in Type (Raw,
// any type of the table, as Parse returns them).
type Tensor struct {
	Name  string
	Shape []int // row-major; the file stores it reversed (ggml order)
	Type  TensorType
	Data  []float32
	Raw   []byte
}

func (t *Tensor) info() (TensorInfo, error) {
	ti := TensorInfo{Name: t.Name, Type: t.Type}
	if t.Name == "" || len(t.Name) > MaxNameLen {
		return ti, fmt.Errorf("tensor name %q: must be 1 to %d bytes", t.Name, MaxNameLen)
	}
	if len(t.Shape) > MaxDims {
		return ti, fmt.Errorf("tensor %q: %d dimensions, at most %d", t.Name, len(t.Shape), MaxDims)
	}
	tt, ok := tensorTypes[t.Type]
	if !ok {
		return ti, fmt.Errorf("tensor %q: unknown type %v", t.Name, t.Type)
	}
	n := 1
	for _, d := range t.Shape {
		if d < 0 || n > 0 && d > math.MaxInt64/n {
			return ti, fmt.Errorf("tensor %q: bad shape %v", t.Name, t.Shape)
		}
		n *= d
	}
	ti.Dims = dimsOf(t.Shape)
	ne0 := int64(1)
	if len(ti.Dims) > 0 {
		ne0 = int64(ti.Dims[0])
	}
	if ne0%tt.block != 0 {
		return ti, fmt.Errorf("tensor %q: %v needs rows that are a multiple of %d values; shape %v", t.Name, t.Type, tt.block, t.Shape)
	}
	switch {
	case t.Raw != nil && t.Data != nil:
		return ti, fmt.Errorf("tensor %q: both Data and Raw given", t.Name)
	case t.Raw != nil:
		if uint64(len(t.Raw)) != ti.Bytes() {
			return ti, fmt.Errorf("tensor %q: %v%v is %d bytes, Raw has %d", t.Name, t.Type, t.Shape, ti.Bytes(), len(t.Raw))
		}
	default:
		switch t.Type {
		case F32, F16, BF16, Q8_0:
		default:
			return ti, fmt.Errorf("tensor %q: cannot convert float32 values to %v (F32, F16, BF16, Q8_0)", t.Name, t.Type)
		}
		if len(t.Data) != n {
			return ti, fmt.Errorf("tensor %q: shape %v holds %d values, Data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		if t.Type == Q8_0 {
			for _, v := range t.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return ti, fmt.Errorf("tensor %q: non-finite value %v cannot be quantised to Q8_0", t.Name, v)
				}
			}
		}
	}
	return ti, nil
}

// alignmentOf returns the alignment the KVs set.
func alignmentOf(kvs []KV) (uint64, error) {
	for _, kv := range kvs {
		if kv.Key != KeyAlignment {
			continue
		}
		a, ok := kv.Value.(uint32)
		if !ok {
			return 0, fmt.Errorf("%s must be a uint32, is %T", KeyAlignment, kv.Value)
		}
		if a == 0 || a&(a-1) != 0 {
			return 0, fmt.Errorf("%s = %d is not a power of 2", KeyAlignment, a)
		}
		return uint64(a), nil
	}
	return DefaultAlignment, nil
}

// header builds the metadata and tensor-info part of a file and returns it
// with the tensor infos (offsets filled in) and the alignment.
func header(kvs []KV, tensors []Tensor) ([]byte, []TensorInfo, uint64, error) {
	align, err := alignmentOf(kvs)
	if err != nil {
		return nil, nil, 0, err
	}
	b := []byte(Magic)
	b = binary.LittleEndian.AppendUint32(b, Version)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(tensors)))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(kvs)))
	seen := map[string]bool{}
	for _, kv := range kvs {
		if kv.Key == "" {
			return nil, nil, 0, errors.New("empty metadata key")
		}
		if seen[kv.Key] {
			return nil, nil, 0, fmt.Errorf("metadata key %q given twice", kv.Key)
		}
		seen[kv.Key] = true
		t, _, _, ok := typeOf(kv.Value)
		if !ok {
			return nil, nil, 0, fmt.Errorf("metadata %q: Go type %T has no GGUF type", kv.Key, kv.Value)
		}
		b = appendString(b, kv.Key)
		b = binary.LittleEndian.AppendUint32(b, uint32(t))
		b = appendValue(b, kv.Value)
	}
	infos := make([]TensorInfo, len(tensors))
	names := map[string]bool{}
	var off uint64
	for i := range tensors {
		ti, err := tensors[i].info()
		if err != nil {
			return nil, nil, 0, err
		}
		if names[ti.Name] {
			return nil, nil, 0, fmt.Errorf("tensor %q given twice", ti.Name)
		}
		names[ti.Name] = true
		ti.Offset = off
		off = alignUp(off+ti.Bytes(), align)
		infos[i] = ti
		b = appendString(b, ti.Name)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(ti.Dims)))
		for _, d := range ti.Dims {
			b = binary.LittleEndian.AppendUint64(b, d)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(ti.Type))
		b = binary.LittleEndian.AppendUint64(b, ti.Offset)
	}
	if len(tensors) > 0 {
		for uint64(len(b))%align != 0 {
			b = append(b, 0)
		}
	}
	return b, infos, align, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue encodes a value whose type typeOf accepted.
func appendValue(b []byte, v any) []byte {
	le := binary.LittleEndian
	switch x := v.(type) {
	case uint8:
		return append(b, x)
	case int8:
		return append(b, byte(x))
	case uint16:
		return le.AppendUint16(b, x)
	case int16:
		return le.AppendUint16(b, uint16(x))
	case uint32:
		return le.AppendUint32(b, x)
	case int32:
		return le.AppendUint32(b, uint32(x))
	case float32:
		return le.AppendUint32(b, math.Float32bits(x))
	case bool:
		if x {
			return append(b, 1)
		}
		return append(b, 0)
	case string:
		return appendString(b, x)
	case uint64:
		return le.AppendUint64(b, x)
	case int64:
		return le.AppendUint64(b, uint64(x))
	case float64:
		return le.AppendUint64(b, math.Float64bits(x))
	}
	_, elem, n, _ := typeOf(v)
	b = le.AppendUint32(b, uint32(elem))
	b = le.AppendUint64(b, uint64(n))
	switch x := v.(type) {
	case []uint8:
		return append(b, x...)
	case []int8:
		for _, e := range x {
			b = append(b, byte(e))
		}
	case []uint16:
		for _, e := range x {
			b = le.AppendUint16(b, e)
		}
	case []int16:
		for _, e := range x {
			b = le.AppendUint16(b, uint16(e))
		}
	case []uint32:
		for _, e := range x {
			b = le.AppendUint32(b, e)
		}
	case []int32:
		for _, e := range x {
			b = le.AppendUint32(b, uint32(e))
		}
	case []float32:
		for _, e := range x {
			b = le.AppendUint32(b, math.Float32bits(e))
		}
	case []bool:
		for _, e := range x {
			if e {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
	case []string:
		for _, e := range x {
			b = appendString(b, e)
		}
	case []uint64:
		for _, e := range x {
			b = le.AppendUint64(b, e)
		}
	case []int64:
		for _, e := range x {
			b = le.AppendUint64(b, uint64(e))
		}
	case []float64:
		for _, e := range x {
			b = le.AppendUint64(b, math.Float64bits(e))
		}
	}
	return b
}

// Encode writes a GGUF v3 file holding kvs (in order) and tensors (in
// order, each at the next aligned offset) to out. The alignment is the
// uint32 KV general.alignment when kvs has one, else 32.
func Encode(out io.Writer, kvs []KV, tensors []Tensor) error {
	hdr, infos, align, err := header(kvs, tensors)
	if err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	if _, err := out.Write(hdr); err != nil {
		return err
	}
	var pad [64]byte
	buf := make([]byte, 0, 1<<16)
	for i := range tensors {
		t := &tensors[i]
		if t.Raw != nil {
			if _, err := out.Write(t.Raw); err != nil {
				return err
			}
		} else {
			// Chunks of whole Q8_0 blocks (ne[0] is a multiple of 32 for Q8_0).
			const chunk = 32 * 1024
			for off := 0; off < len(t.Data); off += chunk {
				buf = appendData(buf[:0], t.Data[off:min(off+chunk, len(t.Data))], t.Type)
				if _, err := out.Write(buf); err != nil {
					return err
				}
			}
		}
		n := infos[i].Bytes()
		for rest := alignUp(n, align) - n; rest > 0; {
			k := min(rest, uint64(len(pad)))
			if _, err := out.Write(pad[:k]); err != nil {
				return err
			}
			rest -= k
		}
	}
	return nil
}

// appendData encodes float32 values as type t (F32, F16, BF16 or Q8_0;
// for Q8_0 len(x) is a multiple of 32).
func appendData(b []byte, x []float32, t TensorType) []byte {
	le := binary.LittleEndian
	switch t {
	case F32:
		for _, v := range x {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
	case F16:
		for _, v := range x {
			b = le.AppendUint16(b, dtype.F32ToF16(v))
		}
	case BF16:
		for _, v := range x {
			b = le.AppendUint16(b, dtype.F32ToBF16(v))
		}
	case Q8_0:
		for i := 0; i+32 <= len(x); i += 32 {
			b = appendQ8_0Block(b, x[i:i+32])
		}
	default:
		panic("gguf: appendData: unsupported type " + t.String())
	}
	return b
}

// appendQ8_0Block quantises 32 values as ggml's reference quantiser
// (quantize_row_q8_0_ref) does: d = max|x|/127 stored as f16, and
// q = round(x·(1/d)) with ties away from zero, computed with the float32 d.
func appendQ8_0Block(b []byte, x []float32) []byte {
	var amax float32
	for _, v := range x {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	b = binary.LittleEndian.AppendUint16(b, dtype.F32ToF16(d))
	for _, v := range x {
		b = append(b, byte(int8(math.Round(float64(v*id)))))
	}
	return b
}

// WriteFile writes a GGUF file atomically (see WriteAtomic).
func WriteFile(path string, kvs []KV, tensors []Tensor) error {
	return WriteAtomic(path, func(w io.Writer) error { return Encode(w, kvs, tensors) })
}

// WriteAtomic streams encode's output to a temporary file in path's
// directory, fsyncs it and renames it over path, so that path holds either
// its old content or the whole new file.
func WriteAtomic(path string, encode func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err = encode(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
