// Package gguf reads and writes GGUF, the model file format of ggml,
// llama.cpp and ollama, and exports Llama-family model.Weights to it.
//
// # Format (version 3, little-endian)
//
//	magic "GGUF" | uint32 version | uint64 tensor count | uint64 KV count
//	KV pairs:     string key | uint32 value type | value
//	tensor infos: string name | uint32 n_dims | n_dims × uint64 ne | uint32 ggml type | uint64 offset
//	padding to the alignment, then the tensor data section
//
// Strings are a uint64 byte length and the bytes (no NUL). A value is one
// of the scalar types (u8, i8, u16, i16, u32, i32, f32, bool as one byte,
// string, u64, i64, f64) or an array: uint32 element type, uint64 count,
// the elements. Tensor dimensions are in ggml order, ne[0] first: ne[0] is
// the fastest-varying (contiguous) dimension, so a row-major [rows, cols]
// matrix has ne = [cols, rows]. Offsets are relative to the start of the
// data section and multiples of the alignment (the u32 KV
// "general.alignment", default 32); the data section starts at the first
// aligned offset after the tensor infos.
//
// Values of KVs are held as Go values of the matching type: uint8, int8,
// uint16, int16, uint32, int32, float32, bool, string, uint64, int64,
// float64, or a slice of one of them for an array. Arrays of arrays, which
// llama.cpp rejects, are rejected here too.
//
// Parse treats its input as hostile: every count, length, type, dimension
// and offset is checked against the bytes that are actually there before
// anything is allocated or indexed. The writers stream tensor data to a
// temporary file that is fsynced and renamed, so a path holds a whole file
// or its old content.
//
// # Llama export
//
// WriteLlama / EncodeLlama export model.Weights in the layout llama.cpp's
// "llama" architecture loads (the names and metadata of llama.cpp's
// convert_hf_to_gguf.py, including its permutation of the q/k projection
// rows back from Hugging Face's rotate-half RoPE layout to the interleaved
// one ggml's rope uses); ReadLlama imports such a file back. See llama.go.
package gguf

import (
	"fmt"
	"strings"
)

// Magic is the first four bytes of a GGUF file.
const Magic = "GGUF"

// Version is the GGUF version written. Parse also reads version 2, which
// has the same layout.
const Version = 3

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// KeyAlignment is the KV that sets the data alignment (a uint32 power of 2).
const KeyAlignment = "general.alignment"

// MaxNameLen bounds tensor names: llama.cpp (GGML_MAX_NAME = 64 with the
// NUL) rejects names of 64 bytes or more.
const MaxNameLen = 63

// MaxDims is the most dimensions a tensor may have (GGML_MAX_DIMS).
const MaxDims = 4

// ValueType is the type tag of a metadata value.
type ValueType uint32

// Metadata value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint32(t))
}

// size is the encoded size of a fixed-size scalar type, 0 for string and
// array, -1 for an unknown type.
func (t ValueType) size() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	case TypeString, TypeArray:
		return 0
	}
	return -1
}

// typeOf returns the GGUF type of a Go value (and for an array the element
// type), or ok = false for a Go type with no GGUF counterpart.
func typeOf(v any) (t, elem ValueType, n int, ok bool) {
	switch x := v.(type) {
	case uint8:
		return TypeUint8, 0, 0, true
	case int8:
		return TypeInt8, 0, 0, true
	case uint16:
		return TypeUint16, 0, 0, true
	case int16:
		return TypeInt16, 0, 0, true
	case uint32:
		return TypeUint32, 0, 0, true
	case int32:
		return TypeInt32, 0, 0, true
	case float32:
		return TypeFloat32, 0, 0, true
	case bool:
		return TypeBool, 0, 0, true
	case string:
		return TypeString, 0, 0, true
	case uint64:
		return TypeUint64, 0, 0, true
	case int64:
		return TypeInt64, 0, 0, true
	case float64:
		return TypeFloat64, 0, 0, true
	case []uint8:
		return TypeArray, TypeUint8, len(x), true
	case []int8:
		return TypeArray, TypeInt8, len(x), true
	case []uint16:
		return TypeArray, TypeUint16, len(x), true
	case []int16:
		return TypeArray, TypeInt16, len(x), true
	case []uint32:
		return TypeArray, TypeUint32, len(x), true
	case []int32:
		return TypeArray, TypeInt32, len(x), true
	case []float32:
		return TypeArray, TypeFloat32, len(x), true
	case []bool:
		return TypeArray, TypeBool, len(x), true
	case []string:
		return TypeArray, TypeString, len(x), true
	case []uint64:
		return TypeArray, TypeUint64, len(x), true
	case []int64:
		return TypeArray, TypeInt64, len(x), true
	case []float64:
		return TypeArray, TypeFloat64, len(x), true
	}
	return 0, 0, 0, false
}

