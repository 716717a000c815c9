//go:build cuda

package cuda

import (
	"fmt"
	"runtime"
	"unsafe"
)

// The CUDA driver API (libcuda.so.1, shipped with the NVIDIA driver), called
// through purego: every function returns a CUresult, 0 on success.

// Device attributes (CUdevice_attribute).
const (
	attrClockRateKHz    = 13
	attrMultiprocessors = 16
	attrCCMajor         = 75
	attrCCMinor         = 76
)

// Memory types of CUDA_MEMCPY2D.
const (
	memHost   = 1
	memDevice = 2
)

type driverAPI struct {
	lib library

	cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName,
	cuDeviceGetAttribute, cuDeviceTotalMem, cuDevicePrimaryCtxRetain,
	cuDevicePrimaryCtxRelease, cuCtxSetCurrent, cuCtxSynchronize, cuMemAlloc,
	cuMemFree, cuMemcpyHtoD, cuMemcpyDtoH, cuMemcpyDtoD, cuMemcpy2D, cuMemsetD32,
	cuModuleLoadData, cuModuleGetFunction, cuModuleUnload, cuLaunchKernel,
	cuGetErrorName, cuGetErrorString uintptr
}

func loadDriver(dirs []string) (*driverAPI, error) {
	lib, err := openLibrary("the CUDA driver library (is the NVIDIA driver installed?)", []string{"libcuda.so.1", "libcuda.so"}, dirs)
	if err != nil {
		return nil, err
	}
	d := &driverAPI{lib: lib}
	err = lib.symbols(map[string]*uintptr{
		"cuInit":                       &d.cuInit,
		"cuDriverGetVersion":           &d.cuDriverGetVersion,
		"cuDeviceGetCount":             &d.cuDeviceGetCount,
		"cuDeviceGet":                  &d.cuDeviceGet,
		"cuDeviceGetName":              &d.cuDeviceGetName,
		"cuDeviceGetAttribute":         &d.cuDeviceGetAttribute,
		"cuDeviceTotalMem_v2":          &d.cuDeviceTotalMem,
		"cuDevicePrimaryCtxRetain":     &d.cuDevicePrimaryCtxRetain,
		"cuDevicePrimaryCtxRelease_v2": &d.cuDevicePrimaryCtxRelease,
		"cuCtxSetCurrent":              &d.cuCtxSetCurrent,
		"cuCtxSynchronize":             &d.cuCtxSynchronize,
		"cuMemAlloc_v2":                &d.cuMemAlloc,
		"cuMemFree_v2":                 &d.cuMemFree,
		"cuMemcpyHtoD_v2":              &d.cuMemcpyHtoD,
		"cuMemcpyDtoH_v2":              &d.cuMemcpyDtoH,
		"cuMemcpyDtoD_v2":              &d.cuMemcpyDtoD,
		"cuMemcpy2D_v2":                &d.cuMemcpy2D,
		"cuMemsetD32_v2":               &d.cuMemsetD32,
		"cuModuleLoadData":             &d.cuModuleLoadData,
		"cuModuleGetFunction":          &d.cuModuleGetFunction,
		"cuModuleUnload":               &d.cuModuleUnload,
		"cuLaunchKernel":               &d.cuLaunchKernel,
		"cuGetErrorName":               &d.cuGetErrorName,
		"cuGetErrorString":             &d.cuGetErrorString,
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// check turns a CUresult into an error naming the call.
func (d *driverAPI) check(what string, r int) error {
	if r == 0 {
		return nil
	}
	var name, desc uintptr
	call(d.cuGetErrorName, uintptr(r), uintptr(unsafe.Pointer(&name)))
	call(d.cuGetErrorString, uintptr(r), uintptr(unsafe.Pointer(&desc)))
	return fmt.Errorf("cuda: %s: %s (%d): %s", what, gostring(name), r, gostring(desc))
}

// must panics with d.check's error: the kernels interfaces cannot return
// errors, and a failing driver call mid-operation leaves no result to give.
func (d *driverAPI) must(what string, r int) {
	if err := d.check(what, r); err != nil {
		panic(err)
	}
}

// memcpy2D is CUDA_MEMCPY2D (cuda.h), 64-bit layout.
type memcpy2D struct {
	srcXInBytes, srcY uintptr
	srcMemoryType     uint32
	_                 uint32
	srcHost           unsafe.Pointer
	srcDevice         uintptr
	srcArray          uintptr
	srcPitch          uintptr
	dstXInBytes, dstY uintptr
	dstMemoryType     uint32
	_                 uint32
	dstHost           unsafe.Pointer
	dstDevice         uintptr
	dstArray          uintptr
	dstPitch          uintptr
	widthInBytes      uintptr
	height            uintptr
}

// Compile-time check of the struct size: 16 words of 8 bytes.
var _ = [1]struct{}{}[unsafe.Sizeof(memcpy2D{})-128]

// htod copies the host floats to device pointer dst.
func (d *driverAPI) htod(dst uintptr, src []float32) {
	if len(src) == 0 {
		return
	}
	d.must("cuMemcpyHtoD", call(d.cuMemcpyHtoD, dst, uintptr(unsafe.Pointer(&src[0])), uintptr(4*len(src))))
	runtime.KeepAlive(src)
}

func (d *driverAPI) htodInt(dst uintptr, src []int32) {
	if len(src) == 0 {
		return
	}
	d.must("cuMemcpyHtoD", call(d.cuMemcpyHtoD, dst, uintptr(unsafe.Pointer(&src[0])), uintptr(4*len(src))))
	runtime.KeepAlive(src)
}

// dtoh copies len(dst) floats from device pointer src.
func (d *driverAPI) dtoh(dst []float32, src uintptr) {
	if len(dst) == 0 {
		return
	}
	d.must("cuMemcpyDtoH", call(d.cuMemcpyDtoH, uintptr(unsafe.Pointer(&dst[0])), src, uintptr(4*len(dst))))
	runtime.KeepAlive(dst)
}

// htod2D copies a rows×cols host matrix with leading dimension ld (in
// floats), starting at host[0], to a dense rows×cols device matrix: the
// gaps between rows are neither read nor copied.
func (d *driverAPI) htod2D(dst uintptr, host []float32, rows, cols, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld == cols {
		d.htod(dst, host[:rows*cols])
		return
	}
	p := &memcpy2D{
		srcMemoryType: memHost, srcHost: unsafe.Pointer(&host[0]), srcPitch: uintptr(4 * ld),
		dstMemoryType: memDevice, dstDevice: dst, dstPitch: uintptr(4 * cols),
		widthInBytes: uintptr(4 * cols), height: uintptr(rows),
	}
	d.must("cuMemcpy2D (host to device)", call(d.cuMemcpy2D, uintptr(unsafe.Pointer(p))))
	runtime.KeepAlive(p)
	runtime.KeepAlive(host)
}

// dtoh2D is the reverse of htod2D: only the rows×cols elements of host are
// written, never the gaps between its rows (they may belong to another
// goroutine's matrix).
func (d *driverAPI) dtoh2D(host []float32, src uintptr, rows, cols, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld == cols {
		d.dtoh(host[:rows*cols], src)
		return
	}
	p := &memcpy2D{
		srcMemoryType: memDevice, srcDevice: src, srcPitch: uintptr(4 * cols),
		dstMemoryType: memHost, dstHost: unsafe.Pointer(&host[0]), dstPitch: uintptr(4 * ld),
		widthInBytes: uintptr(4 * cols), height: uintptr(rows),
	}
	d.must("cuMemcpy2D (device to host)", call(d.cuMemcpy2D, uintptr(unsafe.Pointer(p))))
	runtime.KeepAlive(p)
	runtime.KeepAlive(host)
}

// memset32 sets n 32-bit words at dst to v.
func (d *driverAPI) memset32(dst uintptr, v uint32, n int) {
	if n == 0 {
		return
	}
	d.must("cuMemsetD32", call(d.cuMemsetD32, dst, uintptr(v), uintptr(n)))
}

// ptrAdd returns p+off as a pointer, for memory owned by C (strings the
// driver returns), without the uintptr-to-pointer conversion vet flags.
func ptrAdd(p, off uintptr) unsafe.Pointer {
	return unsafe.Add(*(*unsafe.Pointer)(unsafe.Pointer(&p)), off)
}
