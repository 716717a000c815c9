package dio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Device I/O through io_uring, so that a goroutine waiting for the device
// does not hold its P.
//
// A goroutine in a blocking read(2) or write(2) keeps its P until the call
// returns or sysmon takes the P back, and sysmon, after a quiet
// millisecond, only looks every 10 ms. With GOMAXPROCS=1 (prepare on one
// core) every direct read or write therefore stopped all Go code for as
// long as the device took: ~10 s of a 70 s run. Here the call is submitted
// to a ring and the goroutine waits on a channel; one dispatcher goroutine
// waits for completions on an eventfd, which the runtime's netpoller
// watches without holding a P.
//
// Everything falls back to ordinary system calls when the kernel has no
// io_uring (before 5.6, or disabled by sysctl or a seccomp filter), and
// when HUMANLLM_IO_URING=0.

// Layout of the kernel's structures (include/uapi/linux/io_uring.h).
const (
	opRead  = 22 // IORING_OP_READ
	opWrite = 23 // IORING_OP_WRITE

	offSQRing = 0          // IORING_OFF_SQ_RING
	offCQRing = 0x8000000  // IORING_OFF_CQ_RING
	offSQEs   = 0x10000000 // IORING_OFF_SQES

	featSingleMmap = 1 << 0 // IORING_FEAT_SINGLE_MMAP
	registerEvfd   = 4      // IORING_REGISTER_EVENTFD

	sqeSize = 64
	cqeSize = 16
)

// uringParams is struct io_uring_params.
type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

// ring is one io_uring with its completion dispatcher.
type ring struct {
	fd   int
	mem  [][]byte // the mappings
	evfd *os.File

	mu      sync.Mutex // submission side
	sqHead  *uint32
	sqTail  *uint32
	sqMask  uint32
	sqArray unsafe.Pointer
	sqes    unsafe.Pointer
	slots   chan struct{} // bounds the operations in flight to the ring size
	waiting map[uint64]chan int32
	nextID  uint64

	broken atomic.Bool // an enter failed: plain system calls from now on

	cqHead *uint32
	cqTail *uint32
	cqMask uint32
	cqes   unsafe.Pointer
}

var (
	ringOnce sync.Once
	theRing  *ring // nil: plain system calls
	ringOff  bool  // tests: plain system calls
)

// getRing returns the process's ring, set up on first use, or nil.
func getRing() *ring {
	if ringOff {
		return nil
	}
	ringOnce.Do(func() {
		if disabled || os.Getenv("HUMANLLM_IO_URING") == "0" {
			return
		}
		r, err := newRing(64)
		if err == nil {
			theRing = r
		}
	})
	if theRing != nil && theRing.broken.Load() {
		return nil
	}
	return theRing
}

func newRing(entries uint32) (*ring, error) {
	var p uringParams
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, errno
	}
	r := &ring{fd: int(fd), waiting: map[uint64]chan int32{}}
	ok := false
	defer func() {
		if !ok {
			r.close()
		}
	}()
	if p.features&featSingleMmap == 0 {
		return nil, errors.New("io_uring without IORING_FEAT_SINGLE_MMAP")
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*cqeSize)
	rings, err := unix.Mmap(r.fd, offSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	r.mem = append(r.mem, rings)
	sqes, err := unix.Mmap(r.fd, offSQEs, int(p.sqEntries*sqeSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	r.mem = append(r.mem, sqes)
	base := unsafe.Pointer(&rings[0])
	at := func(off uint32) *uint32 { return (*uint32)(unsafe.Add(base, off)) }
	r.sqHead, r.sqTail, r.sqMask = at(p.sqOff.head), at(p.sqOff.tail), *at(p.sqOff.ringMask)
	r.sqArray = unsafe.Add(base, p.sqOff.array)
	r.sqes = unsafe.Pointer(&sqes[0])
	r.cqHead, r.cqTail, r.cqMask = at(p.cqOff.head), at(p.cqOff.tail), *at(p.cqOff.ringMask)
	r.cqes = unsafe.Add(base, p.cqOff.cqes)
	r.slots = make(chan struct{}, p.sqEntries)

	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	r.evfd = os.NewFile(uintptr(efd), "io_uring-eventfd")
	efd32 := int32(efd)
	if _, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), registerEvfd,
		uintptr(unsafe.Pointer(&efd32)), 1, 0, 0); errno != 0 {
		return nil, errno
	}
	// A first operation proves the ring works here (a seccomp filter may
	// allow setup and refuse enter): a read of fd -1 must come back EBADF.
	go r.dispatch()
	probe := make(chan error, 1)
	go func() {
		_, err := r.do(opRead, -1, nil, 0)
		probe <- err
	}()
	select {
	case err := <-probe:
		if !errors.Is(err, unix.EBADF) {
			return nil, fmt.Errorf("io_uring probe: %v", err)
		}
	case <-time.After(2 * time.Second):
		return nil, errors.New("io_uring probe: no completion") // the probe goroutine stays parked
	}
	ok = true
	return r, nil
}

