// The kernels of kernels.cu, compiled unchanged (cuda_emu.h is included
// first with -include), and the launch table over them: for each kernel a
// template over its function type (KernelOf, kernel_of.h) unpacks cuLaunchKernel's void**
// kernelParams into a std::tuple of the parameter types and calls the
// kernel with std::apply. kernels.inc lists the kernels' names; the Makefile
// generates it from the `extern "C" __global__ void NAME(` lines and checks
// that it has one entry per __global__.
#include EMU_KERNELS_CU_INCLUDE

#include "kernel_of.h"

const EmuKernel emu_kernels[] = {
#include "kernels.inc"
};
const int emu_nkernels = sizeof emu_kernels / sizeof emu_kernels[0];
