//go:build cuda

package cuda

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ebitengine/purego"
	"github.com/humanllm/humanllm/kernels/kernelstest"
)

// The conformance suite needs a GPU: without one it is skipped with the
// reason, unless HUMANLLM_REQUIRE_GPU=1, where it fails. The tests below
// it need no GPU: they load the real NVRTC and driver library (make
// cuda-libs puts them in .cache/cuda; HUMANLLM_REQUIRE_NVRTC=1 makes their
// absence a failure, as make test-cuda-compile does).

var (
	gpuOnce sync.Once
	gpu     *Implementation
	gpuErr  error
)

func openGPU(t *testing.T) *Implementation {
	t.Helper()
	gpuOnce.Do(func() {
		gpu, gpuErr = Open(Options{})
		if gpuErr == nil {
			gpuErr = gpu.Compile()
		}
	})
	if gpuErr != nil {
		if os.Getenv("HUMANLLM_REQUIRE_GPU") == "1" {
			t.Fatalf("HUMANLLM_REQUIRE_GPU=1 but the CUDA backend cannot run: %v", gpuErr)
		}
		t.Skipf("no usable CUDA GPU, conformance suite not run (set HUMANLLM_REQUIRE_GPU=1 to fail instead): %v", gpuErr)
	}
	return gpu
}

func TestSgemm(t *testing.T) {
	impl := openGPU(t)
	t.Logf("%s, driver %d, cuBLAS %d, NVRTC %s, %v", impl.Name(), impl.Info().DriverVersion, impl.Info().CUBLASVersion, impl.Info().NVRTCVersion, impl.Info().Libraries)
	kernelstest.TestSgemm(t, impl)
}

func TestSgemmStridedBatched(t *testing.T) { kernelstest.TestSgemmStridedBatched(t, openGPU(t)) }

func TestFused(t *testing.T) { kernelstest.TestFused(t, openGPU(t)) }

func TestFusedDeterminism(t *testing.T) { kernelstest.TestFusedDeterminism(t, openGPU(t)) }

func BenchmarkSgemm(b *testing.B) {
	impl, err := Open(Options{})
	if err != nil {
		b.Skip(err)
	}
	defer impl.Close()
	kernelstest.BenchmarkSgemm(b, impl)
}

func BenchmarkFused(b *testing.B) {
	impl, err := Open(Options{})
	if err != nil {
		b.Skip(err)
	}
	defer impl.Close()
	kernelstest.BenchmarkFused(b, impl)
}

// requireLib loads a library the no-GPU tests need, skipping (or failing
// under HUMANLLM_REQUIRE_NVRTC=1) when it is absent.
func requireLib(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("HUMANLLM_REQUIRE_NVRTC") == "1" {
		t.Fatalf("HUMANLLM_REQUIRE_NVRTC=1: %v (make cuda-libs fetches it)", err)
	}
	t.Skipf("%v (make cuda-libs fetches NVRTC and libcuda; make test-cuda-compile runs this test with them)", err)
}

// kernelNames are the extern "C" kernels of kernels.cu.
func kernelNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, m := range regexp.MustCompile(`extern "C" __global__ void (\w+)\(`).FindAllStringSubmatch(kernelSource, -1) {
		names = append(names, m[1])
	}
	if len(names) < 20 {
		t.Fatalf("found only %d kernels in kernels.cu", len(names))
	}
	return names
}

// TestNVRTCCompile compiles kernels.cu with the real NVRTC, to PTX for the
// oldest and newest architectures it supports and for sm_80, and to a
// CUBIN for the newest, and requires no error and no warning, every kernel
// as an entry of the PTX, and every kernel the Go side launches to exist
// with the parameter types it passes (launchSites, from the Go source).
func TestNVRTCCompile(t *testing.T) {
	rtc, err := loadNVRTC(libDirs(nil))
	requireLib(t, err)
	maj, minr := rtc.Version()
	archs, err := rtc.SupportedArchs()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("NVRTC %d.%d from %s, architectures %v", maj, minr, rtc.lib.path, archs)
	targets := []int{archs[0], archs[len(archs)-1]}
	if a, _, err := pickArch(80, archs); err == nil && a != targets[0] && a != targets[1] {
		targets = append(targets, a)
	}
	names := kernelNames(t)
	var ptx string
	for _, a := range targets {
		img, log, err := rtc.Compile(kernelSource, "kernels.cu", a, false)
		if err != nil {
			t.Fatalf("compute_%d: %v", a, err)
		}
		if log != "" {
			t.Errorf("compute_%d: compiler log not empty:\n%s", a, log)
		}
		ptx = strings.TrimRight(string(img), "\x00")
		for _, n := range names {
			if !strings.Contains(ptx, ".entry "+n+"(") {
				t.Errorf("compute_%d: PTX has no entry %s", a, n)
			}
		}
		t.Logf("compute_%d: %d bytes of PTX, %d kernels", a, len(img), len(names))
	}
	newest := archs[len(archs)-1]
	cubin, _, err := rtc.Compile(kernelSource, "kernels.cu", newest, true)
	if err != nil {
		t.Fatalf("sm_%d CUBIN: %v", newest, err)
	}
	if len(cubin) < 4 || string(cubin[1:4]) != "ELF" {
		t.Errorf("sm_%d CUBIN is not an ELF image (%d bytes)", newest, len(cubin))
	}
	checkLaunchABI(t, ptx)
}

