//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"

	"github.com/humanllm/humanllm/kernels"
)

// Available reports whether this build has the CUDA backend (build tag
// cuda).
const Available = true

var _ kernels.Kernels = (*Implementation)(nil)

// Implementation runs the kernels interfaces on one NVIDIA GPU. It is safe
// for concurrent use; calls are serialised (one GPU, one stream).
type Implementation struct {
	mu     sync.Mutex
	drv    *driverAPI
	blas   *cublasAPI
	rtc    *nvrtcAPI
	dev    uintptr // CUdevice (an int)
	ctx    uintptr // the device's primary context
	handle uintptr // cuBLAS handle
	info   Info
	tf32   bool
	bf16   bool
	arena  arena
	closed bool

	resident []arenaBlock // ResidentSgemmer's A, B, C (sizes in floats)

	compileOnce sync.Once
	compileErr  error
	module      uintptr
	fns         map[string]uintptr
}

// Open loads the CUDA driver, cuBLAS and NVRTC (see Options.LibDirs for
// where they are looked for), initialises device o.Ordinal and its primary
// context and creates a cuBLAS handle. The fused ops' kernels are compiled
// at their first use (or by Compile). Every failure is an error naming what
// was not found or what the driver said.
func Open(o Options) (*Implementation, error) {
	if o.TF32 && o.BF16 {
		return nil, fmt.Errorf("cuda: TF32 and BF16 GEMMs exclude each other; choose one")
	}
	dirs := libDirs(o.LibDirs)
	drv, err := loadDriver(dirs)
	if err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := drv.check("cuInit", call(drv.cuInit, 0)); err != nil {
		return nil, fmt.Errorf("%w (driver library %s; is an NVIDIA GPU present and its kernel module loaded?)", err, drv.lib.path)
	}
	var count int32
	if err := drv.check("cuDeviceGetCount", call(drv.cuDeviceGetCount, uintptr(unsafe.Pointer(&count)))); err != nil {
		return nil, err
	}
	if o.Ordinal < 0 || o.Ordinal >= int(count) {
		return nil, fmt.Errorf("cuda: device %d requested, %d present", o.Ordinal, count)
	}
	impl := &Implementation{drv: drv, tf32: o.TF32, bf16: o.BF16, fns: map[string]uintptr{}}
	impl.info.Ordinal = o.Ordinal
	impl.info.Libraries = []string{drv.lib.path}
	var dev int32
	if err := drv.check("cuDeviceGet", call(drv.cuDeviceGet, uintptr(unsafe.Pointer(&dev)), uintptr(o.Ordinal))); err != nil {
		return nil, err
	}
	impl.dev = uintptr(dev)
	var name [256]byte
	if err := drv.check("cuDeviceGetName", call(drv.cuDeviceGetName, uintptr(unsafe.Pointer(&name[0])), uintptr(len(name)), impl.dev)); err != nil {
		return nil, err
	}
	for i, c := range name {
		if c == 0 {
			impl.info.Name = string(name[:i])
			break
		}
	}
	attr := func(a int) int {
		var v int32
		call(drv.cuDeviceGetAttribute, uintptr(unsafe.Pointer(&v)), uintptr(a), impl.dev)
		return int(v)
	}
	impl.info.CC = 10*attr(attrCCMajor) + attr(attrCCMinor)
	impl.info.SMs = attr(attrMultiprocessors)
	impl.info.ClockKHz = attr(attrClockRateKHz)
	if (o.BF16 || o.TF32) && impl.info.CC < 80 {
		return nil, fmt.Errorf("cuda: %s has compute capability %d.%d: bf16 and TF32 tensor cores need 8.0 (Ampere) or later; use fp32 GEMMs", impl.info.Name, impl.info.CC/10, impl.info.CC%10)
	}
	var mem uintptr
	call(drv.cuDeviceTotalMem, uintptr(unsafe.Pointer(&mem)), impl.dev)
	impl.info.TotalMem = uint64(mem)
	var dver int32
	call(drv.cuDriverGetVersion, uintptr(unsafe.Pointer(&dver)))
	impl.info.DriverVersion = int(dver)

	if err := drv.check("cuDevicePrimaryCtxRetain", call(drv.cuDevicePrimaryCtxRetain, uintptr(unsafe.Pointer(&impl.ctx)), impl.dev)); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			impl.release()
		}
	}()
	if err := drv.check("cuCtxSetCurrent", call(drv.cuCtxSetCurrent, impl.ctx)); err != nil {
		return nil, err
	}
	if impl.blas, err = loadCUBLAS(dirs); err != nil {
		return nil, err
	}
	impl.info.Libraries = append(impl.info.Libraries, impl.blas.lib.path)
	if err := impl.blas.check("cublasCreate", call(impl.blas.cublasCreate, uintptr(unsafe.Pointer(&impl.handle)))); err != nil {
		return nil, err
	}
	var bver int32
	call(impl.blas.cublasGetVersion, impl.handle, uintptr(unsafe.Pointer(&bver)))
	impl.info.CUBLASVersion = int(bver)
	if impl.rtc, err = loadNVRTC(dirs); err != nil {
		return nil, err
	}
	impl.info.Libraries = append(impl.info.Libraries, impl.rtc.lib.path)
	maj, minr := impl.rtc.Version()
	impl.info.NVRTCVersion = fmt.Sprintf("%d.%d", maj, minr)
	impl.arena.drv = drv
	ok = true
	return impl, nil
}

