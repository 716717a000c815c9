package prepare

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/humanllm/humanllm/internal/dio"
	"github.com/humanllm/humanllm/internal/fields"
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

// spillChunk is the size of a shard's write block: 256 of them hold 32 MB.
// Full blocks go to the device from a background goroutine, in direct mode
// (see package dio); a block this size keeps the system time of the
// direct writes low (a 3 GB spill in 32 KB blocks took 4.7 s of system
// time in direct writes here, in 128 KB blocks 1.2 s).
const spillChunk = 128 << 10

// spillDepth is the number of full blocks in flight to the device.
const spillDepth = 8

// spillWriter appends records to the shards. Each shard fills a block of
// chunk bytes and hands it to the writer queue when full (a record may
// span blocks: a shard is one byte stream); a shard that never fills one
// stays in memory (its tail) and never touches the disk. After close the
// writer is the store runUsers reads the shards from: a shard comes back
// whole in one read.
type spillWriter struct {
	dir   string
	chunk int
	q     *dio.Queue // from the first block to disk until close
	tails [1 << spillBits]spillTail
	enc   []byte // one record, encoded
}

type spillTail struct {
	f    *os.File // nil until the shard first goes to disk
	buf  []byte   // encoded bytes not handed to the queue: less than a chunk
	size int64    // bytes in f and buf
}

func newSpillWriter(dir string, chunk int) (*spillWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("spill dir %s: %w", dir, err)
	}
	return &spillWriter{dir: dir, chunk: chunk}, nil
}

func spillName(dir string, i int, sub string) string {
	return filepath.Join(dir, fmt.Sprintf("shard-%03d%s.bin", i, sub))
}

func (w *spillWriter) add(hash, seq uint64, r *tasks.Record) error {
	i := int(hash >> (64 - spillBits))
	t := &w.tails[i]
	w.enc = encodeSpilled(w.enc[:0], hash, seq, r)
	t.size += int64(len(w.enc))
	if t.buf == nil {
		if w.q != nil {
			t.buf = w.q.Get()
		} else {
			t.buf = dio.Alloc(w.chunk)[:0:w.chunk]
		}
	}
	for b := w.enc; len(b) > 0; {
		k := copy(t.buf[len(t.buf):cap(t.buf)], b)
		t.buf = t.buf[:len(t.buf)+k]
		b = b[k:]
		if len(t.buf) == cap(t.buf) {
			if err := w.submit(i); err != nil {
				return err
			}
		}
	}
	return nil
}

// submit hands shard i's full block to the queue (creating the shard's
// file, in direct mode where the file system allows) and takes a fresh
// block.
func (w *spillWriter) submit(i int) error {
	t := &w.tails[i]
	if t.f == nil {
		f, err := os.Create(spillName(w.dir, i, ""))
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		dio.SetDirect(f, true)
		t.f = f
	}
	if w.q == nil {
		w.q = dio.NewQueue(w.chunk, spillDepth)
	}
	if err := w.q.Submit(t.f, t.buf); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	t.buf = w.q.Get()
	return nil
}

// close ends the writing: it waits for the queue, then writes the tail of
// every shard that went to disk (it is read back from the file anyway);
// only shards that never filled a chunk stay in memory, copied onto the
// heap (their strings end up in records, which must not point into
// blocks that are unmapped). Every block is freed.
func (w *spillWriter) close() error {
	var first error
	q := w.q
	w.q = nil
	if q != nil {
		if err := q.Close(); err != nil {
			first = fmt.Errorf("spill: %w", err)
		}
	}
	for i := range w.tails {
		t := &w.tails[i]
		if t.buf == nil {
			continue
		}
		block := t.buf
		if t.f == nil {
			t.buf = bytes.Clone(block)
		} else {
			t.buf = nil
			if first == nil {
				if err := q.Finish(t.f, block); err != nil {
					first = fmt.Errorf("spill: %w", err)
				}
			}
			if err := t.f.Close(); err != nil && first == nil {
				first = fmt.Errorf("spill: %w", err)
			}
		}
		dio.Free(block)
	}
	return first
}

// shardIndex returns the index of a shard the writer holds, or -1 for other
// files (the parts splitSpill makes: "shard-003.bin.4").
func (w *spillWriter) shardIndex(name string) int {
	base := filepath.Base(name)
	if filepath.Dir(name) != filepath.Clean(w.dir) || len(base) != len("shard-000.bin") ||
		!strings.HasPrefix(base, "shard-") || !strings.HasSuffix(base, ".bin") {
		return -1
	}
	i, err := strconv.Atoi(base[len("shard-"):len("shard-000")])
	if err != nil || i < 0 || i >= len(w.tails) || w.tails[i].size == 0 {
		return -1
	}
	return i
}

