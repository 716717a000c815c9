package source

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"

	"github.com/humanllm/humanllm/internal/dio"
)

// Input is one opened input: an already-decompressed stream and the name
// used in records (Record.File) and error messages.
type Input struct {
	io.Reader
	Name string

	raw *countingReader // raw (compressed) bytes; nil when not opened by Open
}

// Bytes returns how many raw (still compressed) bytes of this input have
// been read so far; 0 for an Input not made by Open.
func (in Input) Bytes() int64 {
	if in.raw == nil {
		return 0
	}
	return in.raw.n.Load()
}

// countingReader counts the bytes read through it, into its own counter and
// into an optional shared one (pollable from another goroutine).
type countingReader struct {
	r      io.Reader
	n      atomic.Int64
	shared *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n.Add(int64(n))
		if c.shared != nil {
			c.shared.Add(int64(n))
		}
	}
	return n, err
}

// Stdin is the path that names standard input.
const Stdin = "-"

// Expand turns paths into the sorted list of files they name: a file is
// kept as is; a directory is walked recursively in lexical order, skipping
// hidden files and directories (names starting with ".") and the
// documentation that travels with data sets (see isDocFile); a pattern with
// glob metacharacters that names no existing file is expanded with
// filepath.Glob (matches sorted, hidden ones skipped unless the pattern's
// last element starts with ".", directories among them walked); "-" is
// standard input. A path that cannot be read, or a glob that matches
// nothing, is an error naming it.
func Expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == Stdin {
			out = append(out, p)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			if strings.ContainsAny(p, "*?[") {
				matches, gerr := filepath.Glob(p)
				if gerr != nil {
					return nil, fmt.Errorf("input %q: bad pattern: %w", p, gerr)
				}
				if len(matches) == 0 {
					return nil, fmt.Errorf("input %q: no files match", p)
				}
				sort.Strings(matches)
				dotOK := strings.HasPrefix(filepath.Base(p), ".")
				before := len(out)
				for _, m := range matches {
					if !dotOK && strings.HasPrefix(filepath.Base(m), ".") {
						continue // like a shell, * does not match hidden files
					}
					files, err := expandOne(m)
					if err != nil {
						return nil, err
					}
					out = append(out, files...)
				}
				if len(out) == before {
					return nil, fmt.Errorf("input %q: no files match (hidden files skipped)", p)
				}
				continue
			}
			return nil, fmt.Errorf("input %q: %w", p, err)
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		files, err := expandOne(p)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}

func expandOne(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("input %q: %w", p, err)
	}
	if !fi.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("input %q: %w", path, err)
		}
		if path != p && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if isDocFile(d.Name()) {
			return nil
		}
		if !d.Type().IsRegular() {
			// follow symlinks to files; skip sockets, devices, ...
			if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		}
		out = append(out, path)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("input %q: directory holds no files", p)
	}
	return out, nil
}

