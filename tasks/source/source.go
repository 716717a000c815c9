// Package source reads real log formats into tasks.Record streams: one
// adapter per format (Reddit Pushshift NDJSON and CSV, Twitter API v1.1 JSON
// and CSV exports, the Blog Authorship Corpus XML, Amazon reviews JSONL in
// the 2014/2018/2023 schemas, and a generic JSONL with a field mapping).
//
// Inputs may be files, directories (walked), globs, "-" for stdin, and any
// of them gzip- or zstd-compressed (detected by magic bytes, not by name).
package source

import (
	"context"

	"github.com/humanllm/humanllm/tasks"
)

// Emit receives each parsed record. Returning an error stops the parse.
type Emit func(tasks.Record) error

// Bad receives each malformed record; the adapter then carries on.
type Bad func(tasks.Malformed)

// Adapter parses one format.
type Adapter interface {
	// Name is the --source value that forces this adapter.
	Name() string
	// Detect reports whether the (decompressed) start of a file, and its
	// name, look like this format. head holds up to 64 KiB.
	Detect(name string, head []byte) bool
	// Parse streams records from r (already decompressed). file is the name
	// used in records and errors. Malformed records go to bad; Parse returns
	// an error only when the input as a whole cannot be read.
	Parse(ctx context.Context, r Input, emit Emit, bad Bad) error
}
