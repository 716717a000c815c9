// A stand-in for NVRTC (libnvrtc.so.12) for the CPU emulator: it cannot
// compile CUDA C (g++ compiled kernels.cu into the emulator's libcuda.so.1
// when the emulator was built), so "compiling" checks that the source is
// byte-identical to that kernels.cu and that the options are ones NVRTC
// accepts, and returns an image naming the source's hash, which the
// emulator's cuModuleLoadData accepts. A different source fails like a
// compilation error, with a log saying the emulator is stale.
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "emu_internal.h"

EMU_EMBED_KERNELS_CU()

typedef int nvrtcResult;
enum : int {
    NVRTC_SUCCESS = 0,
    NVRTC_ERROR_OUT_OF_MEMORY = 1,
    NVRTC_ERROR_PROGRAM_CREATION_FAILURE = 2,
    NVRTC_ERROR_INVALID_INPUT = 3,
    NVRTC_ERROR_INVALID_PROGRAM = 4,
    NVRTC_ERROR_INVALID_OPTION = 5,
    NVRTC_ERROR_COMPILATION = 6,
};

namespace {

// CUDA 12.8's NVRTC targets.
const int archs[] = {50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90};

struct Program {
    std::string src, name, log, image;
    bool compiled = false, cubin = false;
};
std::mutex mu;  // guards programs (one program is used by one thread at a time, as NVRTC requires)
std::set<Program*> programs;

bool valid(Program* p) {
    std::lock_guard<std::mutex> l(mu);
    return p != nullptr && programs.count(p) != 0;
}

}  // namespace

EMU_EXPORT const char* nvrtcGetErrorString(nvrtcResult r) {
    static const char* names[] = {"NVRTC_SUCCESS",
                                  "NVRTC_ERROR_OUT_OF_MEMORY",
                                  "NVRTC_ERROR_PROGRAM_CREATION_FAILURE",
                                  "NVRTC_ERROR_INVALID_INPUT",
                                  "NVRTC_ERROR_INVALID_PROGRAM",
                                  "NVRTC_ERROR_INVALID_OPTION",
                                  "NVRTC_ERROR_COMPILATION"};
    if (r >= 0 && r < (int)(sizeof names / sizeof names[0])) return names[r];
    return "NVRTC_ERROR unknown";
}

EMU_EXPORT nvrtcResult nvrtcVersion(int* major, int* minor) {
    if (major == nullptr || minor == nullptr) return NVRTC_ERROR_INVALID_INPUT;
    *major = 12;
    *minor = 8;
    return NVRTC_SUCCESS;
}

EMU_EXPORT nvrtcResult nvrtcGetNumSupportedArchs(int* n) {
    if (n == nullptr) return NVRTC_ERROR_INVALID_INPUT;
    *n = (int)(sizeof archs / sizeof archs[0]);
    return NVRTC_SUCCESS;
}

EMU_EXPORT nvrtcResult nvrtcGetSupportedArchs(int* out) {
    if (out == nullptr) return NVRTC_ERROR_INVALID_INPUT;
    memcpy(out, archs, sizeof archs);
    return NVRTC_SUCCESS;
}

EMU_EXPORT nvrtcResult nvrtcCreateProgram(Program** prog, const char* src, const char* name, int numHeaders,
                                          const char* const* headers, const char* const* includeNames) {
    if (prog == nullptr || src == nullptr || numHeaders < 0 ||
        (numHeaders > 0 && (headers == nullptr || includeNames == nullptr)))
        return NVRTC_ERROR_INVALID_INPUT;
    auto* p = new Program;
    p->src = src;
    p->name = name != nullptr ? name : "default_program";
    {
        std::lock_guard<std::mutex> l(mu);
        programs.insert(p);
    }
    *prog = p;
    return NVRTC_SUCCESS;
}

