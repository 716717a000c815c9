// The emulator's launch machinery (runtime.cpp) and kernel table
// (kernel_table.cpp), used by driver.cpp.
#ifndef HUMANLLM_CUDA_EMU_RUNTIME_H
#define HUMANLLM_CUDA_EMU_RUNTIME_H

#include <cstddef>
#include <string>

// One kernel of kernels.cu: unpack copies the launch's kernelParams (one
// pointer per parameter, to a value of the parameter's type, as
// cuLaunchKernel takes them) into a tuple; invoke calls the kernel with it.
struct EmuKernel {
    const char* name;
    int nparams;
    void* (*unpack)(void* const* params);
    void (*invoke)(const void* args);
    void (*destroy)(void* args);
};

// kernel_table.cpp: every __global__ function of kernels.cu.
extern const EmuKernel emu_kernels[];
extern const int emu_nkernels;

// The largest dynamic shared memory a launch may ask for: CUDA's default
// 48 KiB per block (more needs cuFuncSetAttribute, which kernels/cuda never
// calls and the emulator does not offer).
constexpr size_t emu_max_dynamic_shared = 48 * 1024;
constexpr unsigned emu_max_block_threads = 1024;

// emu_run executes one launch synchronously on the calling thread, block
// after block, the threads of a block as fibers. It returns "" on success,
// else what went wrong (a divergent barrier, a shuffle with exited lanes,
// ...). The caller holds the driver's lock.
// With reverse set, blocks run last to first and each scheduler pass
// resumes the threads from the last to the first: a kernel whose result
// depends on the order in which blocks or threads run between barriers
// (a race) then gives another result.
std::string emu_run(const EmuKernel& k, void* args, unsigned gx, unsigned gy, unsigned gz,
                    unsigned bx, unsigned by, unsigned bz, size_t shm, bool reverse = false);

#endif
