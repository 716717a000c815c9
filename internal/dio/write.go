package dio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Queue writes blocks to files from background goroutines, so the caller
// goes on filling the next block while the device takes the last ones.
// Each block's place in its file is fixed when it is submitted (after the
// blocks submitted to that file before), and up to queueWriters of them
// are written at once: the device works on several requests in parallel.
// At most depth blocks are submitted and not yet written; Submit waits
// when all are.
type Queue struct {
	block int
	jobs  chan writeJob
	wg    sync.WaitGroup

	mu   sync.Mutex
	err  error
	free [][]byte // written blocks, for Get

	offs map[*os.File]int64 // where each file's next block goes (the caller's)
}

type writeJob struct {
	f   *os.File
	b   []byte
	off int64
}

// queueWriters is the number of writes a Queue has in flight at most.
const queueWriters = 4

// NewQueue starts a queue of blocks of block bytes with at most depth of
// them submitted and not yet written. Only a block size that is a multiple
// of Align keeps files in direct mode (any other is written, correctly,
// through the page cache: see writeAt).
func NewQueue(block, depth int) *Queue {
	if block <= 0 {
		panic(fmt.Sprintf("dio: block size %d", block))
	}
	depth = max(depth, 1)
	q := &Queue{
		block: block,
		jobs:  make(chan writeJob, depth),
		offs:  map[*os.File]int64{},
	}
	for range min(depth, queueWriters) {
		q.wg.Add(1)
		go q.run()
	}
	return q
}

// BlockSize returns the size of the queue's blocks.
func (q *Queue) BlockSize() int { return q.block }

func (q *Queue) run() {
	defer q.wg.Done()
	for j := range q.jobs {
		var err error
		if q.Err() == nil {
			err = writeAt(j.f, j.b, j.off)
		}
		q.mu.Lock()
		if err != nil && q.err == nil {
			q.err = fmt.Errorf("write %s: %w", j.f.Name(), err)
		}
		q.free = append(q.free, j.b[:0])
		q.mu.Unlock()
	}
}

// writeAt writes all of b at off. A direct write the kernel refuses
// (EINVAL: a length or offset off the alignment, or a file system that
// accepted O_DIRECT at open but not for this write) is retried with
// ordinary I/O, which the file keeps from then on.
func writeAt(f *os.File, b []byte, off int64) error {
	retried := false
	for len(b) > 0 {
		n, err := pwrite(f, b, off)
		if err != nil && n == 0 && !retried && errors.Is(err, errInval) && !SetDirect(f, false) {
			retried = true
			continue
		}
		if err != nil {
			return err
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

// offset returns where f's next block goes: after the blocks submitted
// before, or f's offset when it is new to the queue.
func (q *Queue) offset(f *os.File) (int64, error) {
	if off, ok := q.offs[f]; ok {
		return off, nil
	}
	return f.Seek(0, io.SeekCurrent)
}

// Get returns an empty block to fill (capacity the block size): a written
// one back from the device when there is one, else a new one (from Alloc).
// The caller gives it back by Submit, or frees it with Free.
func (q *Queue) Get() []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n := len(q.free); n > 0 {
		b := q.free[n-1]
		q.free = q.free[:n-1]
		return b
	}
	return Alloc(q.block)[:0:q.block]
}

// Submit hands b (a block from Get, filled to its full length when f is in
// direct mode) to the writer and returns the first write error so far. b
// must not be used after.
func (q *Queue) Submit(f *os.File, b []byte) error {
	if err := q.Err(); err != nil {
		return err
	}
	off, err := q.offset(f)
	if err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	q.offs[f] = off + int64(len(b))
	q.jobs <- writeJob{f: f, b: b, off: off}
	return nil
}

// Err returns the first write error so far.
func (q *Queue) Err() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// Close waits for every submitted block to be written and returns the
// first error. The queue cannot be used after.
func (q *Queue) Close() error {
	close(q.jobs)
	q.wg.Wait()
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, b := range q.free {
		Free(b)
	}
	q.free = nil
	return q.err
}

// Finish writes tail, the bytes after the last full block, to f with
// ordinary I/O (a direct write needs a whole block) after the blocks
// submitted for f, and leaves f's offset at its end: call it after Close.
func (q *Queue) Finish(f *os.File, tail []byte) error {
	off, err := q.offset(f)
	if err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if len(tail) > 0 {
		SetDirect(f, false)
		if _, err := f.WriteAt(tail, off); err != nil {
			return fmt.Errorf("write %s: %w", f.Name(), err)
		}
		off += int64(len(tail))
	}
	q.offs[f] = off
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return nil
}

// Writer is an io.Writer to one file through its own Queue: whole blocks
// go to the device directly (when the file system allows) from a
// background goroutine; Close writes the rest. It does not close, sync or
// rename the file: the caller does.
type Writer struct {
	f   *os.File
	q   *Queue
	cur []byte
}

// NewWriter turns O_DIRECT on for f (a file opened for writing, at an
// offset that is a multiple of Align: a new file) where it can and returns
// a Writer of blocks of block bytes, depth in flight.
func NewWriter(f *os.File, block, depth int) *Writer {
	if isRegular(f) {
		SetDirect(f, true)
	}
	q := NewQueue(block, depth)
	return &Writer{f: f, q: q, cur: q.Get()}
}

// Write copies p into blocks and submits each one as it fills.
func (w *Writer) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := copy(w.cur[len(w.cur):cap(w.cur)], p)
		w.cur = w.cur[:len(w.cur)+k]
		p = p[k:]
		n += k
		if len(w.cur) == cap(w.cur) {
			if err := w.q.Submit(w.f, w.cur); err != nil {
				return n, err
			}
			w.cur = w.q.Get()
		}
	}
	return n, nil
}

// Abort waits for the submitted blocks and frees the writer's blocks
// without writing the last partial one: for a file about to be removed.
func (w *Writer) Abort() {
	if w.q == nil {
		return
	}
	w.q.Close()
	w.q = nil
	Free(w.cur)
	w.cur = nil
}

// Close waits for the submitted blocks and writes the last partial one.
func (w *Writer) Close() error {
	if w.q == nil {
		return errors.New("dio: Writer closed twice")
	}
	err := w.q.Close()
	if err == nil {
		err = w.q.Finish(w.f, w.cur)
	}
	w.q = nil
	Free(w.cur)
	w.cur = nil
	return err
}