// names lists the shards that hold records, in hash order.
func (w *spillWriter) names() []string {
	var out []string
	for i := range w.tails {
		if w.tails[i].size > 0 {
			out = append(out, spillName(w.dir, i, ""))
		}
	}
	return out
}

// size returns the bytes of a shard (file and tail).
func (w *spillWriter) size(name string) (int64, error) {
	if i := w.shardIndex(name); i >= 0 {
		return w.tails[i].size, nil
	}
	st, err := os.Stat(name)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// toDisk writes a shard's tail to its file, so that splitSpill can
// re-partition the whole shard; from then on it is file only.
func (w *spillWriter) toDisk(name string) error {
	i := w.shardIndex(name)
	if i < 0 {
		return nil
	}
	t := &w.tails[i]
	if len(t.buf) > 0 {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		_, err = f.Write(t.buf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
	}
	*t = spillTail{} // a plain file from now on
	return nil
}

// load returns all the encoded records of a shard and forgets it (its file
// is removed). A shard held in memory comes back as its own buffer (owned:
// never written again, so its records' strings can be cut out of it); one
// on disk is read in one go into *buf, a block from dio.Alloc that load
// replaces with a larger one when the shard does not fit (the records must
// be copied out before the buffer is used again, see loadedShard.release:
// a fresh buffer per shard, tens of MB on large inputs, was paid for in
// page faults).
func (w *spillWriter) load(name string, buf *[]byte) (b []byte, owned bool, err error) {
	i := w.shardIndex(name)
	if i >= 0 && w.tails[i].f == nil {
		t := &w.tails[i]
		b := t.buf
		*t = spillTail{}
		return b, true, nil
	}
	size, err := w.size(name)
	if err != nil {
		return nil, false, err
	}
	f, err := dio.Open(name)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	if cap(*buf) < dio.AlignUp(int(size)) {
		dio.Free(*buf)
		*buf = dio.Alloc(int(size + size/8)) // room for the next, larger, shard
	}
	if b, err = dio.ReadFull(f, int(size), *buf); err != nil {
		return nil, false, fmt.Errorf("spill: %w", err) // (it names the file)
	}
	if i >= 0 {
		w.tails[i] = spillTail{} // its tail went to the file at close
	}
	os.Remove(name)
	return b, false, nil
}

// encodeSpilled appends a compact binary form: uvarint lengths + bytes.
func encodeSpilled(b []byte, hash, seq uint64, r *tasks.Record) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0) // record length, filled below
	b = binary.LittleEndian.AppendUint64(b, hash)
	b = binary.AppendUvarint(b, seq)
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
	// The entries in key order: taken with their values in one walk of
	// the map, into an array on the stack (a record has a few), and
	// sorted by insertion.
	var small [8][2]string
	kv := small[:0]
	for k, v := range r.Meta {
		kv = append(kv, [2]string{k, v})
		for j := len(kv) - 1; j > 0 && kv[j][0] < kv[j-1][0]; j-- {
			kv[j], kv[j-1] = kv[j-1], kv[j]
		}
	}
	b = binary.AppendUvarint(b, uint64(len(kv)))
	for _, e := range kv {
		b = binary.AppendUvarint(b, uint64(len(e[0])))
		b = append(b, e[0]...)
		b = binary.AppendUvarint(b, uint64(len(e[1])))
		b = append(b, e[1]...)
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

// metaReuse is the Meta map of the last record a shardDecoder decoded,
// with its encoded bytes: the records of a Blogger user (most records
// with a Meta) all carry the same one, and records of one user share it
// instead of each getting a copy (nothing writes to a record's Meta).
type metaReuse struct {
	enc  []byte
	m    map[string]string
	same bool // the last record decoded took m as it was
}

// decodeSpilled decodes one record; src is b as a string (the strings of
// the record are cut out of it). With mr, a Meta encoded as the last one
// reuses its map.
func decodeSpilled(b []byte, src string, s *spilled, mr *metaReuse) error {
	if len(b) < 8 {
		return errSpillCorrupt
	}
	s.hash = binary.LittleEndian.Uint64(b)
	d := spillDecoder{b: b[8:], src: src[8:]}
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
	if mr != nil {
		mr.same = false
		if mr.m != nil && bytes.Equal(d.b, mr.enc) {
			r.Meta, mr.same = mr.m, true
			return d.err
		}
		mr.enc, mr.m = d.b, nil
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
	if mr != nil && d.err == nil {
		mr.m = r.Meta
	}
	return d.err
}

// spillKey locates one record of a loaded shard (its body is b[off:end],
// after the length) with what loadShard orders the records by.
type spillKey struct {
	hash     uint64
	time     int64
	seq      uint64
	off, end int
}

// spillFields is the number of strings encodeSpilled writes before Time.
const spillFields = 13

// indexShard walks the records of a loaded shard (see spillWriter.load),
// reading only their hash, sequence number and time.
func indexShard(b []byte) ([]spillKey, error) {
	n := 0
	for off := 0; off < len(b); n++ {
		if len(b)-off < 4 {
			return nil, errSpillCorrupt
		}
		off += 4 + int(binary.LittleEndian.Uint32(b[off:]))
		if off > len(b) {
			return nil, errSpillCorrupt
		}
	}
	keys := make([]spillKey, n)
	off := 0
	for i := range keys {
		end := off + 4 + int(binary.LittleEndian.Uint32(b[off:]))
		k := spillKey{off: off + 4, end: end}
		r := b[k.off:end]
		if len(r) < 8 {
			return nil, errSpillCorrupt
		}
		k.hash = binary.LittleEndian.Uint64(r)
		r = r[8:]
		v, m := binary.Uvarint(r)
		if m <= 0 {
			return nil, errSpillCorrupt
		}
		k.seq, r = v, r[m:]
		for f := 0; f < spillFields; f++ {
			var err error
			if _, r, err = spillString(r); err != nil {
				return nil, err
			}
		}
		t, m := binary.Varint(r)
		if m <= 0 {
			return nil, errSpillCorrupt
		}
		k.time = t
		keys[i] = k
		off = end
	}
	return keys, nil
}

// spillString cuts the first string (uvarint length, bytes) off r.
func spillString(r []byte) (str, rest []byte, err error) {
	l, m := binary.Uvarint(r)
	if m <= 0 || l > uint64(len(r)-m) {
		return nil, nil, errSpillCorrupt
	}
	return r[m : m+int(l)], r[m+int(l):], nil
}

// peekSourceItem returns the Source and ItemID of the record k locates
// in a loaded shard, without decoding it (decodeUser drops most Amazon
// reviews by their item alone). The bytes are the shard's.
func peekSourceItem(b []byte, k spillKey) (source, item []byte, err error) {
	r := b[k.off+8 : k.end] // after the hash (indexShard read it)
	if _, m := binary.Uvarint(r); m > 0 {
		r = r[m:]
	} else {
		return nil, nil, errSpillCorrupt
	}
	for f := 0; f <= itemField; f++ {
		var str []byte
		if str, r, err = spillString(r); err != nil {
			return nil, nil, err
		}
		switch f {
		case 0:
			source = str
		case itemField:
			item = str
		}
	}
	return source, item, nil
}

// itemField is the index of ItemID among the strings encodeSpilled writes.
const itemField = 10

// shardDecoder decodes the records of one loaded shard. From an owned
// shard (see spillWriter.load) the records' strings are cut out of it
// without copies; otherwise each record is copied out first.
type shardDecoder struct {
	b    []byte
	src  string // b as a string, when owned
	own  map[string]string
	meta metaReuse
}

func newShardDecoder(b []byte, owned bool) *shardDecoder {
	d := &shardDecoder{b: b, own: map[string]string{}}
	if owned {
		d.src = fields.View(b)
	}
	return d
}

// decode decodes the record k locates into s.
func (d *shardDecoder) decode(k spillKey, s *spilled) error {
	var src string
	if d.src != "" {
		src = d.src[k.off:k.end]
	} else {
		src = string(d.b[k.off:k.end])
	}
	if err := decodeSpilled(d.b[k.off:k.end], src, s, &d.meta); err != nil {
		return err
	}
	// The few distinct sources, kinds and communities are copied out of
	// the shard: they end up as map keys in the report and elsewhere,
	// which must not keep a whole shard alive.
	r := &s.rec
	r.Source, r.Kind, r.Community = d.intern(r.Source), d.intern(r.Kind), d.intern(r.Community)
	return nil
}

// internBytes is intern for bytes of the shard.
func (d *shardDecoder) internBytes(b []byte) string {
	if v, ok := d.own[string(b)]; ok {
		return v
	}
	v := string(b)
	d.own[v] = v
	return v
}

func (d *shardDecoder) intern(s string) string {
	v, ok := d.own[s]
	if !ok {
		v = strings.Clone(s)
		d.own[v] = v
	}
	return v
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
		if err := decodeSpilled(buf, string(buf), &s, nil); err != nil {
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
		b = encodeSpilled(b[:0], s.hash, s.seq, &s.rec)
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
