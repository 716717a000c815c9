// The emulator's execution of kernel launches: the threads of one block are
// fibers (fiber_x86_64.S switches them) run by a round-robin scheduler on
// the launching OS thread; blocks run one after the other.
//
// A fiber runs until it reaches __syncthreads, a warp shuffle, or its end.
// After each pass over the runnable fibers the scheduler releases:
//   - a warp whose 32 lanes all wait at the same shuffle (the lanes then
//     read each other's deposited values: real exchange, not a local copy);
//   - the block's barrier once every thread waits at it.
// What CUDA leaves undefined and the kernels must not do is reported as a
// launch failure instead of being given some meaning: a __syncthreads that
// not every thread of the block reaches (some exited), a full-mask shuffle
// with an exited or diverged lane, a partial warp, a mask other than
// 0xffffffff.
#include "runtime.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cuda_emu.h"

// The kernel-visible built-ins of cuda_emu.h. Launches are serialised by
// the driver's lock, so plain globals suffice; the scheduler writes
// threadIdx before resuming each fiber.
uint3 threadIdx;
uint3 blockIdx;
dim3 blockDim;
dim3 gridDim;
extern "C" {
alignas(16) thread_local float smem[emu_max_dynamic_shared / sizeof(float)];
}

extern "C" void emu_switch(void** save_sp, void* next_sp);
extern "C" void emu_fiber_entry();

namespace {

enum State : unsigned char { RUN, AT_BARRIER, AT_SHUFFLE, DONE };

struct Fiber {
    void* sp;
    uint3 tid;
    State state;
    unsigned shfl_seq;  // shuffles done so far (parity picks the exchange buffer)
    int shfl_size;      // bytes of the pending shuffle
};

constexpr size_t kStackBytes = 64 * 1024;
constexpr size_t kGuardBytes = 4096;

std::vector<Fiber> fibers;
unsigned char* stacks;  // emu_max_block_threads stacks, each above a guard page
void* sched_sp;
int cur;
const EmuKernel* cur_kernel;
const void* cur_args;
std::string fault;  // set by a fiber that hit undefined behaviour
// Shuffle exchange buffers: [warp][parity][lane], 8 bytes a value.
alignas(16) unsigned char exchange[emu_max_block_threads / 32][2][32][8];

bool ensure_stacks(std::string& err) {
    if (stacks) return true;
    const size_t per = kStackBytes + kGuardBytes;
    void* m = mmap(nullptr, per * emu_max_block_threads, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        err = "cannot map the fiber stacks";
        return false;
    }
    auto* base = static_cast<unsigned char*>(m);
    for (unsigned i = 0; i < emu_max_block_threads; i++) mprotect(base + i * per, kGuardBytes, PROT_NONE);
    stacks = base;
    return true;
}

void yield_to_scheduler() { emu_switch(&fibers[cur].sp, sched_sp); }

[[noreturn]] void fail_in_fiber(const std::string& msg) {
    if (fault.empty()) fault = msg;
    for (;;) yield_to_scheduler();  // the scheduler never resumes a faulted launch
}

void fiber_main(void*) {
    cur_kernel->invoke(cur_args);
    fibers[cur].state = DONE;
    yield_to_scheduler();
    __builtin_trap();  // a finished fiber is never resumed
}

void init_fiber(unsigned i) {
    // Stack top, 16-byte aligned, then the frame emu_switch pops: MXCSR and
    // x87 control word, r15, r14, r13 (entry function), r12 (its argument),
    // rbx, rbp, and the return address emu_fiber_entry.
    unsigned char* top = stacks + (i + 1) * (kStackBytes + kGuardBytes);
    auto* sp = reinterpret_cast<uint64_t*>(top - 128);
    uint32_t mxcsr = __builtin_ia32_stmxcsr();
    uint16_t fcw;
    __asm__ volatile("fnstcw %0" : "=m"(fcw));
    sp[0] = mxcsr | (uint64_t)fcw << 32;
    sp[1] = 0;                                        // r15
    sp[2] = 0;                                        // r14
    sp[3] = reinterpret_cast<uint64_t>(&fiber_main);  // r13
    sp[4] = 0;                                        // r12
    sp[5] = 0;                                        // rbx
    sp[6] = 0;                                        // rbp
    sp[7] = reinterpret_cast<uint64_t>(&emu_fiber_entry);
    fibers[i].sp = sp;
}

std::string where(unsigned i) {
    const Fiber& f = fibers[i];
    char b[128];
    snprintf(b, sizeof b, "block (%u,%u,%u) thread (%u,%u,%u)", blockIdx.x, blockIdx.y, blockIdx.z, f.tid.x,
             f.tid.y, f.tid.z);
    return b;
}

// run_block runs the fibers of the current block to completion.
std::string run_block(unsigned n, bool reverse) {
    for (unsigned i = 0; i < n; i++) {
        fibers[i].state = RUN;
        fibers[i].shfl_seq = 0;
        init_fiber(i);
    }
    for (;;) {
        for (unsigned ii = 0; ii < n; ii++) {
            const unsigned i = reverse ? n - 1 - ii : ii;
            if (fibers[i].state != RUN) continue;
            cur = (int)i;
            threadIdx = fibers[i].tid;
            emu_switch(&sched_sp, fibers[i].sp);
            if (!fault.empty()) return where(i) + ": " + fault;
        }
        unsigned live = 0, at_bar = 0, at_shfl = 0;
        for (unsigned i = 0; i < n; i++) {
            live += fibers[i].state != DONE;
            at_bar += fibers[i].state == AT_BARRIER;
            at_shfl += fibers[i].state == AT_SHUFFLE;
        }
        if (live == 0) return "";
        bool released = false;
        if (at_shfl > 0) {
            for (unsigned w = 0; w * 32 < n; w++) {
                unsigned waiting = 0;
                int first = -1;
                for (unsigned l = w * 32; l < w * 32 + 32; l++) {
                    if (fibers[l].state != AT_SHUFFLE) continue;
                    waiting++;
                    if (first < 0) first = (int)l;
                    if (fibers[l].shfl_seq != fibers[first].shfl_seq || fibers[l].shfl_size != fibers[first].shfl_size)
                        return where(l) + ": lanes of one warp are at different __shfl_xor_sync calls (divergent full-mask shuffle)";
                }
                if (waiting == 0) continue;
                for (unsigned l = w * 32; l < w * 32 + 32; l++) {
                    if (fibers[l].state == DONE)
                        return where((unsigned)first) + ": __shfl_xor_sync with mask 0xffffffff while lane " +
                               std::to_string(l % 32) + " of its warp has exited";
                }
                if (waiting == 32) {
                    for (unsigned l = w * 32; l < w * 32 + 32; l++) fibers[l].state = RUN;
                    released = true;
                }
            }
        }
        if (!released && at_bar > 0 && at_bar == live) {
            if (live < n)
                return "__syncthreads reached by " + std::to_string(at_bar) + " threads of block (" +
                       std::to_string(blockIdx.x) + "," + std::to_string(blockIdx.y) + "," + std::to_string(blockIdx.z) +
                       ") while " + std::to_string(n - live) + " have exited (undefined in CUDA)";
            for (unsigned i = 0; i < n; i++) fibers[i].state = RUN;
            released = true;
        }
        if (!released)
            return "block (" + std::to_string(blockIdx.x) + "," + std::to_string(blockIdx.y) + "," +
                   std::to_string(blockIdx.z) + ") deadlocks: " + std::to_string(at_bar) + " threads wait at __syncthreads, " +
                   std::to_string(at_shfl) + " at warp shuffles whose warps cannot complete";
    }
}

}  // namespace

