// Self-test of the emulator's execution model (runtime.cpp), run by make
// test-cuda-emu: kernels written for it, compiled like kernels.cu (with
// cuda_emu.h forced in front), check that warp shuffles really exchange
// values between lanes, that __syncthreads orders the threads of a block,
// that __shared__ is per block and dynamic shared memory starts as garbage,
// that kernel parameters of every type arrive, and that undefined
// behaviour (a barrier or a full-mask shuffle after some threads exited, a
// divergent warp, a partial warp) fails the launch instead of passing
// silently.
#include "cuda_emu.h"  // kernels.cu gets it with -include; this file is ours

#include <cmath>
#include <cstdio>
#include <type_traits>
#include <string>
#include <vector>

#include "kernel_of.h"

#define FULL 0xffffffffu

extern "C" __global__ void t_warp_sum(int* out) {
    int v = (int)threadIdx.x;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL, v, o);
    out[blockIdx.x * blockDim.x + threadIdx.x] = v;
}

extern "C" __global__ void t_xor5(double* out) {
    const double mine = 10.0 * threadIdx.x + 0.5;
    out[threadIdx.x] = __shfl_xor_sync(FULL, mine, 5);
}

extern "C" __global__ void t_shared(int* out) {
    __shared__ int s[256];
    s[threadIdx.x] = (int)(threadIdx.x + 1000 * blockIdx.x);
    __syncthreads();
    out[blockIdx.x * blockDim.x + threadIdx.x] = s[blockDim.x - 1 - threadIdx.x];
}

extern "C" __global__ void t_dynamic_shared(float* out) {
    extern __shared__ float smem[];
    if (threadIdx.x == 0) out[blockIdx.x] = smem[0];  // before any write: undefined, poisoned
    __syncthreads();
    smem[threadIdx.x] = 1.0f;
}

extern "C" __global__ void t_params(double* out, int a, long long b, float c, double d, const int* p) {
    if (threadIdx.x == 0 && blockIdx.x == 0 && blockIdx.y == 1) out[0] = a + (double)b + c + d + p[0];
}

// A race: thread i reads what thread i-1 writes, with no barrier between.
// Run in thread order it "works"; the reverse order exposes it.
extern "C" __global__ void t_racy(int* out) {
    __shared__ int s[64];
    s[threadIdx.x] = (int)threadIdx.x;
    out[threadIdx.x] = threadIdx.x > 0 ? s[threadIdx.x - 1] : -1;
}

extern "C" __global__ void t_block_order(int* out) {
    if (threadIdx.x == 0) out[blockIdx.x] = out[0]++;
}

extern "C" __global__ void t_barrier_after_exit() {
    if (threadIdx.x == 0) return;
    __syncthreads();
}

extern "C" __global__ void t_shuffle_after_exit(int* out) {
    if (threadIdx.x == 3) return;
    out[threadIdx.x] = __shfl_xor_sync(FULL, 1, 1);
}

extern "C" __global__ void t_divergent(int* out) {
    if (threadIdx.x < 16) {
        __syncthreads();
    } else {
        out[threadIdx.x] = __shfl_xor_sync(FULL, 1, 1);
    }
}

namespace {

int failures;

void check(bool ok, const std::string& what) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    failures += !ok;
}

template <auto F>
std::string launch(std::vector<void*> params, unsigned gx, unsigned gy, unsigned bx, size_t shm = 0, bool reverse = false) {
    using K = KernelOf<F, std::remove_pointer_t<decltype(F)>>;
    const EmuKernel k{"selftest", K::nparams, K::unpack, K::invoke, K::destroy};
    void* args = k.unpack(params.data());
    std::string err = emu_run(k, args, gx, gy, 1, bx, 1, 1, shm, reverse);
    k.destroy(args);
    return err;
}

}  // namespace

