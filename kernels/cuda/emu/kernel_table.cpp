// The kernels of kernels.cu, compiled unchanged (cuda_emu.h is included
// first with -include), and the launch table over them: for each kernel a
// template over its function type unpacks cuLaunchKernel's void**
// kernelParams into a std::tuple of the parameter types and calls the
// kernel with std::apply. kernels.inc lists the kernels' names; the Makefile
// generates it from the `extern "C" __global__ void NAME(` lines and checks
// that it has one entry per __global__.
#include EMU_KERNELS_CU_INCLUDE

#include <cstring>
#include <tuple>
#include <utility>

#include "runtime.h"

namespace {

template <typename T>
T load_param(const void* p) {
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
        return new Args(load_param<A>(p[I])...);
    }
    static void* unpack(void* const* p) { return unpack_seq(p, std::index_sequence_for<A...>{}); }
    static void invoke(const void* args) { std::apply(F, *static_cast<const Args*>(args)); }
    static void destroy(void* args) { delete static_cast<Args*>(args); }
    static constexpr int nparams = sizeof...(A);
};

}  // namespace

#define EMU_KERNEL(name)                                                                    \
    {#name, KernelOf<name, decltype(name)>::nparams, KernelOf<name, decltype(name)>::unpack, \
     KernelOf<name, decltype(name)>::invoke, KernelOf<name, decltype(name)>::destroy},

const EmuKernel emu_kernels[] = {
#include "kernels.inc"
};
const int emu_nkernels = sizeof emu_kernels / sizeof emu_kernels[0];
