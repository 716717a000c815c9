// A CPU emulation of the cuBLAS subset kernels/cuda calls (cublas.go),
// exported as libcublas.so.12: column-major GEMMs with cuBLAS's argument
// semantics (transposes, leading dimensions, batch strides, alpha and beta
// through host pointers, C not read when beta == 0), inputs CUDA_R_32F or
// CUDA_R_16BF (widened exactly) into an fp32 C, compute types
// CUBLAS_COMPUTE_32F (fp32 products and sums) and
// CUBLAS_COMPUTE_32F_FAST_TF32 (the inputs first rounded to TF32, 10
// mantissa bits, round to nearest with ties away from zero like PTX's
// cvt.rna.tf32.f32; then fp32 arithmetic). Each element of C accumulates
// its k products in order in one float (fused multiply-adds where the build
// has FMA); real cuBLAS splits k across threads, so its sums differ in the
// last bits, which the tests' tolerances must, and do, allow.
//
// Argument combinations cuBLAS rejects are rejected with its statuses; every
// operand range is checked against the emulated device allocations of the
// emulator's libcuda.so.1, and cublasCreate needs a current context there.
#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <set>
#include <vector>

#include "emu_internal.h"

typedef int cublasStatus_t;
enum : int {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_NOT_SUPPORTED = 15,
};
enum : int { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 };
enum : int { CUDA_R_32F = 0, CUDA_R_16BF = 14 };
enum : int {
    CUBLAS_COMPUTE_32F = 68,
    CUBLAS_COMPUTE_32F_PEDANTIC = 69,
    CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
};