int main() {
    {
        std::vector<int> out(2 * 128, -1);
        int* p = out.data();
        std::string e = launch<t_warp_sum>({&p}, 2, 1, 128);
        bool ok = e.empty();
        for (int i = 0; i < 256 && ok; i++) {
            const int lane0 = (i % 128) / 32 * 32;
            ok = out[i] == 32 * lane0 + 31 * 32 / 2;
        }
        check(ok, "butterfly warp sum: every lane gets its warp's sum " + e);
    }
    {
        std::vector<double> out(64, -1);
        double* p = out.data();
        std::string e = launch<t_xor5>({&p}, 1, 1, 64);
        bool ok = e.empty();
        for (int i = 0; i < 64 && ok; i++) ok = out[i] == 10.0 * (i ^ 5) + 0.5;
        check(ok, "__shfl_xor_sync(double) returns lane i^5's value " + e);
    }
    {
        std::vector<float> out(2, 0);
        float* p = out.data();
        std::string e = launch<t_dynamic_shared>({&p}, 2, 1, 64, 256);
        check(e.empty() && std::isnan(out[0]) && std::isnan(out[1]),
              "dynamic shared memory starts as NaN garbage in every block " + e);
    }
    {
        double out = 0;
        double* po = &out;
        int a = -7, pv = 100;
        long long b = 1LL << 40;
        float c = 0.25f;
        double d = 1e-3;
        const int* pp = &pv;
        std::string e = launch<t_params>({&po, &a, &b, &c, &d, &pp}, 2, 2, 32);
        check(e.empty() && out == -7 + (double)(1LL << 40) + 0.25 + 1e-3 + 100,
              "int, long long, float, double and pointer parameters arrive, blockIdx.y runs " + e);
    }
    for (bool rev : {false, true}) {
        std::vector<int> out(3 * 256, -1);
        int* p = out.data();
        std::string e = launch<t_shared>({&p}, 3, 1, 256, 0, rev);
        bool ok = e.empty();
        for (int b = 0; b < 3 && ok; b++)
            for (int i = 0; i < 256 && ok; i++) ok = out[b * 256 + i] == 255 - i + 1000 * b;
        check(ok, std::string("__syncthreads orders writes before reads, __shared__ holds each block's values (") +
                      (rev ? "reverse" : "forward") + " order) " + e);
    }
    {
        std::vector<int> fwd(64), rev(64);
        int *pf = fwd.data(), *pr = rev.data();
        std::string e = launch<t_racy>({&pf}, 1, 1, 64) + launch<t_racy>({&pr}, 1, 1, 64, 0, true);
        check(e.empty() && fwd[5] == 4 && rev[5] != 4, "the reverse order exposes an intra-block race " + e);
    }
    {
        std::vector<int> out(4, 0);
        int* p = out.data();
        std::string e = launch<t_block_order>({&p}, 4, 1, 32, 0, true);
        check(e.empty() && out[3] == 0 && out[2] == 1, "the reverse order runs the last block first " + e);
    }
    {
        std::string e = launch<t_barrier_after_exit>({}, 1, 1, 64);
        check(e.find("__syncthreads reached by 63 threads") != std::string::npos,
              "a barrier after a thread exited fails: " + e);
    }
    {
        std::vector<int> out(32);
        int* p = out.data();
        std::string e = launch<t_shuffle_after_exit>({&p}, 1, 1, 32);
        check(e.find("lane 3 of its warp has exited") != std::string::npos, "a shuffle with an exited lane fails: " + e);
    }
    {
        std::vector<int> out(32);
        int* p = out.data();
        std::string e = launch<t_divergent>({&p}, 1, 1, 32);
        check(e.find("deadlocks") != std::string::npos, "a warp split between a barrier and a shuffle fails: " + e);
    }
    {
        std::vector<int> out(32);
        int* p = out.data();
        std::string e = launch<t_warp_sum>({&p}, 1, 1, 40);
        check(e.find("partial") != std::string::npos, "a full-mask shuffle in a partial warp fails: " + e);
    }
    if (failures) {
        printf("cuda-emu selftest: %d FAILED\n", failures);
        return 1;
    }
    printf("cuda-emu selftest: all passed\n");
    return 0;
}
