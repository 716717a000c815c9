// KernelOf<F>: cuLaunchKernel's view of one kernel F. unpack copies the
// launch's kernelParams (one pointer per parameter, to a value of that
// parameter's type) into a std::tuple of F's parameter types; invoke calls
// F with it (std::apply). Used by kernel_table.cpp and selftest.cpp.
#ifndef HUMANLLM_CUDA_EMU_KERNEL_OF_H
#define HUMANLLM_CUDA_EMU_KERNEL_OF_H

#include <cstring>
#include <tuple>
#include <utility>

#include "runtime.h"

template <typename T>
T emu_load_param(const void* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <auto F, typename Sig>
struct KernelOf;

template <auto F, typename... A>
struct KernelOf<F, void(A...)> {
    using Args = std::tuple<A...>;
    template <size_t... I>
    static void* unpack_seq(void* const* p, std::index_sequence<I...>) {
        return new Args(emu_load_param<A>(p[I])...);
    }
    static void* unpack(void* const* p) { return unpack_seq(p, std::index_sequence_for<A...>{}); }
    static void invoke(const void* args) { std::apply(F, *static_cast<const Args*>(args)); }
    static void destroy(void* args) { delete static_cast<Args*>(args); }
    static constexpr int nparams = sizeof...(A);
};

#define EMU_KERNEL(name)                                                                    \
    {#name, KernelOf<name, decltype(name)>::nparams, KernelOf<name, decltype(name)>::unpack, \
     KernelOf<name, decltype(name)>::invoke, KernelOf<name, decltype(name)>::destroy},

#endif
