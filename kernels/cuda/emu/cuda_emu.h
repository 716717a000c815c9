// cuda_emu.h: the subset of the CUDA C kernel language that kernels.cu uses,
// for compiling it UNCHANGED with g++ (g++ -include cuda_emu.h) into the CPU
// emulator's libcuda.so.1. See README.md.
//
// Execution model (runtime.cpp): a launch runs its blocks one after the
// other on the calling OS thread; the threads of a block are user-space
// fibers that run until they reach __syncthreads or a warp shuffle and are
// switched there. threadIdx/blockIdx/blockDim/gridDim are globals that the
// scheduler sets before resuming a fiber (launches are serialised by one
// mutex), so every fiber sees its own. __shared__ is thread_local: a
// block-scope thread_local is static, i.e. one instance per OS thread,
// shared by all fibers of the running block, which is what CUDA's block
// shared memory is since one block runs at a time.
#ifndef HUMANLLM_CUDA_EMU_H
#define HUMANLLM_CUDA_EMU_H

#include <cmath>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __shared__ thread_local
// __restrict__ is a g++ keyword already.

struct uint3 {
    unsigned int x, y, z;
};
struct dim3 {
    unsigned int x, y, z;
};

// Set by the scheduler for the running fiber (runtime.cpp).
extern uint3 threadIdx;
extern uint3 blockIdx;
extern dim3 blockDim;
extern dim3 gridDim;
constexpr int warpSize = 32;

// The dynamic shared memory of the running block: kernels.cu declares it as
// `extern __shared__ float smem[]`, i.e. `extern thread_local float smem[]`,
// which names this array (defined in runtime.cpp, capacity
// emu_max_dynamic_shared bytes, the CUDA default limit of 48 KiB).
extern "C" thread_local float smem[];

// Block and warp synchronisation (runtime.cpp): real fiber switches.
void __syncthreads();
void emu_shfl_exchange(unsigned int mask, const void* in, void* out, int size, int laneMask);

template <typename T>
static inline T __shfl_xor_sync(unsigned int mask, T v, int laneMask, int width = 32) {
    static_assert(sizeof(T) <= 8, "shuffle of a type wider than 8 bytes");
    if (width != 32) emu_shfl_exchange(0, nullptr, nullptr, -1, width);  // reports: unsupported width
    T out;
    emu_shfl_exchange(mask, &v, &out, (int)sizeof(T), laneMask);
    return out;
}

// Atomics: fibers are never preempted, so a plain read-modify-write is
// atomic with respect to the other threads of the block (and blocks run one
// at a time).
static inline int atomicMin(int* p, int v) {
    const int old = *p;
    if (v < old) *p = v;
    return old;
}
static inline int atomicMax(int* p, int v) {
    const int old = *p;
    if (v > old) *p = v;
    return old;
}
static inline int atomicAdd(int* p, int v) {
    const int old = *p;
    *p = old + v;
    return old;
}

// Device min/max overloads (CUDA's math API has them for the integer types).
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
static inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }

// Bit casts.
static inline unsigned int __float_as_uint(float f) {
    unsigned int u;
    std::memcpy(&u, &f, 4);
    return u;
}
static inline float __uint_as_float(unsigned int u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
static inline int __float_as_int(float f) {
    int i;
    std::memcpy(&i, &f, 4);
    return i;
}
static inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, 4);
    return f;
}

// Correctly rounded fp32 add and multiply that the compiler may not fuse
// into an FMA (the kernels are built with -ffp-contract=fast, as NVRTC's
// --fmad=true contracts a*b+c): the empty asms hide the operands and the result from the
// optimiser, as the _rn intrinsics are opaque to nvcc's contraction.
static inline float __fadd_rn(float a, float b) {
    __asm__("" : "+x"(a), "+x"(b));
    float r = a + b;
    __asm__("" : "+x"(r));
    return r;
}
static inline float __fmul_rn(float a, float b) {
    __asm__("" : "+x"(a), "+x"(b));
    float r = a * b;
    __asm__("" : "+x"(r));
    return r;
}

#endif