EMU_EXPORT nvrtcResult nvrtcDestroyProgram(Program** prog) {
    if (prog == nullptr || !valid(*prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    {
        std::lock_guard<std::mutex> l(mu);
        programs.erase(*prog);
    }
    delete *prog;
    *prog = nullptr;
    return NVRTC_SUCCESS;
}

EMU_EXPORT nvrtcResult nvrtcCompileProgram(Program* p, int numOptions, const char* const* options) {
    if (!valid(p)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (numOptions < 0 || (numOptions > 0 && options == nullptr)) return NVRTC_ERROR_INVALID_INPUT;
    p->compiled = false;
    p->log.clear();
    std::string target = "compute_52";  // NVRTC's default
    bool cubin = false;
    for (int i = 0; i < numOptions; i++) {
        const std::string o = options[i] != nullptr ? options[i] : "";
        auto value = [&](const char* flag) -> const char* {
            const size_t n = strlen(flag);
            return o.compare(0, n, flag) == 0 ? o.c_str() + n : nullptr;
        };
        const char* v;
        if ((v = value("--gpu-architecture=")) || (v = value("-arch="))) {
            std::string a = v;
            int cc = 0;
            bool ok = false;
            if (a.rfind("sm_", 0) == 0 || a.rfind("compute_", 0) == 0) {
                cubin = a[0] == 's';
                cc = atoi(a.c_str() + (cubin ? 3 : 8));
                for (int x : archs) ok = ok || x == cc;
            }
            if (!ok) {
                p->log = "nvrtc: error: invalid value for --gpu-architecture (-arch): " + a + "\n";
                return NVRTC_ERROR_INVALID_OPTION;
            }
            target = a;
        } else if ((v = value("--std=")) || (v = value("-std="))) {
            const std::string s = v;
            if (s != "c++03" && s != "c++11" && s != "c++14" && s != "c++17" && s != "c++20") {
                p->log = "nvrtc: error: invalid value for --std: " + s + "\n";
                return NVRTC_ERROR_INVALID_OPTION;
            }
        } else if ((v = value("--ftz=")) || (v = value("--prec-div=")) || (v = value("--prec-sqrt=")) ||
                   (v = value("--fmad="))) {
            if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
                p->log = "nvrtc: error: invalid value in option " + o + "\n";
                return NVRTC_ERROR_INVALID_OPTION;
            }
        } else if (o == "--use_fast_math" || o == "-use_fast_math" || o.rfind("-D", 0) == 0 ||
                   o.rfind("--define-macro=", 0) == 0 || o == "-lineinfo" || o == "--generate-line-info") {
            // Would change the code generated: the emulator's kernels were
            // compiled once, without them.
            p->log = "nvrtc (humanllm CPU emulator): option " + o + " is not emulated: the kernels were compiled by g++ when the emulator was built\n";
            return NVRTC_ERROR_INVALID_OPTION;
        } else {
            p->log = "nvrtc: error: unrecognized option " + o + "\n";
            return NVRTC_ERROR_INVALID_OPTION;
        }
    }
    const size_t n = (size_t)(emu_kernels_cu_end - emu_kernels_cu);
    const uint64_t mine = emu_fnv1a64(emu_kernels_cu, n);
    const uint64_t given = emu_fnv1a64(p->src.data(), p->src.size());
    if (p->src.size() != n || memcmp(p->src.data(), emu_kernels_cu, n) != 0) {
        char b[512];
        snprintf(b, sizeof b,
                 "%s: error: the humanllm CPU emulator cannot compile CUDA C; it runs the kernels.cu it was built "
                 "from (%zu bytes, fnv1a64 %016llx), and this source differs (%zu bytes, fnv1a64 %016llx): the "
                 "emulator is stale, rebuild it (make cuda-emu)\n",
                 p->name.c_str(), n, (unsigned long long)mine, p->src.size(), (unsigned long long)given);
        p->log = b;
        return NVRTC_ERROR_COMPILATION;
    }
    p->image = emu_image(mine, target);
    p->cubin = cubin;
    p->compiled = true;
    return NVRTC_SUCCESS;
}

EMU_EXPORT nvrtcResult nvrtcGetProgramLogSize(Program* p, size_t* n) {
    if (!valid(p)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (n == nullptr) return NVRTC_ERROR_INVALID_INPUT;
    *n = p->log.size() + 1;
    return NVRTC_SUCCESS;
}

EMU_EXPORT nvrtcResult nvrtcGetProgramLog(Program* p, char* out) {
    if (!valid(p)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (out == nullptr) return NVRTC_ERROR_INVALID_INPUT;
    memcpy(out, p->log.c_str(), p->log.size() + 1);
    return NVRTC_SUCCESS;
}

static nvrtcResult image_size(Program* p, size_t* n, bool cubin) {
    if (!valid(p)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (n == nullptr) return NVRTC_ERROR_INVALID_INPUT;
    if (!p->compiled || (cubin && !p->cubin)) return NVRTC_ERROR_INVALID_PROGRAM;
    *n = p->image.size() + 1;
    return NVRTC_SUCCESS;
}

static nvrtcResult image(Program* p, char* out, bool cubin) {
    size_t n;
    if (nvrtcResult r = image_size(p, &n, cubin)) return r;
    if (out == nullptr) return NVRTC_ERROR_INVALID_INPUT;
    memcpy(out, p->image.c_str(), n);
    return NVRTC_SUCCESS;
}

EMU_EXPORT nvrtcResult nvrtcGetPTXSize(Program* p, size_t* n) { return image_size(p, n, false); }
EMU_EXPORT nvrtcResult nvrtcGetPTX(Program* p, char* out) { return image(p, out, false); }
EMU_EXPORT nvrtcResult nvrtcGetCUBINSize(Program* p, size_t* n) { return image_size(p, n, true); }
EMU_EXPORT nvrtcResult nvrtcGetCUBIN(Program* p, char* out) { return image(p, out, true); }