func (r *ring) close() {
	if r.evfd != nil {
		r.evfd.Close()
	}
	for _, m := range r.mem {
		unix.Munmap(m)
	}
	unix.Close(r.fd)
}

// do submits one read or write of b at off on fd and waits for its result
// (bytes, or a negative errno).
func (r *ring) do(op uint8, fd int, b []byte, off int64) (int, error) {
	r.slots <- struct{}{}
	done := make(chan int32, 1)
	r.mu.Lock()
	r.nextID++
	id := r.nextID
	r.waiting[id] = done
	tail := atomic.LoadUint32(r.sqTail)
	idx := tail & r.sqMask
	sqe := unsafe.Slice((*byte)(unsafe.Add(r.sqes, uintptr(idx)*sqeSize)), sqeSize)
	clear(sqe)
	sqe[0] = op
	binary.LittleEndian.PutUint32(sqe[4:], uint32(int32(fd)))
	binary.LittleEndian.PutUint64(sqe[8:], uint64(off))
	if len(b) > 0 {
		binary.LittleEndian.PutUint64(sqe[16:], uint64(uintptr(unsafe.Pointer(&b[0]))))
	}
	binary.LittleEndian.PutUint32(sqe[24:], uint32(len(b)))
	binary.LittleEndian.PutUint64(sqe[32:], id)
	*(*uint32)(unsafe.Add(r.sqArray, uintptr(idx)*4)) = idx
	atomic.StoreUint32(r.sqTail, tail+1)
	// Submit every entry the kernel has not taken yet (this one, and any
	// an interrupted enter left). EAGAIN and EBUSY mean the kernel is
	// short of room for a moment: try again.
	var errno unix.Errno
	for try := 0; ; try++ {
		pending := atomic.LoadUint32(r.sqTail) - atomic.LoadUint32(r.sqHead)
		if pending == 0 {
			errno = 0
			break
		}
		_, _, errno = unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(pending), 0, 0, 0, 0)
		if errno == unix.EINTR || (errno == unix.EAGAIN || errno == unix.EBUSY) && try < 1000 {
			time.Sleep(50 * time.Microsecond)
			continue
		}
		break
	}
	if errno != 0 {
		// The entry is published and the kernel may still take it
		// later, writing into b after we return: stop using the ring
		// (nothing submits again), and fail this operation.
		r.broken.Store(true)
		delete(r.waiting, id)
		r.mu.Unlock()
		<-r.slots
		return 0, errno
	}
	r.mu.Unlock()
	res := <-done
	<-r.slots
	runtime.KeepAlive(b)
	if res < 0 {
		return 0, unix.Errno(-res)
	}
	return int(res), nil
}

// dispatch hands each completion to the goroutine waiting for it. It
// waits on the eventfd through the netpoller, holding no P.
func (r *ring) dispatch() {
	var buf [8]byte
	for {
		if _, err := r.evfd.Read(buf[:]); err != nil {
			return
		}
		for {
			head := atomic.LoadUint32(r.cqHead)
			if head == atomic.LoadUint32(r.cqTail) {
				break
			}
			cqe := unsafe.Slice((*byte)(unsafe.Add(r.cqes, uintptr(head&r.cqMask)*cqeSize)), cqeSize)
			id := binary.LittleEndian.Uint64(cqe[0:])
			res := int32(binary.LittleEndian.Uint32(cqe[8:]))
			atomic.StoreUint32(r.cqHead, head+1)
			r.mu.Lock()
			ch := r.waiting[id]
			delete(r.waiting, id)
			r.mu.Unlock()
			if ch != nil {
				ch <- res
			}
		}
	}
}

// pread is one read(2) of b at off, through the ring when there is one:
// it may read less than len(b); 0 bytes at the end of the file is io.EOF.
func pread(f *os.File, b []byte, off int64) (int, error) { return rw(opRead, f, b, off) }

// pwrite is one write(2) of b at off, through the ring when there is one.
func pwrite(f *os.File, b []byte, off int64) (int, error) { return rw(opWrite, f, b, off) }

func rw(op uint8, f *os.File, b []byte, off int64) (int, error) {
	var n int
	var err error
	fd := int(f.Fd())
	switch r := getRing(); {
	case r != nil:
		n, err = r.do(op, fd, b, off)
	case op == opRead:
		n, err = unix.Pread(fd, b, off)
	default:
		n, err = unix.Pwrite(fd, b, off)
	}
	runtime.KeepAlive(f)
	name := "read"
	if op == opWrite {
		name = "write"
	}
	return result(f, name, n, err, len(b))
}

func result(f *os.File, op string, n int, err error, want int) (int, error) {
	if err != nil {
		return 0, &os.PathError{Op: op, Path: f.Name(), Err: err}
	}
	if n == 0 && want > 0 {
		if op == "read" {
			return 0, io.EOF
		}
		return 0, &os.PathError{Op: op, Path: f.Name(), Err: io.ErrShortWrite}
	}
	return n, nil
}
