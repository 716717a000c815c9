// Internal interfaces shared by the emulator's libraries (not part of any
// CUDA API). See README.md.
#ifndef HUMANLLM_CUDA_EMU_INTERNAL_H
#define HUMANLLM_CUDA_EMU_INTERNAL_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#define EMU_EXPORT extern "C" __attribute__((visibility("default")))

// The kernels.cu this emulator was built from, embedded byte for byte with
// the assembler's .incbin (EMU_KERNELS_CU is its absolute path, set by the
// Makefile). NVRTC accepts exactly this source; libcuda accepts exactly the
// image that NVRTC produces from it.
#define EMU_EMBED_KERNELS_CU()                                          \
    __asm__(".section .rodata\n"                                        \
            ".globl emu_kernels_cu\n.hidden emu_kernels_cu\n"            \
            "emu_kernels_cu:\n.incbin \"" EMU_KERNELS_CU "\"\n"          \
            ".globl emu_kernels_cu_end\n.hidden emu_kernels_cu_end\n"    \
            "emu_kernels_cu_end:\n.byte 0\n.previous\n");                \
    extern "C" const char emu_kernels_cu[], emu_kernels_cu_end[];

// FNV-1a, 64 bits: the hash that names a kernels.cu in images and messages.
static inline uint64_t emu_fnv1a64(const char* p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

// The "compiled" module NVRTC hands out and cuModuleLoadData accepts:
// a NUL-terminated text line naming the source's hash and the target.
#define EMU_IMAGE_MAGIC "humanllm-cuda-emu image v1"

static inline std::string emu_image(uint64_t hash, const std::string& target) {
    char buf[160];
    snprintf(buf, sizeof buf, EMU_IMAGE_MAGIC " kernels.cu fnv1a64=%016llx target=%s\n",
             (unsigned long long)hash, target.c_str());
    return buf;
}

// Exported by the emulator's libcuda.so.1 for its libcublas: whether the
// calling thread has the emulated context current, and whether [p, p+bytes)
// lies inside one live device allocation. 0 when fine, else a CUresult,
// with a message in *why.
typedef int (*emu_check_range_fn)(const void* p, size_t bytes, const char** why);
#define EMU_CHECK_RANGE_SYMBOL "humanllm_emu_check_range"

#endif
