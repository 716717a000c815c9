package dio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Open opens name for reading, in direct mode where the file is regular
// and its file system allows it.
func Open(name string) (*os.File, error) {
	f, _, err := openSized(name)
	return f, err
}

// openSized is Open that also returns the file's size when it opened it,
// or -1 for a file that is not regular.
func openSized(name string) (*os.File, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return f, -1, nil
	}
	SetDirect(f, true)
	return f, st.Size(), nil
}

// readBlock reads from f at off into b until it has want bytes (at most
// len(b)) or the file ends, and returns the bytes read; io.EOF only when
// none were. A direct read
// the kernel refuses (EINVAL: after a short read the next offset is off
// the alignment, or the file system takes O_DIRECT at open but not for
// reads) is retried through the page cache, which the file keeps from then
// on.
//
// A direct read past the end of a file costs: the kernel zero-fills the
// part of the buffer beyond the end (iomap_dio_hole_iter) before it cuts
// the count. Reading 26,520 Blogger files of ~75 KB into 1 MB blocks spent
// a third of its system time there. Callers that know the size pass b no
// longer than the size rounded up to Align (see sized).
func readBlock(f *os.File, b []byte, off int64, want int) (int, error) {
	n := 0
	for n < want {
		k, err := pread(f, b[n:], off+int64(n))
		if err != nil && errors.Is(err, errInval) && !SetDirect(f, false) {
			k, err = pread(f, b[n:], off+int64(n))
		}
		n += k
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// readStream fills b from a file that is not regular (a FIFO, a
// /dev/fd/N of a shell's process substitution): plain sequential reads,
// which have no offset to give pread.
func readStream(f *os.File, b []byte) (int, error) {
	n, err := io.ReadFull(f, b)
	if err == io.ErrUnexpectedEOF || err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// sized cuts a read buffer b at off to what is left of a file of size
// bytes (size < 0: not known), rounded up to Align, and returns it with
// the bytes to read into it: knowing where the file ends also saves the
// read that would find it.
func sized(b []byte, off, size int64) ([]byte, int) {
	if size >= 0 && int64(len(b)) > size-off {
		left := int(max(size-off, 0))
		return b[:AlignUp(left)], left
	}
	return b, len(b)
}

// ReadFull reads the whole of f (size bytes, from its start) into buf,
// which it grows when needed, and returns buf[:size]. buf comes from Buf
// (or is nil).
func ReadFull(f *os.File, size int, buf []byte) ([]byte, error) {
	if cap(buf) < AlignUp(size) || !aligned(buf) {
		buf = Buf(size)
	}
	n, err := readBlock(f, buf[:AlignUp(size)], 0, size) // (not past AlignUp(size): see readBlock)
	if err != nil && err != io.EOF {
		return buf, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if n != size {
		return buf, fmt.Errorf("read %s: %d bytes, want %d", f.Name(), n, size)
	}
	return buf[:size], nil
}

// Prefetcher reads a list of files ahead of the consumer, in background
// goroutines, into bounded pools of blocks: while the consumer parses one
// block, the next ones (of this file and the files after it) are already
// coming from the device. The files are dealt round-robin to
// prefetchLanes lanes, each reading its files in order with its own
// blocks, so that several small files are in flight at once (a Blogger
// dump is tens of thousands of files of ~75 KB: one at a time, the device's
// latency per file added up to seconds). Next returns the files in list
// order.
type Prefetcher struct {
	lanes []*lane // file i is read by lanes[i%len(lanes)]
	next  int     // the file Next returns next
	stop  chan struct{}
	wg    sync.WaitGroup
	cur   *FileReader
	all   [][]byte // every block, freed by Close
}

// lane is one reading goroutine's output and blocks.
type lane struct {
	chunks chan chunk
	free   chan []byte
}

// prefetchLanes is the number of files a Prefetcher reads at once. Four
// kept the parser of a Blogger dump (26,520 files of ~75 KB in the 5.5M
// bench) waiting for its next file at two threads: a read's completion
// reaches its lane only when the scheduler polls for it, which can be late
// while both threads are busy, and eight files ahead hid that where four
// did not.
const prefetchLanes = 8

// chunk is one block of one file; the last chunk of a file has eof set
// (and possibly no bytes), or err.
type chunk struct {
	b   []byte
	eof bool
	err error
}

// NewPrefetcher starts reading names with depth (at least 2) blocks of
// block bytes (a multiple of Align) per lane.
func NewPrefetcher(names []string, block, depth int) *Prefetcher {
	if block <= 0 || block%Align != 0 {
		panic(fmt.Sprintf("dio: block %d is not a positive multiple of %d", block, Align))
	}
	depth = max(depth, 2)
	p := &Prefetcher{stop: make(chan struct{})}
	for l := range min(prefetchLanes, max(len(names), 1)) {
		ln := &lane{chunks: make(chan chunk, depth), free: make(chan []byte, depth)}
		for range depth {
			b := Alloc(block)
			p.all = append(p.all, b)
			ln.free <- b
		}
		p.lanes = append(p.lanes, ln)
		var mine []string
		for i := l; i < len(names); i += prefetchLanes {
			mine = append(mine, names[i])
		}
		p.wg.Add(1)
		go p.run(ln, mine)
	}
	return p
}

func (p *Prefetcher) run(ln *lane, names []string) {
	defer p.wg.Done()
	defer close(ln.chunks)
	for _, name := range names {
		if !p.readFile(ln, name) {
			return
		}
	}
}

// readFile sends name's chunks to the lane and reports whether to go on.
func (p *Prefetcher) readFile(ln *lane, name string) bool {
	send := func(c chunk) bool {
		select {
		case ln.chunks <- c:
			return true
		case <-p.stop:
			return false
		}
	}
	f, size, err := openSized(name)
	if err != nil {
		send(chunk{err: err})
		return false
	}
	defer f.Close()
	for off := int64(0); ; {
		var b []byte
		select {
		case b = <-ln.free:
		case <-p.stop:
			return false
		}
		var n int
		if size >= 0 {
			rb, want := sized(b[:cap(b)], off, size)
			n, err = readBlock(f, rb, off, want)
		} else {
			n, err = readStream(f, b[:cap(b)])
		}
		off += int64(n)
		switch {
		case err == io.EOF:
			return send(chunk{b: b[:0], eof: true})
		case err != nil:
			send(chunk{b: b[:0], err: err})
			return false
		}
		// A short block is the file's end: say so now, saving the
		// consumer a wait for an empty one. (A regular file is read up
		// to the size it had when it was opened: one still growing is
		// cut there.)
		last := n < cap(b) || size >= 0 && off >= size
		if !send(chunk{b: b[:n], eof: last}) {
			return false
		}
		if last {
			return true
		}
	}
}

// Next returns a reader of the next file in the list, or the error opening
// it. The previous reader must not be used after (what it left unread is
// skipped).
func (p *Prefetcher) Next() (*FileReader, error) {
	if p.cur != nil {
		if err := p.cur.skipRest(); err != nil {
			return nil, err
		}
		p.cur = nil
	}
	ln := p.lanes[p.next%len(p.lanes)]
	p.next++
	c, ok := <-ln.chunks
	if !ok {
		return nil, errors.New("dio: no more files to prefetch")
	}
	if c.err != nil && c.b == nil {
		return nil, c.err // the open failed
	}
	p.cur = &FileReader{ln: ln, c: c, buf: c.b}
	return p.cur, nil
}

// Close stops the reading goroutines, waits for them and frees the
// blocks: no FileReader of p may be used after.
func (p *Prefetcher) Close() {
	close(p.stop)
	p.wg.Wait()
	for _, b := range p.all {
		Free(b)
	}
	p.all = nil
	p.cur = nil
}

// FileReader is an io.Reader of one file's bytes from a Prefetcher.
type FileReader struct {
	ln   *lane
	c    chunk // the current chunk; c.b is what is left of it
	buf  []byte
	done bool // the last chunk is taken and consumed
}

// Read copies from the prefetched blocks.
func (r *FileReader) Read(b []byte) (int, error) {
	for len(r.c.b) == 0 {
		if r.done {
			return 0, io.EOF
		}
		if err := r.advance(); err != nil {
			return 0, err
		}
	}
	n := copy(b, r.c.b)
	r.c.b = r.c.b[n:]
	return n, nil
}

// advance gives the consumed block back and takes the next chunk; done is
// set when the consumed one was the file's last.
func (r *FileReader) advance() error {
	if r.c.err != nil {
		return r.c.err
	}
	if r.buf != nil {
		r.ln.free <- r.buf[:0]
		r.buf = nil
	}
	if r.c.eof {
		r.done = true
		return nil
	}
	c, ok := <-r.ln.chunks
	if !ok {
		return errors.New("dio: prefetch stopped")
	}
	r.c, r.buf = c, c.b
	return nil
}

// skipRest consumes the rest of the file.
func (r *FileReader) skipRest() error {
	for !r.done {
		r.c.b = nil
		if err := r.advance(); err != nil {
			return err
		}
	}
	return nil
}
