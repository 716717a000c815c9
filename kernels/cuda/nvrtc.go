//go:build cuda

package cuda

import (
	_ "embed"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"unsafe"

	"github.com/ebitengine/purego"
)

// kernelSource is the CUDA C of every fused op, compiled by NVRTC.
//
//go:embed kernels.cu
var kernelSource string

// nvrtcAPI is NVIDIA's run-time CUDA C compiler (libnvrtc.so), through
// purego. Functions return an nvrtcResult, 0 on success.
type nvrtcAPI struct {
	lib library

	nvrtcVersion, nvrtcCreateProgram, nvrtcCompileProgram, nvrtcDestroyProgram,
	nvrtcGetProgramLogSize, nvrtcGetProgramLog, nvrtcGetPTXSize, nvrtcGetPTX,
	nvrtcGetCUBINSize, nvrtcGetCUBIN, nvrtcGetErrorString,
	nvrtcGetNumSupportedArchs, nvrtcGetSupportedArchs uintptr
}

// nvrtcNames are the sonames tried, newest first: CUDA 13 and 12 name the
// library by major version, CUDA 11.2 to 11.8 all ship libnvrtc.so.11.2.
var nvrtcNames = []string{"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"}

func loadNVRTC(dirs []string) (*nvrtcAPI, error) {
	lib, err := openLibrary("NVRTC, the CUDA run-time compiler (libnvrtc, in the CUDA toolkit or the pip wheel nvidia-cuda-nvrtc-cu12)", nvrtcNames, dirs)
	if err != nil {
		return nil, err
	}
	// NVRTC dlopens its builtins library by soname when it compiles; when
	// it was found outside the loader's path, load the builtins beside it
	// first so that lookup finds them.
	if dir := filepath.Dir(lib.path); lib.path != filepath.Base(lib.path) {
		if m, _ := filepath.Glob(filepath.Join(dir, "libnvrtc-builtins.so.*")); len(m) > 0 {
			slices.Sort(m)
			_, _ = openLibrary("NVRTC builtins", m[:1], nil)
		}
	}
	n := &nvrtcAPI{lib: lib}
	err = lib.symbols(map[string]*uintptr{
		"nvrtcVersion":              &n.nvrtcVersion,
		"nvrtcCreateProgram":        &n.nvrtcCreateProgram,
		"nvrtcCompileProgram":       &n.nvrtcCompileProgram,
		"nvrtcDestroyProgram":       &n.nvrtcDestroyProgram,
		"nvrtcGetProgramLogSize":    &n.nvrtcGetProgramLogSize,
		"nvrtcGetProgramLog":        &n.nvrtcGetProgramLog,
		"nvrtcGetPTXSize":           &n.nvrtcGetPTXSize,
		"nvrtcGetPTX":               &n.nvrtcGetPTX,
		"nvrtcGetCUBINSize":         &n.nvrtcGetCUBINSize,
		"nvrtcGetCUBIN":             &n.nvrtcGetCUBIN,
		"nvrtcGetErrorString":       &n.nvrtcGetErrorString,
		"nvrtcGetNumSupportedArchs": &n.nvrtcGetNumSupportedArchs,
		"nvrtcGetSupportedArchs":    &n.nvrtcGetSupportedArchs,
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

func (n *nvrtcAPI) check(what string, r int) error {
	if r == 0 {
		return nil
	}
	s, _, _ := purego.SyscallN(n.nvrtcGetErrorString, uintptr(r))
	return fmt.Errorf("cuda: %s: %s (%d)", what, gostring(s), r)
}

// Version is NVRTC's major and minor version.
func (n *nvrtcAPI) Version() (major, minor int) {
	var a, b int32
	call(n.nvrtcVersion, uintptr(unsafe.Pointer(&a)), uintptr(unsafe.Pointer(&b)))
	return int(a), int(b)
}

// SupportedArchs lists the compute capabilities (e.g. 80 for sm_80) this
// NVRTC compiles for, ascending.
func (n *nvrtcAPI) SupportedArchs() ([]int, error) {
	var cnt int32
	if err := n.check("nvrtcGetNumSupportedArchs", call(n.nvrtcGetNumSupportedArchs, uintptr(unsafe.Pointer(&cnt)))); err != nil {
		return nil, err
	}
	if cnt <= 0 {
		return nil, fmt.Errorf("cuda: NVRTC supports no architecture")
	}
	a := make([]int32, cnt)
	if err := n.check("nvrtcGetSupportedArchs", call(n.nvrtcGetSupportedArchs, uintptr(unsafe.Pointer(&a[0])))); err != nil {
		return nil, err
	}
	out := make([]int, len(a))
	for i, v := range a {
		out[i] = int(v)
	}
	slices.Sort(out)
	return out, nil
}

// Compile compiles src for compute capability arch (e.g. 90): to a CUBIN
// for sm_<arch> when cubin is set, else to PTX for compute_<arch> (which the
// driver compiles for the device it runs on). It returns the image and the
// compiler's log (warnings); a failed compilation's error holds the log.
func (n *nvrtcAPI) Compile(src, name string, arch int, cubin bool) (image []byte, log string, err error) {
	var prog uintptr
	csrc, cname := cstring(src), cstring(name)
	if err := n.check("nvrtcCreateProgram", call(n.nvrtcCreateProgram, uintptr(unsafe.Pointer(&prog)),
		uintptr(unsafe.Pointer(csrc)), uintptr(unsafe.Pointer(cname)), 0, 0, 0)); err != nil {
		return nil, "", err
	}
	runtime.KeepAlive(csrc)
	runtime.KeepAlive(cname)
	defer call(n.nvrtcDestroyProgram, uintptr(unsafe.Pointer(&prog)))

	target := fmt.Sprintf("--gpu-architecture=compute_%d", arch)
	if cubin {
		target = fmt.Sprintf("--gpu-architecture=sm_%d", arch)
	}
	// IEEE division and square root, no flush-to-zero (NVRTC's defaults,
	// spelled out): the conformance tolerances assume correctly rounded
	// fp32 operations.
	opts := []string{target, "--std=c++14", "--ftz=false", "--prec-div=true", "--prec-sqrt=true", "--fmad=true"}
	copts := make([]*byte, len(opts))
	for i, o := range opts {
		copts[i] = cstring(o)
	}
	r := call(n.nvrtcCompileProgram, prog, uintptr(len(copts)), uintptr(unsafe.Pointer(&copts[0])))
	runtime.KeepAlive(copts)
	log = n.log(prog)
	if err := n.check("nvrtcCompileProgram "+name+" ("+strings.Join(opts, " ")+")", r); err != nil {
		return nil, log, fmt.Errorf("%w\n%s", err, log)
	}
	sizeFn, getFn, what := n.nvrtcGetPTXSize, n.nvrtcGetPTX, "PTX"
	if cubin {
		sizeFn, getFn, what = n.nvrtcGetCUBINSize, n.nvrtcGetCUBIN, "CUBIN"
	}
	var size uintptr
	if err := n.check("nvrtcGet"+what+"Size", call(sizeFn, prog, uintptr(unsafe.Pointer(&size)))); err != nil {
		return nil, log, err
	}
	image = make([]byte, size)
	if size > 0 {
		if err := n.check("nvrtcGet"+what, call(getFn, prog, uintptr(unsafe.Pointer(&image[0])))); err != nil {
			return nil, log, err
		}
	}
	return image, log, nil
}

func (n *nvrtcAPI) log(prog uintptr) string {
	var size uintptr
	if call(n.nvrtcGetProgramLogSize, prog, uintptr(unsafe.Pointer(&size))) != 0 || size <= 1 {
		return ""
	}
	b := make([]byte, size)
	call(n.nvrtcGetProgramLog, prog, uintptr(unsafe.Pointer(&b[0])))
	return strings.TrimRight(string(b), "\x00\n")
}

// pickArch chooses what to compile for a device of compute capability cc
// given NVRTC's supported list: a CUBIN for sm_cc when NVRTC knows cc, else
// PTX for the newest supported architecture below cc (the driver JIT-compiles
// it for the device). It fails when NVRTC supports nothing at or below cc.
func pickArch(cc int, supported []int) (arch int, cubin bool, err error) {
	if slices.Contains(supported, cc) {
		return cc, true, nil
	}
	best := -1
	for _, a := range supported {
		if a <= cc {
			best = a
		}
	}
	if best < 0 {
		return 0, false, fmt.Errorf("cuda: this NVRTC compiles for compute capabilities %v, none at or below the device's %d.%d", supported, cc/10, cc%10)
	}
	return best, false, nil
}