// Info describes the device.
func (impl *Implementation) Info() Info { return impl.info }

// Name is "cuda:<ordinal> <device name> (sm_XY)", plus "+tf32" or "+bf16" when
// GEMMs use TF32 or bf16 tensor cores.
func (impl *Implementation) Name() string {
	s := fmt.Sprintf("cuda:%d %s (sm_%d)", impl.info.Ordinal, impl.info.Name, impl.info.CC)
	if impl.tf32 {
		s += " +tf32"
	}
	if impl.bf16 {
		s += " +bf16"
	}
	return s
}

// PeakFP32 estimates the device's fp32 FMA peak in FLOP/s (Peak with FP32;
// 0 when the architecture is not in the table).
func (impl *Implementation) PeakFP32() float64 {
	v, _ := Peak(impl.info, FP32)
	return v
}

// Close releases the device memory, the module, the cuBLAS handle and the
// primary context. The Implementation must not be used afterwards.
func (impl *Implementation) Close() error {
	impl.mu.Lock()
	defer impl.mu.Unlock()
	if impl.closed {
		return nil
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	call(impl.drv.cuCtxSetCurrent, impl.ctx)
	impl.release()
	impl.closed = true
	return nil
}

func (impl *Implementation) release() {
	impl.arena.free()
	for _, b := range impl.resident {
		call(impl.drv.cuMemFree, b.ptr)
	}
	impl.resident = nil
	if impl.module != 0 {
		call(impl.drv.cuModuleUnload, impl.module)
		impl.module = 0
	}
	if impl.handle != 0 {
		call(impl.blas.cublasDestroy, impl.handle)
		impl.handle = 0
	}
	if impl.ctx != 0 {
		call(impl.drv.cuDevicePrimaryCtxRelease, impl.dev)
		impl.ctx = 0
	}
}

// Compile compiles the fused ops' CUDA C with NVRTC and loads the module
// (once; later calls return the first result). The fused ops call it on
// first use and panic with its error; call it first to get the error as a
// value.
func (impl *Implementation) Compile() error {
	impl.compileOnce.Do(func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		impl.mu.Lock()
		defer impl.mu.Unlock()
		if impl.closed {
			impl.compileErr = errClosed
			return
		}
		call(impl.drv.cuCtxSetCurrent, impl.ctx)
		impl.compileErr = impl.compile()
	})
	return impl.compileErr
}

func (impl *Implementation) compile() error {
	archs, err := impl.rtc.SupportedArchs()
	if err != nil {
		return err
	}
	arch, cubin, err := pickArch(impl.info.CC, archs)
	if err != nil {
		return err
	}
	image, _, err := impl.rtc.Compile(kernelSource, "kernels.cu", arch, cubin)
	if err != nil {
		return err
	}
	if err := impl.drv.check("cuModuleLoadData", call(impl.drv.cuModuleLoadData, uintptr(unsafe.Pointer(&impl.module)), uintptr(unsafe.Pointer(&image[0])))); err != nil {
		return fmt.Errorf("%w (NVRTC %s, %s for arch %d)", err, impl.info.NVRTCVersion, map[bool]string{true: "CUBIN", false: "PTX"}[cubin], arch)
	}
	runtime.KeepAlive(image)
	return nil
}

// call is one operation: the device's lock, the calling OS thread locked
// with the context current on it (CUDA contexts are per thread, goroutines
// move between threads), and the arena reset at the end.
type session struct{ impl *Implementation }

func (impl *Implementation) begin(fused bool) session {
	if fused {
		if err := impl.Compile(); err != nil {
			panic(err)
		}
	}
	runtime.LockOSThread()
	impl.mu.Lock()
	if impl.closed {
		impl.mu.Unlock()
		runtime.UnlockOSThread()
		panic(errClosed)
	}
	impl.drv.must("cuCtxSetCurrent", call(impl.drv.cuCtxSetCurrent, impl.ctx))
	return session{impl}
}

func (s session) end() {
	s.impl.arena.reset()
	s.impl.mu.Unlock()
	runtime.UnlockOSThread()
}

// alloc returns n floats (or int32s) of device memory, valid until end.
func (s session) alloc(n int) uintptr { return s.impl.arena.alloc(4 * n) }

// up copies x to new device memory.
func (s session) up(x []float32) uintptr {
	p := s.alloc(len(x))
	s.impl.drv.htod(p, x)
	return p
}