namespace {

struct Handle {
    emu_check_range_fn check;
};
std::mutex mu;
std::set<Handle*> handles;

bool live(Handle* h) {
    std::lock_guard<std::mutex> l(mu);
    return h != nullptr && handles.count(h) != 0;
}

enum class In { F32, BF16 };

float tf32(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    if ((b & 0x7f800000u) != 0x7f800000u) {  // finite: round the 13 dropped bits, ties away
        b += 0x1000u;
        b &= 0xffffe000u;
    }
    memcpy(&x, &b, 4);
    return x;
}

float load(const void* base, long long i, In t, bool round_tf32) {
    if (t == In::BF16) {
        uint32_t b = (uint32_t)static_cast<const uint16_t*>(base)[i] << 16;
        float x;
        memcpy(&x, &b, 4);
        return x;
    }
    const float x = static_cast<const float*>(base)[i];
    return round_tf32 ? tf32(x) : x;
}

struct Gemm {
    int ta, tb, m, n, k;
    float alpha, beta;
    const void *A, *B;
    float* C;
    In type;
    int lda, ldb, ldc;
    long long sA, sB, sC;
    int batch;
    bool round_tf32;
};

size_t elem_bytes(In t) { return t == In::BF16 ? 2 : 4; }

// span: elements from the first to the last an operand of rows×cols
// (column-major, leading dimension ld) reads.
size_t span(int rows, int cols, int ld) { return (size_t)(cols - 1) * (size_t)ld + (size_t)rows; }

cublasStatus_t validate(Handle* h, const Gemm& g) {
    if (!live(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    auto op_ok = [](int t) { return t == CUBLAS_OP_N || t == CUBLAS_OP_T || t == CUBLAS_OP_C; };
    if (!op_ok(g.ta) || !op_ok(g.tb) || g.m < 0 || g.n < 0 || g.k < 0 || g.batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
    const int rowsA = g.ta == CUBLAS_OP_N ? g.m : g.k, rowsB = g.tb == CUBLAS_OP_N ? g.k : g.n;
    if (g.lda < (rowsA > 1 ? rowsA : 1) || g.ldb < (rowsB > 1 ? rowsB : 1) || g.ldc < (g.m > 1 ? g.m : 1))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (g.m == 0 || g.n == 0 || g.batch == 0) return CUBLAS_STATUS_SUCCESS;
    // The ranges each operand reads (A, B only when k > 0) or writes.
    const int colsA = g.ta == CUBLAS_OP_N ? g.k : g.m, colsB = g.tb == CUBLAS_OP_N ? g.n : g.k;
    struct R {
        const void* p;
        long long stride;
        size_t elems, esize;
        const char* what;
    } rs[3] = {{g.A, g.sA, g.k > 0 ? span(rowsA, colsA, g.lda) : 0, elem_bytes(g.type), "A"},
               {g.B, g.sB, g.k > 0 ? span(rowsB, colsB, g.ldb) : 0, elem_bytes(g.type), "B"},
               {g.C, g.sC, span(g.m, g.n, g.ldc), 4, "C"}};
    for (const R& r : rs) {
        if (r.elems == 0) continue;
        for (int b = 0; b < g.batch; b++) {
            const char* why = "";
            const char* p = static_cast<const char*>(r.p) + (long long)b * r.stride * (long long)r.esize;
            if (h->check(p, r.elems * r.esize, &why) != 0) {
                fprintf(stderr, "cuda-emu: cuBLAS GEMM operand %s (batch %d, %zu elements): %s\n", r.what, b, r.elems, why);
                return CUBLAS_STATUS_EXECUTION_FAILED;
            }
        }
    }
    return CUBLAS_STATUS_SUCCESS;
}

void run(const Gemm& g) {
    if (g.m == 0 || g.n == 0) return;
    const int m = g.m, n = g.n, k = g.k;
    std::vector<float> a((size_t)m * k), b((size_t)k * n), acc((size_t)m * 4);
    for (int bi = 0; bi < g.batch; bi++) {
        const long long offA = (long long)bi * g.sA, offB = (long long)bi * g.sB;
        float* C = g.C + (long long)bi * g.sC;
        // op(A) packed column-major m×k, op(B) column-major k×n.
        for (int l = 0; l < k; l++)
            for (int i = 0; i < m; i++) {
                const long long e = g.ta == CUBLAS_OP_N ? i + (long long)l * g.lda : l + (long long)i * g.lda;
                a[(size_t)l * m + i] = load(g.A, offA + e, g.type, g.round_tf32);
            }
        for (int j = 0; j < n; j++)
            for (int l = 0; l < k; l++) {
                const long long e = g.tb == CUBLAS_OP_N ? l + (long long)j * g.ldb : j + (long long)l * g.ldb;
                b[(size_t)j * k + l] = load(g.B, offB + e, g.type, g.round_tf32);
            }
        for (int j0 = 0; j0 < n; j0 += 4) {
            const int nj = n - j0 < 4 ? n - j0 : 4;
            std::fill(acc.begin(), acc.end(), 0.0f);
            for (int l = 0; l < k; l++) {
                const float* ac = &a[(size_t)l * m];
                for (int jj = 0; jj < nj; jj++) {
                    const float bv = b[(size_t)(j0 + jj) * k + l];
                    float* c = &acc[(size_t)jj * m];
                    for (int i = 0; i < m; i++) c[i] += ac[i] * bv;
                }
            }
            for (int jj = 0; jj < nj; jj++) {
                float* c = C + (long long)(j0 + jj) * g.ldc;
                const float* s = &acc[(size_t)jj * m];
                if (g.beta == 0.0f) {
                    for (int i = 0; i < m; i++) c[i] = g.alpha * s[i];  // C is not read
                } else {
                    for (int i = 0; i < m; i++) c[i] = g.alpha * s[i] + g.beta * c[i];
                }
            }
        }
    }
}

cublasStatus_t gemm(Handle* h, Gemm g, const float* alpha, const float* beta) {
    if (!live(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (alpha == nullptr || beta == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    g.alpha = *alpha;
    g.beta = *beta;
    if (cublasStatus_t s = validate(h, g)) return s;
    if (g.batch > 0) run(g);
    return CUBLAS_STATUS_SUCCESS;
}

// ex_types maps GemmEx's types to the emulated case, or an error status:
// A and B of one type, C fp32; bf16 inputs with COMPUTE_32F(_PEDANTIC),
// fp32 inputs with COMPUTE_32F(_PEDANTIC) or COMPUTE_32F_FAST_TF32.
cublasStatus_t ex_types(int at, int bt, int ct, int compute, In* in, bool* round) {
    if (at != bt || ct != CUDA_R_32F || (at != CUDA_R_32F && at != CUDA_R_16BF)) return CUBLAS_STATUS_NOT_SUPPORTED;
    *in = at == CUDA_R_16BF ? In::BF16 : In::F32;
    switch (compute) {
        case CUBLAS_COMPUTE_32F:
        case CUBLAS_COMPUTE_32F_PEDANTIC:
            *round = false;
            return CUBLAS_STATUS_SUCCESS;
        case CUBLAS_COMPUTE_32F_FAST_TF32:
            if (*in != In::F32) return CUBLAS_STATUS_NOT_SUPPORTED;
            *round = true;
            return CUBLAS_STATUS_SUCCESS;
        default:
            return CUBLAS_STATUS_NOT_SUPPORTED;
    }
}

bool algo_ok(int algo) { return (algo >= -1 && algo <= 23) || (algo >= 99 && algo <= 115); }

}  // namespace

EMU_EXPORT cublasStatus_t cublasCreate_v2(Handle** out) {
    if (out == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    auto check = reinterpret_cast<emu_check_range_fn>(dlsym(RTLD_DEFAULT, EMU_CHECK_RANGE_SYMBOL));
    if (check == nullptr) {
        fprintf(stderr, "cuda-emu: cublasCreate: the emulator's libcuda.so.1 is not loaded (this libcublas works only with it)\n");
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    const char* why = "";
    if (check(nullptr, 0, &why) != 0) {
        fprintf(stderr, "cuda-emu: cublasCreate: %s\n", why);
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    auto* h = new Handle{check};
    std::lock_guard<std::mutex> l(mu);
    handles.insert(h);
    *out = h;
    return CUBLAS_STATUS_SUCCESS;
}

EMU_EXPORT cublasStatus_t cublasDestroy_v2(Handle* h) {
    std::lock_guard<std::mutex> l(mu);
    if (h == nullptr || handles.erase(h) == 0) return CUBLAS_STATUS_NOT_INITIALIZED;
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

EMU_EXPORT cublasStatus_t cublasGetVersion_v2(Handle* h, int* v) {
    if (!live(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (v == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    *v = 120800;  // the cuBLAS 12.8 API
    return CUBLAS_STATUS_SUCCESS;
}

EMU_EXPORT cublasStatus_t cublasSgemm_v2(Handle* h, int ta, int tb, int m, int n, int k, const float* alpha,
                                         const float* A, int lda, const float* B, int ldb, const float* beta, float* C,
                                         int ldc) {
    return gemm(h, Gemm{ta, tb, m, n, k, 0, 0, A, B, C, In::F32, lda, ldb, ldc, 0, 0, 0, 1, false}, alpha, beta);
}

EMU_EXPORT cublasStatus_t cublasSgemmStridedBatched(Handle* h, int ta, int tb, int m, int n, int k,
                                                    const float* alpha, const float* A, int lda, long long sA,
                                                    const float* B, int ldb, long long sB, const float* beta, float* C,
                                                    int ldc, long long sC, int batch) {
    return gemm(h, Gemm{ta, tb, m, n, k, 0, 0, A, B, C, In::F32, lda, ldb, ldc, sA, sB, sC, batch, false}, alpha, beta);
}

EMU_EXPORT cublasStatus_t cublasGemmEx(Handle* h, int ta, int tb, int m, int n, int k, const void* alpha,
                                       const void* A, int at, int lda, const void* B, int bt, int ldb,
                                       const void* beta, void* C, int ct, int ldc, int compute, int algo) {
    if (!live(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    In in;
    bool round;
    if (cublasStatus_t s = ex_types(at, bt, ct, compute, &in, &round)) return s;
    if (!algo_ok(algo)) return CUBLAS_STATUS_INVALID_VALUE;
    return gemm(h, Gemm{ta, tb, m, n, k, 0, 0, A, B, static_cast<float*>(C), in, lda, ldb, ldc, 0, 0, 0, 1, round},
                static_cast<const float*>(alpha), static_cast<const float*>(beta));
}

EMU_EXPORT cublasStatus_t cublasGemmStridedBatchedEx(Handle* h, int ta, int tb, int m, int n, int k,
                                                     const void* alpha, const void* A, int at, int lda, long long sA,
                                                     const void* B, int bt, int ldb, long long sB, const void* beta,
                                                     void* C, int ct, int ldc, long long sC, int batch, int compute,
                                                     int algo) {
    if (!live(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    In in;
    bool round;
    if (cublasStatus_t s = ex_types(at, bt, ct, compute, &in, &round)) return s;
    if (!algo_ok(algo)) return CUBLAS_STATUS_INVALID_VALUE;
    return gemm(h, Gemm{ta, tb, m, n, k, 0, 0, A, B, static_cast<float*>(C), in, lda, ldb, ldc, sA, sB, sC, batch, round},
                static_cast<const float*>(alpha), static_cast<const float*>(beta));
}