// isDocFile reports whether a file met while walking a directory is
// documentation or a checksum rather than data: *.md, *.markdown, *.rst,
// *.pdf, *.sha256, *.md5, *.sig, *.asc, and README*, LICENSE*, LICENCE*,
// COPYING*, NOTICE*, CHANGELOG*. Files named explicitly are never skipped.
func isDocFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".md", ".markdown", ".rst", ".pdf", ".sha256", ".md5", ".sig", ".asc":
		return true
	}
	u := strings.ToUpper(name)
	for _, p := range []string{"README", "LICENSE", "LICENCE", "COPYING", "NOTICE", "CHANGELOG"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// Open expands paths (see Expand; all are checked before any is read) and
// calls fn once per file, in order, with its decompressed stream. gzip
// (multi-member too), zstd (Pushshift's 2 GiB window allowed) and bzip2 are
// recognised by their magic bytes, whatever the file is called. rawBytes,
// when not nil, is increased by every raw (compressed) byte read, so a
// caller can poll it for MB/s progress; Input.Bytes gives the per-file
// figure. The first error (opening, or returned by fn) stops Open and is
// returned; fn's errors are returned unchanged, the others name the path.
//
// The files are read through one buffer of OpenBuffer bytes, reset for
// each: an uncompressed file's Input.Reader is that *bufio.Reader itself
// (a caller that buffers again can use it as is, see bufio.NewReaderSize),
// valid until fn returns.
func Open(paths []string, fn func(in Input) error, rawBytes *atomic.Int64) error {
	files, err := Expand(paths)
	if err != nil {
		return err
	}
	// The files (not stdin) are read ahead in the background, straight
	// from the device where the file system allows (see package dio).
	var disk []string
	for _, p := range files {
		if p != Stdin {
			disk = append(disk, p)
		}
	}
	var pf *dio.Prefetcher
	if len(disk) > 0 {
		pf = dio.NewPrefetcher(disk, prefetchBlock, prefetchDepth)
		defer pf.Close()
	}
	// One buffer for all files: a corpus of thousands of small files (a
	// Blogger dump) got a fresh 64 KB buffer, zeroed, per file.
	br := bufio.NewReaderSize(nil, OpenBuffer)
	for _, p := range files {
		if err := openOne(p, fn, rawBytes, br, pf); err != nil {
			return err
		}
	}
	return nil
}

// OpenBuffer is the size of the buffer Open reads files through.
const OpenBuffer = 256 << 10

// Open reads ahead in prefetchDepth blocks of prefetchBlock bytes per lane
// of the prefetcher (see dio.Prefetcher): several files of a corpus of
// small files (a Blogger dump) are on their way while one is parsed.
const (
	prefetchBlock = 1 << 20
	prefetchDepth = 2
)

func openOne(p string, fn func(in Input) error, rawBytes *atomic.Int64, br *bufio.Reader, pf *dio.Prefetcher) error {
	var f io.Reader
	name := p
	if p == Stdin {
		f = os.Stdin
	} else {
		r, err := pf.Next()
		if err != nil {
			return fmt.Errorf("input %q: %w", p, err)
		}
		f = r
	}
	cr := &countingReader{r: f, shared: rawBytes}
	br.Reset(cr)
	r, closeFn, err := decompress(br)
	if err != nil {
		return fmt.Errorf("input %q: %w", name, err)
	}
	defer closeFn()
	return fn(Input{Reader: r, Name: name, raw: cr})
}

// Compression magic numbers.
var (
	magicGzip  = []byte{0x1f, 0x8b}
	magicZstd  = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicBzip2 = []byte("BZh")
	magicXz    = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
)

// Decompress sniffs r's first bytes and returns a reader of its
// decompressed content (r itself, buffered, when it is not compressed), and
// a function releasing the decoder.
func Decompress(r io.Reader) (io.Reader, func(), error) {
	return decompress(bufio.NewReaderSize(r, 64<<10))
}

// decompress is Decompress reading through br.
func decompress(br *bufio.Reader) (io.Reader, func(), error) {
	head, _ := br.Peek(6)
	nop := func() {}
	switch {
	case bytes.HasPrefix(head, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nop, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case bytes.HasPrefix(head, magicZstd) || isZstdSkippable(head):
		zr, err := zstd.NewReader(br, zstd.WithDecoderMaxWindow(1<<31), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nop, fmt.Errorf("zstd: %w", err)
		}
		return zr, zr.Close, nil
	case len(head) >= 4 && bytes.HasPrefix(head, magicBzip2) && head[3] >= '1' && head[3] <= '9':
		return bzip2.NewReader(br), nop, nil
	case bytes.HasPrefix(head, magicXz):
		return nil, nop, errors.New("xz compression is not supported (decompress it first, or recompress with zstd)")
	}
	return br, nop, nil
}

// isZstdSkippable matches a zstd skippable frame (magic 0x184D2A50..5F).
func isZstdSkippable(h []byte) bool {
	return len(h) >= 4 && h[0]&0xF0 == 0x50 && h[1] == 0x2A && h[2] == 0x4D && h[3] == 0x18
}