// A source that does not compile must fail with the compiler's log in the
// error.
func TestNVRTCCompileError(t *testing.T) {
	rtc, err := loadNVRTC(libDirs(nil))
	requireLib(t, err)
	archs, err := rtc.SupportedArchs()
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = rtc.Compile(`extern "C" __global__ void f(float* x) { x[0] = undeclared; }`, "bad.cu", archs[len(archs)-1], false)
	if err == nil || !strings.Contains(err.Error(), "undeclared") || !strings.Contains(err.Error(), "NVRTC_ERROR_COMPILATION") {
		t.Fatalf("want a compilation error quoting the log, got %v", err)
	}
}

// TestOpenDriverWithoutGPU opens the real driver library on a machine
// without an NVIDIA GPU (kernel module): Open must fail in cuInit with the
// driver's own error name.
func TestOpenDriverWithoutGPU(t *testing.T) {
	drv, err := loadDriver(libDirs(nil))
	requireLib(t, err)
	if r := call(drv.cuInit, 0); r == 0 {
		t.Skipf("%s initialised: a GPU is present; TestSgemm and TestFused run on it", drv.lib.path)
	}
	_, err = Open(Options{})
	if err == nil {
		t.Fatal("Open succeeded without a GPU")
	}
	t.Logf("Open: %v", err)
	for _, want := range []string{"cuInit", "CUDA_ERROR_", drv.lib.path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestOpenMissingDriver: without libcuda anywhere, Open names the library
// and the loader's message. It runs in a child process, whose loader has
// not seen the libcuda other tests may have loaded.
func TestOpenMissingDriver(t *testing.T) {
	if os.Getenv("HUMANLLM_CUDA_CHILD") == "1" {
		if h, err := purego.Dlopen("libcuda.so.1", purego.RTLD_NOW); err == nil {
			purego.Dlclose(h)
			t.Skip("this machine has libcuda.so.1 on the loader's path")
		}
		_, err := Open(Options{LibDirs: []string{t.TempDir()}})
		if err == nil {
			t.Fatal("Open succeeded without libcuda")
		}
		t.Logf("Open: %v", err)
		for _, want := range []string{"cannot load the CUDA driver library", "libcuda.so.1", "NVIDIA driver"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenMissingDriver$", "-test.v")
	cmd.Env = append(os.Environ(), "HUMANLLM_CUDA_CHILD=1", "HUMANLLM_CUDA_LIBS=")
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skip("this machine has libcuda.so.1 on the loader's path")
	}
}

// A library in a LibDirs directory is loaded from there, and one that lacks
// a symbol is reported with the missing names.
func TestLibraryLookup(t *testing.T) {
	dir := t.TempDir()
	libc, err := filepath.Glob("/lib/x86_64-linux-gnu/libm.so.6")
	if err != nil || len(libc) == 0 {
		t.Skip("no /lib/x86_64-linux-gnu/libm.so.6")
	}
	data, err := os.ReadFile(libc[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "libfake.so.7"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := openLibrary("fake", []string{"libfake.so.9", "libfake.so.7"}, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if l.path != filepath.Join(dir, "libfake.so.7") {
		t.Errorf("loaded %s", l.path)
	}
	var cos, nope uintptr
	err = l.symbols(map[string]*uintptr{"cos": &cos, "cuNope": &nope})
	if err == nil || !strings.Contains(err.Error(), "cuNope") || strings.Contains(err.Error(), "cos,") || cos == 0 {
		t.Errorf("symbols: cos=%#x err=%v", cos, err)
	}
	_, err = openLibrary("the thing", []string{"libdoesnotexist.so.1"}, []string{dir})
	if err == nil || !strings.Contains(err.Error(), "cannot load the thing") || !strings.Contains(err.Error(), "libdoesnotexist.so.1") {
		t.Errorf("missing library: %v", err)
	}
}

func TestPickArch(t *testing.T) {
	sup := []int{35, 50, 60, 70, 75, 80, 86, 89, 90}
	for _, c := range []struct {
		cc, arch int
		cubin    bool
		err      bool
	}{
		{90, 90, true, false}, {80, 80, true, false}, {87, 86, false, false},
		{100, 90, false, false}, {120, 90, false, false}, {30, 0, false, true},
	} {
		a, cb, err := pickArch(c.cc, sup)
		if (err != nil) != c.err || a != c.arch || cb != c.cubin {
			t.Errorf("pickArch(%d) = %d, %v, %v", c.cc, a, cb, err)
		}
	}
}