func (s session) upInt(x []int32) uintptr {
	p := s.alloc(len(x))
	s.impl.drv.htodInt(p, x)
	return p
}

// down copies len(x) floats from device memory p into x.
func (s session) down(x []float32, p uintptr) { s.impl.drv.dtoh(x, p) }

// launch runs kernel name on a grid of gx×gy blocks of bx threads with shm
// bytes of dynamic shared memory. args are the kernel's parameters in
// order, typed as the CUDA C declares them: uintptr for pointers, int32 for
// int, int64 for long long, float32 for float, float64 for double.
func (s session) launch(name string, gx, gy, bx, shm int, args ...any) {
	impl := s.impl
	f, ok := impl.fns[name]
	if !ok {
		cname := cstring(name)
		impl.drv.must("cuModuleGetFunction "+name, call(impl.drv.cuModuleGetFunction, uintptr(unsafe.Pointer(&f)), impl.module, uintptr(unsafe.Pointer(cname))))
		impl.fns[name] = f
	}
	vals := make([]uint64, len(args))
	ptrs := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case uintptr:
			vals[i] = uint64(v)
		case int32:
			vals[i] = uint64(uint32(v))
		case int64:
			vals[i] = uint64(v)
		case float32:
			vals[i] = uint64(math.Float32bits(v))
		case float64:
			vals[i] = math.Float64bits(v)
		default:
			panic(fmt.Sprintf("cuda: kernel %s argument %d has type %T", name, i, a))
		}
		ptrs[i] = unsafe.Pointer(&vals[i])
	}
	if gx <= 0 || gy <= 0 {
		return
	}
	if gy > 65535 {
		panic(fmt.Sprintf("cuda: kernel %s: grid y %d exceeds 65535", name, gy))
	}
	var pp uintptr
	if len(ptrs) > 0 {
		pp = uintptr(unsafe.Pointer(&ptrs[0]))
	}
	impl.drv.must("cuLaunchKernel "+name, call(impl.drv.cuLaunchKernel, f,
		uintptr(gx), uintptr(gy), 1, uintptr(bx), 1, 1, uintptr(shm), 0, pp, 0))
	runtime.KeepAlive(vals)
	runtime.KeepAlive(ptrs)
}

// i32 converts a size for an int kernel parameter, panicking past int32.
func i32(v int) int32 {
	if v > math.MaxInt32 {
		panic(fmt.Sprintf("cuda: size %d exceeds the kernels' int32 range", v))
	}
	return int32(v)
}

// arena is device memory handed out by bumping an offset and given back all
// at once at the end of an operation. It grows by adding blocks (earlier
// pointers stay valid); at reset, several blocks are merged into one of
// their total size, so after the first call of the largest shape every call
// fits in one block and no cuMemAlloc or cuMemFree (which synchronises)
// happens. Plain cuMemAlloc memory, never managed memory.
type arena struct {
	drv    *driverAPI
	blocks []arenaBlock
	used   int // bytes used in the last block
	total  int // bytes handed out since the last reset
}

type arenaBlock struct {
	ptr  uintptr
	size int
}

const arenaAlign = 256

func (a *arena) alloc(bytes int) uintptr {
	bytes = (bytes + arenaAlign - 1) / arenaAlign * arenaAlign
	if bytes == 0 {
		bytes = arenaAlign
	}
	a.total += bytes
	if n := len(a.blocks); n > 0 && a.used+bytes <= a.blocks[n-1].size {
		p := a.blocks[n-1].ptr + uintptr(a.used)
		a.used += bytes
		return p
	}
	size := max(bytes, 64<<20)
	if n := len(a.blocks); n > 0 {
		size = max(size, 2*a.blocks[n-1].size)
	}
	var p uintptr
	if r := call(a.drv.cuMemAlloc, uintptr(unsafe.Pointer(&p)), uintptr(size)); r != 0 {
		// Retry with exactly what is needed before giving up.
		if size == bytes || call(a.drv.cuMemAlloc, uintptr(unsafe.Pointer(&p)), uintptr(bytes)) != 0 {
			panic(fmt.Errorf("%w (allocating %d MiB of device memory)", a.drv.check("cuMemAlloc", r), bytes>>20))
		}
		size = bytes
	}
	a.blocks = append(a.blocks, arenaBlock{p, size})
	a.used = bytes
	return p
}

func (a *arena) reset() {
	if len(a.blocks) > 1 {
		total := a.total
		a.free()
		var p uintptr
		if call(a.drv.cuMemAlloc, uintptr(unsafe.Pointer(&p)), uintptr(total)) == 0 {
			a.blocks = []arenaBlock{{p, total}}
		}
	}
	a.used, a.total = 0, 0
}

func (a *arena) free() {
	for _, b := range a.blocks {
		call(a.drv.cuMemFree, b.ptr)
	}
	a.blocks, a.used, a.total = nil, 0, 0
}