void __syncthreads() {
    fibers[cur].state = AT_BARRIER;
    yield_to_scheduler();
}

void emu_shfl_exchange(unsigned int mask, const void* in, void* out, int size, int laneMask) {
    if (size < 0) fail_in_fiber("__shfl_xor_sync with width " + std::to_string(laneMask) + ": only width 32 is emulated");
    if (mask != 0xffffffffu) fail_in_fiber("__shfl_xor_sync with a mask other than 0xffffffff is not emulated");
    const unsigned n = blockDim.x * blockDim.y * blockDim.z;
    if (n % 32 != 0) fail_in_fiber("full-mask __shfl_xor_sync in a block of " + std::to_string(n) + " threads, not a multiple of 32: its last warp is partial");
    Fiber& f = fibers[cur];
    const unsigned lane = (unsigned)cur & 31, warp = (unsigned)cur >> 5;
    const unsigned parity = f.shfl_seq & 1;
    std::memcpy(exchange[warp][parity][lane], in, (size_t)size);
    f.state = AT_SHUFFLE;
    f.shfl_size = size;
    yield_to_scheduler();
    // Every lane of the warp has deposited its value for this shuffle; the
    // next one uses the other buffer, and no lane can deposit into this one
    // again before all have passed the next shuffle, i.e. read this one.
    unsigned src = lane ^ (unsigned)laneMask;
    if (src >= 32) src = lane;
    std::memcpy(out, exchange[warp][parity][src], (size_t)size);
    fibers[cur].shfl_seq++;
}

std::string emu_run(const EmuKernel& k, void* args, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                    unsigned bz, size_t shm, bool reverse) {
    std::string err;
    if (!ensure_stacks(err)) return err;
    const unsigned n = bx * by * bz;
    fibers.resize(emu_max_block_threads);
    unsigned i = 0;
    for (unsigned z = 0; z < bz; z++)
        for (unsigned y = 0; y < by; y++)
            for (unsigned x = 0; x < bx; x++) fibers[i++].tid = uint3{x, y, z};
    blockDim = dim3{bx, by, bz};
    gridDim = dim3{gx, gy, gz};
    cur_kernel = &k;
    cur_args = args;
    fault.clear();
    for (unsigned z = 0; z < gz; z++)
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++) {
                blockIdx = reverse ? uint3{gx - 1 - x, gy - 1 - y, gz - 1 - z} : uint3{x, y, z};
                // Shared memory starts undefined on a GPU: fill the dynamic
                // part with NaN bits so a read before a write shows.
                if (shm > 0) std::memset(smem, 0xff, shm);
                std::string e = run_block(n, reverse);
                if (!e.empty()) return std::string("kernel ") + k.name + ": " + e;
            }
    return "";
}
