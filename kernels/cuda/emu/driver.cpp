// A CPU emulation of the CUDA driver API subset kernels/cuda loads
// (driver.go), exported as libcuda.so.1. "Device memory" is host memory
// mapped per allocation with inaccessible guard pages around it; kernels
// are the functions of kernels.cu compiled by g++ (kernel_table.cpp) and
// run by runtime.cpp. Every call runs synchronously under one lock.
//
// What the real driver checks and kernels/cuda could get wrong is checked
// here too: cuInit before use, a current context on the calling OS thread
// (contexts are per thread), device pointers and copy ranges inside live
// allocations, launch shapes within the device's limits, module and
// function handles alive, and the module image being the one this
// emulator's NVRTC made from the kernels.cu it was built from.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "emu_internal.h"
#include "runtime.h"

EMU_EMBED_KERNELS_CU()

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

enum : int {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_NOT_SUPPORTED = 801,
};

namespace {

struct ErrorText {
    int code;
    const char* name;
    const char* text;
};
const ErrorText error_texts[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {200, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {201, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {801, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
};

const char* kDeviceName = "humanllm CPU emulator (not a GPU)";

// Device attributes (CUdevice_attribute). The emulator runs every launch on
// one CPU thread: it reports one multiprocessor and a clock rate of 0, so
// that no peak FLOP/s (and so no MFU) is ever derived from it.
int attribute(int a) {
    switch (a) {
        case 1: return 1024;         // MAX_THREADS_PER_BLOCK
        case 2: return 1024;         // MAX_BLOCK_DIM_X
        case 3: return 1024;         // MAX_BLOCK_DIM_Y
        case 4: return 64;           // MAX_BLOCK_DIM_Z
        case 5: return 2147483647;   // MAX_GRID_DIM_X
        case 6: return 65535;        // MAX_GRID_DIM_Y
        case 7: return 65535;        // MAX_GRID_DIM_Z
        case 8: return 48 * 1024;    // MAX_SHARED_MEMORY_PER_BLOCK
        case 10: return 32;          // WARP_SIZE
        case 13: return 0;           // CLOCK_RATE (kHz): not a GPU
        case 16: return 1;           // MULTIPROCESSOR_COUNT
        case 75: return 9;           // COMPUTE_CAPABILITY_MAJOR
        case 76: return 0;           // COMPUTE_CAPABILITY_MINOR
        default: return 0;
    }
}

struct Alloc {
    void* map;
    size_t map_bytes;
    size_t bytes;
};

struct Module {
    uint64_t hash;
};
struct Function {
    Module* mod;
    const EmuKernel* k;
};

std::mutex mu;
bool initialised;
int primary_refs;                    // cuDevicePrimaryCtxRetain count
int ctx_token = 0x5eed;              // the primary context's handle target
thread_local void* current_ctx;      // per OS thread, as in CUDA
std::map<uintptr_t, Alloc> allocs;   // by start address
size_t allocated;
std::set<Module*> modules;
std::set<Function*> functions;
int launch_log = -1;  // HUMANLLM_CUDA_EMU_LOG=1: one stderr line per launch
bool reverse_order;   // HUMANLLM_CUDA_EMU_ORDER=reverse: blocks and threads last to first

void* primary_ctx() { return &ctx_token; }

size_t total_mem() {
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    return pages > 0 && psize > 0 ? (size_t)pages * (size_t)psize : (size_t)16 << 30;
}

CUresult need_ctx() {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (current_ctx == nullptr || current_ctx != primary_ctx() || primary_refs == 0) return CUDA_ERROR_INVALID_CONTEXT;
    return CUDA_SUCCESS;
}

// find returns the allocation holding [p, p+n), or nullptr.
const Alloc* find(uintptr_t p, size_t n) {
    auto it = allocs.upper_bound(p);
    if (it == allocs.begin()) return nullptr;
    --it;
    if (p < it->first || n > it->second.bytes || p - it->first > it->second.bytes - n) return nullptr;
    return &it->second;
}

void report(const char* what, const std::string& msg) { fprintf(stderr, "cuda-emu: %s: %s\n", what, msg.c_str()); }

CUresult check_range(const char* what, uintptr_t p, size_t n) {
    if (find(p, n) != nullptr) return CUDA_SUCCESS;
    char b[160];
    snprintf(b, sizeof b, "device range [0x%llx, +%zu bytes) is not inside one live allocation",
             (unsigned long long)p, n);
    report(what, b);
    return CUDA_ERROR_INVALID_VALUE;
}

void free_all() {
    for (auto& [p, a] : allocs) munmap(a.map, a.map_bytes);
    allocs.clear();
    allocated = 0;
    for (Function* f : functions) delete f;
    functions.clear();
    for (Module* m : modules) delete m;
    modules.clear();
}

}  // namespace

EMU_EXPORT CUresult cuGetErrorName(CUresult r, const char** s) {
    if (s == nullptr) return CUDA_ERROR_INVALID_VALUE;
    for (const auto& e : error_texts)
        if (e.code == r) {
            *s = e.name;
            return CUDA_SUCCESS;
        }
    *s = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

EMU_EXPORT CUresult cuGetErrorString(CUresult r, const char** s) {
    if (s == nullptr) return CUDA_ERROR_INVALID_VALUE;
    for (const auto& e : error_texts)
        if (e.code == r) {
            *s = e.text;
            return CUDA_SUCCESS;
        }
    *s = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

EMU_EXPORT CUresult cuInit(unsigned int flags) {
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> l(mu);
    initialised = true;
    if (launch_log < 0) {
        const char* e = getenv("HUMANLLM_CUDA_EMU_LOG");
        launch_log = e != nullptr && strcmp(e, "1") == 0;
        const char* o = getenv("HUMANLLM_CUDA_EMU_ORDER");
        reverse_order = o != nullptr && strcmp(o, "reverse") == 0;
    }
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuDriverGetVersion(int* v) {
    if (v == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *v = 12080;
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuDeviceGetCount(int* n) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (n == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *n = 1;
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuDeviceGet(CUdevice* d, int ordinal) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (d == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *d = 0;
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuDeviceGetName(char* name, int len, CUdevice d) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (name == nullptr || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, (size_t)len, "%s", kDeviceName);
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuDeviceGetAttribute(int* v, int attr, CUdevice d) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (v == nullptr || attr <= 0 || attr > 200) return CUDA_ERROR_INVALID_VALUE;
    *v = attribute(attr);
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice d) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (bytes == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *bytes = total_mem();
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuDevicePrimaryCtxRetain(void** ctx, CUdevice d) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (ctx == nullptr) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> l(mu);
    primary_refs++;
    *ctx = primary_ctx();
    return CUDA_SUCCESS;
}

// Releasing the last reference destroys the primary context with all its
// memory and modules, as the real driver does.
EMU_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
    std::lock_guard<std::mutex> l(mu);
    if (primary_refs == 0) return CUDA_ERROR_INVALID_CONTEXT;
    if (--primary_refs == 0) free_all();
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuCtxSetCurrent(void* ctx) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx != nullptr && ctx != primary_ctx()) return CUDA_ERROR_INVALID_CONTEXT;
    current_ctx = ctx;
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuCtxSynchronize() {
    std::lock_guard<std::mutex> l(mu);
    return need_ctx();  // launches and copies are synchronous
}

EMU_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
    std::lock_guard<std::mutex> l(mu);
    if (CUresult r = need_ctx()) return r;
    if (p == nullptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (bytes > total_mem() || allocated + bytes > total_mem()) return CUDA_ERROR_OUT_OF_MEMORY;
    // [guard page][data pages][guard page]; the data start is placed so
    // that the end of the size rounded to 256 bytes meets the upper guard
    // (the start stays 256-byte aligned, like cudaMalloc's).
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t rounded = (bytes + 255) / 256 * 256;
    const size_t data_pages = (rounded + page - 1) / page * page;
    const size_t map_bytes = data_pages + 2 * page;
    void* m = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return CUDA_ERROR_OUT_OF_MEMORY;
    auto* base = static_cast<unsigned char*>(m);
    mprotect(base, page, PROT_NONE);
    mprotect(base + page + data_pages, page, PROT_NONE);
    unsigned char* data = base + page + data_pages - rounded;
    // Fresh device memory holds garbage: all-ones bytes (NaN floats, -1
    // ints) make a read before a write visible.
    std::memset(data, 0xff, rounded);
    allocs[(uintptr_t)data] = Alloc{m, map_bytes, bytes};
    allocated += bytes;
    *p = (CUdeviceptr)(uintptr_t)data;
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuMemFree_v2(CUdeviceptr p) {
    std::lock_guard<std::mutex> l(mu);
    if (CUresult r = need_ctx()) return r;
    if (p == 0) return CUDA_SUCCESS;
    auto it = allocs.find((uintptr_t)p);
    if (it == allocs.end()) {
        report("cuMemFree", "pointer is not the start of a live allocation");
        return CUDA_ERROR_INVALID_VALUE;
    }
    munmap(it->second.map, it->second.map_bytes);
    allocated -= it->second.bytes;
    allocs.erase(it);
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
    std::lock_guard<std::mutex> l(mu);
    if (CUresult r = need_ctx()) return r;
    if (n == 0) return CUDA_SUCCESS;
    if (src == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (CUresult r = check_range("cuMemcpyHtoD", (uintptr_t)dst, n)) return r;
    std::memcpy((void*)(uintptr_t)dst, src, n);
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
    std::lock_guard<std::mutex> l(mu);
    if (CUresult r = need_ctx()) return r;
    if (n == 0) return CUDA_SUCCESS;
    if (dst == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (CUresult r = check_range("cuMemcpyDtoH", (uintptr_t)src, n)) return r;
    std::memcpy(dst, (const void*)(uintptr_t)src, n);
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    std::lock_guard<std::mutex> l(mu);
    if (CUresult r = need_ctx()) return r;
    if (n == 0) return CUDA_SUCCESS;
    if (CUresult r = check_range("cuMemcpyDtoD (destination)", (uintptr_t)dst, n)) return r;
    if (CUresult r = check_range("cuMemcpyDtoD (source)", (uintptr_t)src, n)) return r;
    std::memmove((void*)(uintptr_t)dst, (const void*)(uintptr_t)src, n);
    return CUDA_SUCCESS;
}

// CUDA_MEMCPY2D exactly as cuda.h declares it.
typedef enum { CU_MEMORYTYPE_HOST = 1, CU_MEMORYTYPE_DEVICE = 2, CU_MEMORYTYPE_ARRAY = 3, CU_MEMORYTYPE_UNIFIED = 4 } CUmemorytype;
typedef struct CUDA_MEMCPY2D_st {
    size_t srcXInBytes;
    size_t srcY;
    CUmemorytype srcMemoryType;
    const void* srcHost;
    CUdeviceptr srcDevice;
    void* srcArray;
    size_t srcPitch;
    size_t dstXInBytes;
    size_t dstY;
    CUmemorytype dstMemoryType;
    void* dstHost;
    CUdeviceptr dstDevice;
    void* dstArray;
    size_t dstPitch;
    size_t WidthInBytes;
    size_t Height;
} CUDA_MEMCPY2D;
static_assert(sizeof(CUDA_MEMCPY2D) == 128, "CUDA_MEMCPY2D layout");

EMU_EXPORT CUresult cuMemcpy2D_v2(const CUDA_MEMCPY2D* c) {
    std::lock_guard<std::mutex> l(mu);
    if (CUresult r = need_ctx()) return r;
    if (c == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (c->WidthInBytes == 0 || c->Height == 0) return CUDA_SUCCESS;
    auto side = [&](CUmemorytype t, const void* host, CUdeviceptr dev, size_t x, size_t y, size_t pitch,
                    const char* what, unsigned char** out) -> CUresult {
        if (t == CU_MEMORYTYPE_ARRAY || t == CU_MEMORYTYPE_UNIFIED) {
            report("cuMemcpy2D", std::string(what) + ": CUDA arrays and unified memory are not emulated");
            return CUDA_ERROR_NOT_SUPPORTED;
        }
        if (t != CU_MEMORYTYPE_HOST && t != CU_MEMORYTYPE_DEVICE) return CUDA_ERROR_INVALID_VALUE;
        if (pitch < x + c->WidthInBytes) return CUDA_ERROR_INVALID_VALUE;
        const uintptr_t base = t == CU_MEMORYTYPE_HOST ? (uintptr_t)host : (uintptr_t)dev;
        if (base == 0) return CUDA_ERROR_INVALID_VALUE;
        const uintptr_t first = base + y * pitch + x;
        if (t == CU_MEMORYTYPE_DEVICE) {
            if (CUresult r = check_range(what, first, (c->Height - 1) * pitch + c->WidthInBytes)) return r;
        }
        *out = (unsigned char*)first;
        return CUDA_SUCCESS;
    };
    unsigned char *src, *dst;
    if (CUresult r = side(c->srcMemoryType, c->srcHost, c->srcDevice, c->srcXInBytes, c->srcY, c->srcPitch,
                          "cuMemcpy2D (source)", &src))
        return r;
    if (CUresult r = side(c->dstMemoryType, c->dstHost, c->dstDevice, c->dstXInBytes, c->dstY, c->dstPitch,
                          "cuMemcpy2D (destination)", &dst))
        return r;
    for (size_t row = 0; row < c->Height; row++)
        std::memcpy(dst + row * c->dstPitch, src + row * c->srcPitch, c->WidthInBytes);
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int v, size_t n) {
    std::lock_guard<std::mutex> l(mu);
    if (CUresult r = need_ctx()) return r;
    if (n == 0) return CUDA_SUCCESS;
    if (dst % 4 != 0) return CUDA_ERROR_INVALID_VALUE;
    if (CUresult r = check_range("cuMemsetD32", (uintptr_t)dst, 4 * n)) return r;
    auto* p = (uint32_t*)(uintptr_t)dst;
    for (size_t i = 0; i < n; i++) p[i] = v;
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuModuleLoadData(Module** mod, const void* image) {
    std::lock_guard<std::mutex> l(mu);
    if (CUresult r = need_ctx()) return r;
    if (mod == nullptr || image == nullptr) return CUDA_ERROR_INVALID_VALUE;
    const char* s = static_cast<const char*>(image);
    const size_t magic = strlen(EMU_IMAGE_MAGIC);
    if (strncmp(s, EMU_IMAGE_MAGIC, magic) != 0) {
        report("cuModuleLoadData", "not an image of this emulator's NVRTC (real PTX or CUBIN cannot run here)");
        return CUDA_ERROR_INVALID_IMAGE;
    }
    const uint64_t mine = emu_fnv1a64(emu_kernels_cu, (size_t)(emu_kernels_cu_end - emu_kernels_cu));
    const std::string want = emu_image(mine, "");
    const size_t upto = want.find(" target=");
    if (strncmp(s, want.c_str(), upto) != 0) {
        report("cuModuleLoadData", "the image was compiled from another kernels.cu than this libcuda.so.1 was built from; rebuild the emulator (make cuda-emu)");
        return CUDA_ERROR_INVALID_IMAGE;
    }
    auto* m = new Module{mine};
    modules.insert(m);
    *mod = m;
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuModuleGetFunction(Function** f, Module* mod, const char* name) {
    std::lock_guard<std::mutex> l(mu);
    if (CUresult r = need_ctx()) return r;
    if (f == nullptr || name == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (modules.count(mod) == 0) return CUDA_ERROR_INVALID_HANDLE;
    for (int i = 0; i < emu_nkernels; i++)
        if (strcmp(emu_kernels[i].name, name) == 0) {
            auto* fn = new Function{mod, &emu_kernels[i]};
            functions.insert(fn);
            *f = fn;
            return CUDA_SUCCESS;
        }
    return CUDA_ERROR_NOT_FOUND;
}

EMU_EXPORT CUresult cuModuleUnload(Module* mod) {
    std::lock_guard<std::mutex> l(mu);
    if (CUresult r = need_ctx()) return r;
    if (modules.erase(mod) == 0) return CUDA_ERROR_INVALID_HANDLE;
    for (auto it = functions.begin(); it != functions.end();) {
        if ((*it)->mod == mod) {
            delete *it;
            it = functions.erase(it);
        } else {
            ++it;
        }
    }
    delete mod;
    return CUDA_SUCCESS;
}

EMU_EXPORT CUresult cuLaunchKernel(Function* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                                   unsigned bz, unsigned shm, void* stream, void** params, void** extra) {
    std::lock_guard<std::mutex> l(mu);
    if (CUresult r = need_ctx()) return r;
    if (functions.count(f) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (stream != nullptr) {
        report("cuLaunchKernel", "streams are not emulated (only the default stream, 0)");
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (extra != nullptr) {
        report("cuLaunchKernel", "the extra argument is not emulated; pass kernelParams");
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0 || gy > 65535 || gz > 65535 || bx > 1024 ||
        by > 1024 || bz > 64)
        return CUDA_ERROR_INVALID_VALUE;
    if ((unsigned long long)bx * by * bz > emu_max_block_threads) return CUDA_ERROR_INVALID_VALUE;
    if (shm > emu_max_dynamic_shared) return CUDA_ERROR_INVALID_VALUE;
    const EmuKernel& k = *f->k;
    if (k.nparams > 0 && params == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (launch_log > 0)
        fprintf(stderr, "cuda-emu: launch %s grid (%u,%u,%u) block (%u,%u,%u) shared %u\n", k.name, gx, gy, gz, bx,
                by, bz, shm);
    void* args = k.unpack(params);
    std::string err = emu_run(k, args, gx, gy, gz, bx, by, bz, shm, reverse_order);
    k.destroy(args);
    if (!err.empty()) {
        report("cuLaunchKernel", err);
        return CUDA_ERROR_LAUNCH_FAILED;
    }
    return CUDA_SUCCESS;
}

EMU_EXPORT int humanllm_emu_check_range(const void* p, size_t bytes, const char** why) {
    std::lock_guard<std::mutex> l(mu);
    if (CUresult r = need_ctx()) {
        *why = "no current context on the calling thread";
        return r;
    }
    if (bytes == 0 || find((uintptr_t)p, bytes) != nullptr) return CUDA_SUCCESS;
    *why = "operand range is not inside one live device allocation";
    return CUDA_ERROR_INVALID_VALUE;
}