// KV is one metadata key and its value (see the package doc for the Go
// types a value may have).
type KV struct {
	Key   string
	Value any
}

// TensorType is a ggml tensor data type.
type TensorType uint32

// The ggml tensor types this package writes and dequantises. Parse accepts
// every type of the table below (their sizes are needed to check offsets);
// Float32 dequantises only F32, F16, BF16 and Q8_0.
const (
	F32  TensorType = 0
	F16  TensorType = 1
	Q8_0 TensorType = 8
	BF16 TensorType = 30
)

// typeInfo is a ggml type's name, block size (elements) and block bytes,
// as in ggml's type traits (gguf-py GGML_QUANT_SIZES).
type typeInfo struct {
	name  string
	block int64
	bytes int64
}

var tensorTypes = map[TensorType]typeInfo{
	0: {"F32", 1, 4}, 1: {"F16", 1, 2}, 2: {"Q4_0", 32, 18}, 3: {"Q4_1", 32, 20},
	6: {"Q5_0", 32, 22}, 7: {"Q5_1", 32, 24}, 8: {"Q8_0", 32, 34}, 9: {"Q8_1", 32, 36},
	10: {"Q2_K", 256, 84}, 11: {"Q3_K", 256, 110}, 12: {"Q4_K", 256, 144}, 13: {"Q5_K", 256, 176},
	14: {"Q6_K", 256, 210}, 15: {"Q8_K", 256, 292}, 16: {"IQ2_XXS", 256, 66}, 17: {"IQ2_XS", 256, 74},
	18: {"IQ3_XXS", 256, 98}, 19: {"IQ1_S", 256, 50}, 20: {"IQ4_NL", 32, 18}, 21: {"IQ3_S", 256, 110},
	22: {"IQ2_S", 256, 82}, 23: {"IQ4_XS", 256, 136}, 24: {"I8", 1, 1}, 25: {"I16", 1, 2},
	26: {"I32", 1, 4}, 27: {"I64", 1, 8}, 28: {"F64", 1, 8}, 29: {"IQ1_M", 256, 56},
	30: {"BF16", 1, 2}, 34: {"TQ1_0", 256, 54}, 35: {"TQ2_0", 256, 66}, 39: {"MXFP4", 32, 17},
}

func (t TensorType) String() string {
	if ti, ok := tensorTypes[t]; ok {
		return ti.name
	}
	return fmt.Sprintf("TensorType(%d)", uint32(t))
}

// BlockSize is the number of elements per quantisation block (1 for plain
// types), 0 for an unknown type.
func (t TensorType) BlockSize() int { return int(tensorTypes[t].block) }

// BlockBytes is the encoded size of one block, 0 for an unknown type.
func (t TensorType) BlockBytes() int { return int(tensorTypes[t].bytes) }

// ParseTensorType maps a name such as "F16" or "q8_0" to its type.
func ParseTensorType(s string) (TensorType, error) {
	for t, ti := range tensorTypes {
		if strings.EqualFold(ti.name, s) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("gguf: unknown tensor type %q", s)
}

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name   string
	Dims   []uint64 // ggml order: Dims[0] is the contiguous dimension
	Type   TensorType
	Offset uint64 // from the start of the data section
}

// Elements is the number of elements.
func (t TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Bytes is the size of the tensor's data.
func (t TensorInfo) Bytes() uint64 {
	ti := tensorTypes[t.Type]
	if ti.block == 0 {
		return 0
	}
	return t.Elements() / uint64(ti.block) * uint64(ti.bytes)
}

// Shape is the row-major shape (the dimensions reversed).
func (t TensorInfo) Shape() []int {
	s := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		s[len(s)-1-i] = int(d)
	}
	return s
}

// dimsOf returns the ggml dimensions of a row-major shape.
func dimsOf(shape []int) []uint64 {
	d := make([]uint64, len(shape))
	for i, s := range shape {
		d[len(d)-1-i] = uint64(s)
	}
	return d
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }
