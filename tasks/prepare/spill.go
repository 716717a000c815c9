package prepare

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/humanllm/humanllm/tasks"
)

// The spill groups records by user without holding the input in memory:
// records are appended to one of 2^spillBits files chosen by the top bits of
// the user hash, then each file is read back alone, grouped and processed.
// Because the file index is the top bits of the hash and users inside a file
// are sorted by the full hash, users come out in global hash order, which is
// what makes `--shard i/N` outputs concatenate to the unsharded output.
const spillBits = 8

// spilled is a record with the bookkeeping the grouping needs.
type spilled struct {
	hash uint64 // salted user hash
	seq  uint64 // global input order, for stable sorting
	rec  tasks.Record
}

type spillWriter struct {
	dir   string
	files []*os.File
	bufs  []*bufio.Writer
	sizes []int64
	buf   []byte
}

func newSpillWriter(dir string) (*spillWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("spill dir %s: %w", dir, err)
	}
	n := 1 << spillBits
	w := &spillWriter{dir: dir, files: make([]*os.File, n), bufs: make([]*bufio.Writer, n), sizes: make([]int64, n)}
	return w, nil
}

func spillName(dir string, i int, sub string) string {
	return filepath.Join(dir, fmt.Sprintf("shard-%03d%s.bin", i, sub))
}

func (w *spillWriter) add(s *spilled) error {
	i := int(s.hash >> (64 - spillBits))
	if w.files[i] == nil {
		f, err := os.Create(spillName(w.dir, i, ""))
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		w.files[i] = f
		w.bufs[i] = bufio.NewWriterSize(f, 32<<10)
	}
	w.buf = encodeSpilled(w.buf[:0], s)
	w.sizes[i] += int64(len(w.buf))
	_, err := w.bufs[i].Write(w.buf)
	return err
}

func (w *spillWriter) close() error {
	var first error
	for i, f := range w.files {
		if f == nil {
			continue
		}
		if err := w.bufs[i].Flush(); err != nil && first == nil {
			first = err
		}
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// encodeSpilled appends a compact binary form: uvarint lengths + bytes.
func encodeSpilled(b []byte, s *spilled) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0) // record length, filled below
	b = binary.LittleEndian.AppendUint64(b, s.hash)
	b = binary.AppendUvarint(b, s.seq)
	r := &s.rec
	for _, str := range [...]string{r.Source, r.Kind, r.ID, r.User, r.UserName, r.Title, r.Text,
		r.Community, r.ParentID, r.ParentText, r.ItemID, r.ItemTitle, r.File} {
		b = binary.AppendUvarint(b, uint64(len(str)))
		b = append(b, str...)
	}
	b = binary.AppendVarint(b, r.Time)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.Rating))
	b = binary.AppendUvarint(b, uint64(r.Line))
	if r.HasNearHash {
		b = append(b, 1)
		b = binary.LittleEndian.AppendUint64(b, r.NearHash)
	} else {
		b = append(b, 0)
	}
	keys := make([]string, 0, len(r.Meta))
	for k := range r.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		v := r.Meta[k]
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

var errSpillCorrupt = errors.New("spill file corrupt")

// spillDecoder reads the fields of one encoded record. The strings are cut
// out of one copy of the record (src, the same bytes as b) instead of one
// allocation each: they all live in the user's record until it is done
// anyway.
type spillDecoder struct {
	b   []byte
	src string
	err error
}

func (d *spillDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errSpillCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *spillDecoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errSpillCorrupt
		return ""
	}
	off := len(d.src) - len(d.b)
	d.b = d.b[n:]
	return d.src[off : off+int(n)]
}

func decodeSpilled(b []byte, s *spilled) error {
	if len(b) < 8 {
		return errSpillCorrupt
	}
	s.hash = binary.LittleEndian.Uint64(b)
	d := spillDecoder{b: b[8:], src: string(b[8:])}
	s.seq = d.uvarint()
	r := &s.rec
	for _, p := range [...]*string{&r.Source, &r.Kind, &r.ID, &r.User, &r.UserName, &r.Title, &r.Text,
		&r.Community, &r.ParentID, &r.ParentText, &r.ItemID, &r.ItemTitle, &r.File} {
		*p = d.str()
	}
	t, n := binary.Varint(d.b)
	if n <= 0 {
		return errSpillCorrupt
	}
	r.Time = t
	d.b = d.b[n:]
	if len(d.b) < 8 {
		return errSpillCorrupt
	}
	r.Rating = math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	r.Line = int(d.uvarint())
	r.NearHash, r.HasNearHash = 0, false
	if len(d.b) < 1 {
		return errSpillCorrupt
	}
	if d.b[0] == 1 {
		if len(d.b) < 9 {
			return errSpillCorrupt
		}
		r.NearHash, r.HasNearHash = binary.LittleEndian.Uint64(d.b[1:]), true
		d.b = d.b[9:]
	} else {
		d.b = d.b[1:]
	}
	nm := d.uvarint()
	if nm > 0 && d.err == nil {
		r.Meta = make(map[string]string, nm)
		for i := uint64(0); i < nm && d.err == nil; i++ {
			k := d.str()
			r.Meta[k] = d.str()
		}
	} else {
		r.Meta = nil
	}
	return d.err
}

// readSpill streams every record of one spill file.
func readSpill(path string, fn func(*spilled) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var hdr [4]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("spill %s: %w", path, err)
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("spill %s: %w", path, err)
		}
		var s spilled
		if err := decodeSpilled(buf, &s); err != nil {
			return fmt.Errorf("spill %s: %w", path, err)
		}
		if err := fn(&s); err != nil {
			return err
		}
	}
}

// splitSpill re-partitions an oversized spill file into 16 files by the next
// four bits of the hash below depth bits, so no group loaded into memory
// exceeds the budget however large the input. Order is preserved: sub-file
// k holds hashes whose bits [64-depth-4, 64-depth) equal k.
func splitSpill(path string, depth int) ([]string, error) {
	const fan = 16
	names := make([]string, fan)
	files := make([]*os.File, fan)
	bufs := make([]*bufio.Writer, fan)
	for i := range names {
		names[i] = fmt.Sprintf("%s.%x", path, i)
	}
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	var b []byte
	err := readSpill(path, func(s *spilled) error {
		k := int(s.hash>>(64-depth-4)) & (fan - 1)
		if files[k] == nil {
			f, err := os.Create(names[k])
			if err != nil {
				return err
			}
			files[k] = f
			bufs[k] = bufio.NewWriterSize(f, 32<<10)
		}
		b = encodeSpilled(b[:0], s)
		_, err := bufs[k].Write(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for k, f := range files {
		if f == nil {
			continue
		}
		if err := bufs[k].Flush(); err != nil {
			return nil, err
		}
		out = append(out, names[k])
	}
	return out, os.Remove(path)
}
