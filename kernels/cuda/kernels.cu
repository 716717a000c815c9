// CUDA C kernels of humanllm's fused operations (kernels.Fused), compiled at
// run time by NVRTC (see nvrtc.go) into one module. Every kernel is
// extern "C" so its name is the symbol the Go side looks up.
//
// Conventions:
//   - Launch shapes are chosen by fused.go; kernels with block reductions
//     need blockDim.x a multiple of 32 (at most 1024), the others take any.
//   - Every reduction has a fixed order for a given shape (warp shuffles in
//     a fixed pattern, partial sums over fixed row chunks added in chunk
//     order): results are bit-identical from run to run. No float atomics.
//   - fp32 storage and arithmetic, except AdamW (double, like kernels/ref).
//   - Sizes that index past 2^31 elements use long long offsets.
//   - max is NaN-propagating (fmaxf is not), so a NaN in a row reaches its
//     softmax and loss the way the float64 oracle says.

#define FULL_MASK 0xffffffffu
#define NEG_INF __int_as_float(0xff800000)  // NVRTC has no math.h and so no INFINITY

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

// nan_max returns a if it is NaN, else the larger of a and b (b if b is NaN).
__device__ __forceinline__ float nan_max(float a, float b) {
    return (a != a || a > b) ? a : b;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = nan_max(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}

// block_sum returns the sum of v over the block to every thread. sh has 32
// floats. Every warp reduces the per-warp sums in the same order, so all
// threads get the same bits.
__device__ float block_sum(float v, float* sh) {
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();  // earlier readers of sh are done
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    return warp_sum(lane < nw ? sh[lane] : 0.0f);
}

__device__ float block_max(float v, float* sh) {
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    return warp_max(lane < nw ? sh[lane] : NEG_INF);
}

__device__ __forceinline__ float sigm(float z) { return 1.0f / (1.0f + expf(-z)); }

// ---------------------------------------------------------------- norms
// One block per row.

extern "C" __global__ void rmsnorm_fwd(float* __restrict__ y, float* __restrict__ rstd,
                                       const float* __restrict__ x, const float* __restrict__ w,
                                       int n, float eps) {
    __shared__ float sh[32];
    const long long off = (long long)blockIdx.x * n;
    const float* xr = x + off;
    float ss = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) ss += xr[j] * xr[j];
    ss = block_sum(ss, sh);
    const float rs = 1.0f / sqrtf(ss / (float)n + eps);
    for (int j = threadIdx.x; j < n; j += blockDim.x) y[off + j] = xr[j] * rs * w[j];
    if (threadIdx.x == 0) rstd[blockIdx.x] = rs;
}

// dx = rstd·(g − x̂·mean(g⊙x̂)), g = dy⊙w, x̂ = x·rstd.
extern "C" __global__ void rmsnorm_bwd_dx(float* __restrict__ dx, const float* __restrict__ dy,
                                          const float* __restrict__ x, const float* __restrict__ w,
                                          const float* __restrict__ rstd, int n) {
    __shared__ float sh[32];
    const long long off = (long long)blockIdx.x * n;
    const float rs = rstd[blockIdx.x];
    float dot = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) dot += dy[off + j] * w[j] * (x[off + j] * rs);
    const float mean = block_sum(dot, sh) / (float)n;
    for (int j = threadIdx.x; j < n; j += blockDim.x)
        dx[off + j] = rs * (dy[off + j] * w[j] - x[off + j] * rs * mean);
}

extern "C" __global__ void layernorm_fwd(float* __restrict__ y, float* __restrict__ mean,
                                         float* __restrict__ rstd, const float* __restrict__ x,
                                         const float* __restrict__ w, const float* __restrict__ b,
                                         int n, float eps) {
    __shared__ float sh[32];
    const long long off = (long long)blockIdx.x * n;
    const float* xr = x + off;
    float s = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += xr[j];
    const float mu = block_sum(s, sh) / (float)n;
    float ss = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        const float d = xr[j] - mu;
        ss += d * d;
    }
    const float rs = 1.0f / sqrtf(block_sum(ss, sh) / (float)n + eps);
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        float o = (xr[j] - mu) * rs * w[j];
        if (b) o += b[j];
        y[off + j] = o;
    }
    if (threadIdx.x == 0) {
        mean[blockIdx.x] = mu;
        rstd[blockIdx.x] = rs;
    }
}

// dx = rstd·(g − mean(g) − x̂·mean(g⊙x̂)).
extern "C" __global__ void layernorm_bwd_dx(float* __restrict__ dx, const float* __restrict__ dy,
                                            const float* __restrict__ x, const float* __restrict__ w,
                                            const float* __restrict__ mean,
                                            const float* __restrict__ rstd, int n) {
    __shared__ float sh[32];
    const long long off = (long long)blockIdx.x * n;
    const float mu = mean[blockIdx.x], rs = rstd[blockIdx.x];
    float sg = 0.0f, sgx = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        const float g = dy[off + j] * w[j];
        sg += g;
        sgx += g * ((x[off + j] - mu) * rs);
    }
    const float mg = block_sum(sg, sh) / (float)n;
    const float mgx = block_sum(sgx, sh) / (float)n;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        const float xh = (x[off + j] - mu) * rs;
        dx[off + j] = rs * (dy[off + j] * w[j] - mg - xh * mgx);
    }
}

// Column sums of the parameter gradients, in two deterministic steps.
// norm_dw_partial: block (bx, c) sums rows [c*chunk, min(rows, (c+1)*chunk))
// of column j = bx*blockDim.x+threadIdx.x, in row order:
//   pw[c*n+j] = Σ dy·(x − mean)·rstd   (mean nil: RMSNorm)
//   pb[c*n+j] = Σ dy                   (pb nil: no bias)
extern "C" __global__ void norm_dw_partial(float* __restrict__ pw, float* __restrict__ pb,
                                           const float* __restrict__ dy, const float* __restrict__ x,
                                           const float* __restrict__ mean,
                                           const float* __restrict__ rstd, int rows, int n,
                                           int chunk) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= n) return;
    const int r0 = blockIdx.y * chunk, r1 = min(rows, r0 + chunk);
    float aw = 0.0f, ab = 0.0f;
    for (int r = r0; r < r1; r++) {
        const long long i = (long long)r * n + j;
        const float mu = mean ? mean[r] : 0.0f;
        aw += dy[i] * ((x[i] - mu) * rstd[r]);
        ab += dy[i];
    }
    pw[(long long)blockIdx.y * n + j] = aw;
    if (pb) pb[(long long)blockIdx.y * n + j] = ab;
}

// col_accumulate: dst[j] += Σ_c part[c*n+j], chunks in order.
extern "C" __global__ void col_accumulate(float* __restrict__ dst, const float* __restrict__ part,
                                          int chunks, int n) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= n) return;
    float s = 0.0f;
    for (int c = 0; c < chunks; c++) s += part[(long long)c * n + j];
    dst[j] += s;
}

// ---------------------------------------------------------- activations
// Grid-stride loops over n elements; the formulas of kernels/cpu.

#define GELU_C2 1.5957691216057308f  // 2·√(2/π)
#define GELU_A 0.044715f

extern "C" __global__ void gelu_fwd(float* y, const float* x, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const float v = x[i];
        y[i] = v * sigm(GELU_C2 * (v + GELU_A * v * v * v));
    }
}

extern "C" __global__ void gelu_bwd(float* dx, const float* dy, const float* x, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const float v = x[i], v2 = v * v;
        const float s = sigm(GELU_C2 * (v + GELU_A * v2 * v));
        dx[i] = dy[i] * (s + v * s * (1.0f - s) * (GELU_C2 * (1.0f + 3.0f * GELU_A * v2)));
    }
}

extern "C" __global__ void silu_fwd(float* y, const float* x, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const float v = x[i];
        y[i] = v / (1.0f + expf(-v));
    }
}

extern "C" __global__ void silu_bwd(float* dx, const float* dy, const float* x, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const float v = x[i], s = sigm(v);
        dx[i] = dy[i] * (s * (1.0f + v * (1.0f - s)));
    }
}

extern "C" __global__ void swiglu_fwd(float* y, const float* g, const float* u, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const float v = g[i];
        y[i] = v / (1.0f + expf(-v)) * u[i];
    }
}

extern "C" __global__ void swiglu_bwd(float* dg, float* du, const float* dy, const float* g,
                                      const float* u, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const float v = g[i], uv = u[i], d = dy[i], s = sigm(v);
        const float a = d * uv * (s * (1.0f + v * (1.0f - s))), b = d * (v * s);
        dg[i] = a;
        du[i] = b;
    }
}

// ----------------------------------------------------------------- RoPE
// One thread per rotated pair: i over tokens·heads·half. sign is 1 forward,
// -1 backward (rotation by the negative angle). interleaved: pairs (2i,
// 2i+1), else (i, i+half).
extern "C" __global__ void rope(float* y, const float* x, const int* __restrict__ pos,
                                const float* __restrict__ cosT, const float* __restrict__ sinT,
                                int tokens, int heads, int headDim, int interleaved, float sign) {
    const int half = headDim / 2;
    const long long total = (long long)tokens * heads * half;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const int p = (int)(i % half);
        const long long th = i / half;  // token*heads + head
        const int t = (int)(th / heads);
        const long long tab = (long long)pos[t] * half + p;
        const float c = cosT[tab], s = sign * sinT[tab];
        const long long off = th * headDim;
        const long long i0 = interleaved ? off + 2 * p : off + p;
        const long long i1 = interleaved ? off + 2 * p + 1 : off + p + half;
        const float a = x[i0], b = x[i1];
        y[i0] = a * c - b * s;
        y[i1] = b * c + a * s;
    }
}

// -------------------------------------------------------------- softmax
// One block per row.

extern "C" __global__ void softmax_fwd(float* y, const float* x, int n) {
    __shared__ float sh[32];
    const long long off = (long long)blockIdx.x * n;
    float m = NEG_INF;
    for (int j = threadIdx.x; j < n; j += blockDim.x) m = nan_max(m, x[off + j]);
    m = block_max(m, sh);
    float s = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += expf(x[off + j] - m);
    s = block_sum(s, sh);
    for (int j = threadIdx.x; j < n; j += blockDim.x) y[off + j] = expf(x[off + j] - m) / s;
}

extern "C" __global__ void softmax_bwd(float* dx, const float* dy, const float* y, int n) {
    __shared__ float sh[32];
    const long long off = (long long)blockIdx.x * n;
    float s = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += dy[off + j] * y[off + j];
    s = block_sum(s, sh);
    for (int j = threadIdx.x; j < n; j += blockDim.x) dx[off + j] = y[off + j] * (dy[off + j] - s);
}

// --------------------------------------------------------- cross-entropy
// One block per row. loss = (max − x_t) + log Σ exp(x − max); with grad,
// the row of logits is overwritten by scale·(softmax − onehot(t)). Ignored
// rows (t == -100) get loss 0 and a zero gradient.
extern "C" __global__ void cross_entropy(float* losses, float* logits, const int* targets, int v,
                                         float scale, int grad) {
    __shared__ float sh[32];
    const long long off = (long long)blockIdx.x * v;
    const int t = targets[blockIdx.x];
    if (t == -100) {
        if (threadIdx.x == 0) losses[blockIdx.x] = 0.0f;
        if (grad)
            for (int j = threadIdx.x; j < v; j += blockDim.x) logits[off + j] = 0.0f;
        return;
    }
    float m = NEG_INF;
    for (int j = threadIdx.x; j < v; j += blockDim.x) m = nan_max(m, logits[off + j]);
    m = block_max(m, sh);
    float s = 0.0f;
    for (int j = threadIdx.x; j < v; j += blockDim.x) s += expf(logits[off + j] - m);
    s = block_sum(s, sh);
    const float xt = logits[off + t];
    __syncthreads();  // every thread has read x_t before the row is overwritten
    if (threadIdx.x == 0) losses[blockIdx.x] = (m - xt) + logf(s);
    if (grad) {
        for (int j = threadIdx.x; j < v; j += blockDim.x) {
            float p = expf(logits[off + j] - m) / s;
            if (j == t) p -= 1.0f;
            logits[off + j] = scale * p;
        }
    }
}

// ------------------------------------------------------------ embedding
// The host passes only the table rows the ids use (rows: a compact copy,
// remap[i] the compact row of ids[i]).
extern "C" __global__ void embedding_fwd(float* out, const float* rows, const int* remap, int n,
                                         int dim) {
    const long long total = (long long)n * dim;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const long long r = i / dim;
        const int j = (int)(i % dim);
        out[i] = rows[(long long)remap[r] * dim + j];
    }
}

// embedding_bwd: grid (U, ceil(dim/blockDim.x)); block u owns compact row u (one distinct id); seg[u] ..
// seg[u+1] index order[], the positions i with that id in increasing i.
// dtable row u += dout[i] one i at a time, as the sequential loop of
// kernels/ref does, so the sums are bit-identical to it.
extern "C" __global__ void embedding_bwd(float* drows, const float* dout, const int* order,
                                         const int* seg, int dim) {
    const int u = blockIdx.x;
    const int j = blockIdx.y * blockDim.x + threadIdx.x;
    if (j >= dim) return;
    float acc = drows[(long long)u * dim + j];
    for (int k = seg[u]; k < seg[u + 1]; k++) acc += dout[(long long)order[k] * dim + j];
    drows[(long long)u * dim + j] = acc;
}

// ---------------------------------------------------------------- AdamW
// double arithmetic per element, as kernels/ref; bc1 = 1−β1^t, bc2 = 1−β2^t
// from the host.
extern "C" __global__ void adamw(float* param, const float* grad, float* m, float* v, long long n,
                                 float lr, float beta1, float beta2, float eps, float wd,
                                 double bc1, double bc2) {
    const double b1 = beta1, b2 = beta2;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const double g = grad[i];
        const double mi = b1 * (double)m[i] + (1.0 - b1) * g;
        const double vi = b2 * (double)v[i] + (1.0 - b2) * g * g;
        m[i] = (float)mi;
        v[i] = (float)vi;
        const double p = param[i];
        const double upd = (mi / bc1) / (sqrt(vi / bc2) + (double)eps) + (double)wd * p;
        param[i] = (float)(p - (double)lr * upd);
    }
}

// ------------------------------------------------------------ attention
// Q and out are [B, T, H, D]; K and V [B, T, KVH, D]; lse [B, H, T]. Query
// t attends keys s with start[b*T+t] <= s <= t (start nil: 0). Keys it does
// not attend are never read into its sums.
//
// Forward: one thread per query; a block holds ATT_Q consecutive queries of
// one (b, h) and walks key tiles of KT keys staged in shared memory, with an
// online softmax. KT (at most 32) is chosen by the host so that the tiles
// fit in 48 KiB of shared memory. D up to ATT_MAXD keeps the accumulator in
// a per-thread array; larger D accumulates in out itself (slower, same
// math). A simple, deterministic design, not a tuned flash attention:
// no tensor cores, one query (or key) per thread. Grids are (B·H or B·KVH, ceil(T/ATT_Q)).

#define ATT_Q 64
#define ATT_MAXD 128

__device__ __forceinline__ float dotd(const float* a, const float* b, int D) {
    float s = 0.0f;
    for (int d = 0; d < D; d++) s += a[d] * b[d];
    return s;
}

// attn_fwd: grid (ceil(T/ATT_Q), B*H), block ATT_Q, dynamic shared memory
// 2·KT·D floats (keys then values).
extern "C" __global__ void attn_fwd(float* __restrict__ out, float* __restrict__ lse,
                                    const float* __restrict__ q, const float* __restrict__ k,
                                    const float* __restrict__ v, const int* __restrict__ start,
                                    int B, int T, int H, int KVH, int D, float scale, int KT) {
    extern __shared__ float smem[];
    float* ks = smem;
    float* vs = smem + KT * D;
    const int bh = blockIdx.x, b = bh / H, h = bh % H, kh = h / (H / KVH);
    const int t = blockIdx.y * ATT_Q + threadIdx.x;
    const bool active = t < T;
    const long long qoff = (((long long)b * T + t) * H + h) * D;
    const int s0 = active ? (start ? start[b * T + t] : 0) : 0;
    float accl[ATT_MAXD];
    float* acc = D <= ATT_MAXD ? accl : out + qoff;
    if (active)
        for (int d = 0; d < D; d++) acc[d] = 0.0f;
    float m = NEG_INF, l = 0.0f;
    // Keys needed by the block: up to its last query.
    const int tEnd = min(T, (int)(blockIdx.y + 1) * ATT_Q);
    int sMin = T;  // smallest start in the block, so the walk can skip keys nobody needs
    {
        __shared__ int smin;
        if (threadIdx.x == 0) smin = T;
        __syncthreads();
        if (active) atomicMin(&smin, s0);
        __syncthreads();
        sMin = smin;
    }
    for (int kt = (sMin / KT) * KT; kt < tEnd; kt += KT) {
        __syncthreads();
        for (int e = threadIdx.x; e < KT * D; e += blockDim.x) {
            const int s = kt + e / D, d = e % D;
            float kv = 0.0f, vv = 0.0f;
            if (s < T) {
                const long long o = (((long long)b * T + s) * KVH + kh) * D + d;
                kv = k[o];
                vv = v[o];
            }
            ks[e] = kv;
            vs[e] = vv;
        }
        __syncthreads();
        if (!active) continue;
        const int lo = max(s0, kt), hi = min(t, kt + KT - 1);
        for (int s = lo; s <= hi; s++) {
            const float* kr = ks + (s - kt) * D;
            const float sc = scale * dotd(q + qoff, kr, D);
            const float mNew = nan_max(m, sc);
            const float corr = expf(m - mNew);  // m = -inf first: exp(-inf) = 0
            const float p = expf(sc - mNew);
            l = l * corr + p;
            const float* vr = vs + (s - kt) * D;
            for (int d = 0; d < D; d++) acc[d] = acc[d] * corr + p * vr[d];
            m = mNew;
        }
    }
    if (!active) return;
    const float inv = 1.0f / l;
    for (int d = 0; d < D; d++) out[qoff + d] = acc[d] * inv;
    lse[((long long)b * H + h) * T + t] = m + logf(l);
}

// attn_rowdot: delta[b,h,t] = Σ_d dout·out, one thread per query.
extern "C" __global__ void attn_rowdot(float* __restrict__ delta, const float* __restrict__ dout,
                                       const float* __restrict__ out, int B, int T, int H, int D) {
    const long long nq = (long long)B * H * T;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < nq;
         i += (long long)gridDim.x * blockDim.x) {
        const int t = (int)(i % T);
        const long long bh = i / T;
        const int h = (int)(bh % H), b = (int)(bh / H);
        const long long o = (((long long)b * T + t) * H + h) * D;
        delta[i] = dotd(dout + o, out + o, D);
    }
}

// attn_bwd_dq: like attn_fwd, one thread per query:
//   p = exp(scale·q·k − lse), ds = p·(dout·v − delta), dq = scale·Σ ds·k.
extern "C" __global__ void attn_bwd_dq(float* __restrict__ dq, const float* __restrict__ dout,
                                       const float* __restrict__ lse, const float* __restrict__ delta,
                                       const float* __restrict__ q, const float* __restrict__ k,
                                       const float* __restrict__ v, const int* __restrict__ start,
                                       int B, int T, int H, int KVH, int D, float scale, int KT) {
    extern __shared__ float smem[];
    float* ks = smem;
    float* vs = smem + KT * D;
    const int bh = blockIdx.x, b = bh / H, h = bh % H, kh = h / (H / KVH);
    const int t = blockIdx.y * ATT_Q + threadIdx.x;
    const bool active = t < T;
    const long long qoff = (((long long)b * T + t) * H + h) * D;
    const int s0 = active ? (start ? start[b * T + t] : 0) : 0;
    float accl[ATT_MAXD];
    float* acc = D <= ATT_MAXD ? accl : dq + qoff;
    float L = 0.0f, dl = 0.0f;
    if (active) {
        for (int d = 0; d < D; d++) acc[d] = 0.0f;
        L = lse[((long long)b * H + h) * T + t];
        dl = delta[((long long)b * H + h) * T + t];
    }
    const int tEnd = min(T, (int)(blockIdx.y + 1) * ATT_Q);
    int sMin;
    {
        __shared__ int smin;
        if (threadIdx.x == 0) smin = T;
        __syncthreads();
        if (active) atomicMin(&smin, s0);
        __syncthreads();
        sMin = smin;
    }
    for (int kt = (sMin / KT) * KT; kt < tEnd; kt += KT) {
        __syncthreads();
        for (int e = threadIdx.x; e < KT * D; e += blockDim.x) {
            const int s = kt + e / D, d = e % D;
            float kv = 0.0f, vv = 0.0f;
            if (s < T) {
                const long long o = (((long long)b * T + s) * KVH + kh) * D + d;
                kv = k[o];
                vv = v[o];
            }
            ks[e] = kv;
            vs[e] = vv;
        }
        __syncthreads();
        if (!active) continue;
        const int lo = max(s0, kt), hi = min(t, kt + KT - 1);
        for (int s = lo; s <= hi; s++) {
            const float* kr = ks + (s - kt) * D;
            const float p = expf(scale * dotd(q + qoff, kr, D) - L);
            const float ds = p * (dotd(dout + qoff, vs + (s - kt) * D, D) - dl);
            for (int d = 0; d < D; d++) acc[d] += ds * kr[d];
        }
    }
    if (!active) return;
    for (int d = 0; d < D; d++) dq[qoff + d] = scale * acc[d];
}

// attn_bwd_dkv: one thread per key s of one (b, kv head); it walks the
// queries t >= s of every query head of its group (in head order, then t
// order) that attend s:
//   dv = Σ p·dout, dk = scale·Σ p·(dout·v − delta)·q.
// Block ATT_Q, dynamic shared memory 2·KT·D + 3·KT floats (the tile's q
// and dout rows, then its lse, delta and start, the last as ints).
extern "C" __global__ void attn_bwd_dkv(float* __restrict__ dk, float* __restrict__ dv,
                                        const float* __restrict__ dout, const float* __restrict__ lse,
                                        const float* __restrict__ delta, const float* __restrict__ q,
                                        const float* __restrict__ k, const float* __restrict__ v,
                                        const int* __restrict__ start, int B, int T, int H, int KVH,
                                        int D, float scale, int KT) {
    extern __shared__ float smem[];
    float* qs = smem;
    float* os = smem + KT * D;
    float* ls = smem + 2 * KT * D;
    float* dls = ls + KT;
    int* sts = (int*)(dls + KT);
    const int bk = blockIdx.x, b = bk / KVH, kh = bk % KVH, G = H / KVH;
    const int s = blockIdx.y * ATT_Q + threadIdx.x;
    const bool active = s < T;
    const long long koff = (((long long)b * T + s) * KVH + kh) * D;
    float dkl[ATT_MAXD], dvl[ATT_MAXD];
    float* dka = D <= ATT_MAXD ? dkl : dk + koff;
    float* dva = D <= ATT_MAXD ? dvl : dv + koff;
    if (active)
        for (int d = 0; d < D; d++) {
            dka[d] = 0.0f;
            dva[d] = 0.0f;
        }
    const int sFirst = blockIdx.y * ATT_Q;  // queries before the block's first key attend none of its keys
    for (int g = 0; g < G; g++) {
        const int h = kh * G + g;
        for (int qt = (sFirst / KT) * KT; qt < T; qt += KT) {
            __syncthreads();
            for (int e = threadIdx.x; e < KT * D; e += blockDim.x) {
                const int t = qt + e / D, d = e % D;
                float qv = 0.0f, ov = 0.0f;
                if (t < T) {
                    const long long o = (((long long)b * T + t) * H + h) * D + d;
                    qv = q[o];
                    ov = dout[o];
                }
                qs[e] = qv;
                os[e] = ov;
            }
            for (int e = threadIdx.x; e < KT; e += blockDim.x) {
                const int t = qt + e;
                float lv = 0.0f, dlv = 0.0f;
                int st = T;  // past the end: attends nothing here
                if (t < T) {
                    lv = lse[((long long)b * H + h) * T + t];
                    dlv = delta[((long long)b * H + h) * T + t];
                    st = start ? start[b * T + t] : 0;
                }
                ls[e] = lv;
                dls[e] = dlv;
                sts[e] = st;
            }
            __syncthreads();
            if (!active) continue;
            const int lo = max(s, qt), hi = min(T - 1, qt + KT - 1);
            for (int t = lo; t <= hi; t++) {
                const int e = t - qt;
                if (sts[e] > s) continue;
                const float* qr = qs + e * D;
                const float* orow = os + e * D;
                const float p = expf(scale * dotd(qr, k + koff, D) - ls[e]);
                const float ds = p * (dotd(orow, v + koff, D) - dls[e]);
                for (int d = 0; d < D; d++) {
                    dva[d] += p * orow[d];
                    dka[d] += ds * qr[d];
                }
            }
        }
    }
    if (!active) return;
    for (int d = 0; d < D; d++) {
        dk[koff + d] = scale * dka[d];
        dv[koff + d] = dva[d];
    }
}

// ------------------------------------------------ device-resident extras
// Used by the device-buffer layer (devbuf.go), whose operands already live
// on the device.

// axpy: y += alpha·x, the product and the sum each rounded (no fused
// multiply-add), as the host loop does.
extern "C" __global__ void axpy(float* y, const float* x, long long n, float alpha) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        y[i] = __fadd_rn(y[i], __fmul_rn(alpha, x[i]));
}

// scale: x *= alpha.
extern "C" __global__ void scale(float* x, long long n, float alpha) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        x[i] = __fmul_rn(x[i], alpha);
}

// embedding_bwd_ids: dtable[ids[i], j] += dout[i, j] for i < n, on the
// device ids directly. Thread (j, slot) owns the ids congruent to slot
// modulo gridDim.y and walks i in increasing order, one float32 addition
// per i: every (id, j) sums exactly as the sequential loop of kernels/ref.
extern "C" __global__ void embedding_bwd_ids(float* dtable, const float* dout, const int* ids,
                                             int n, int dim) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    const int slot = blockIdx.y, slots = gridDim.y;
    if (j >= dim) return;
    for (int i = 0; i < n; i++) {
        const int id = ids[i];
        if (id % slots != slot) continue;
        const long long o = (long long)id * dim + j;
        dtable[o] = __fadd_rn(dtable[o], dout[(long long)i * dim + j]);
    }
}

__device__ __forceinline__ double warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

// reduce_partial: block b sums (in double) x[i] (or x[i]², squares != 0)
// over i = b·blockDim.x + threadIdx.x + k·gridDim.x·blockDim.x, then
// reduces its threads in a fixed pattern into part[b]. The host fixes the
// grid from n, so the order, and the result, depend on n only.
extern "C" __global__ void reduce_partial(double* part, const float* x, long long n, int squares) {
    __shared__ double sh[32];
    double s = 0.0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const double v = x[i];
        s += squares ? v * v : v;
    }
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    s = warp_sum_d(s);
    if (lane == 0) sh[wid] = s;
    __syncthreads();
    if (wid == 0) {
        s = warp_sum_d(lane < nw ? sh[lane] : 0.0);
        if (lane == 0) part[blockIdx.x] = s;
    }
}

// reduce_final: out[0] = Σ part[0..parts) in order, by one thread.
extern "C" __global__ void reduce_final(double* out, const double* part, int parts) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    double s = 0.0;
    for (int i = 0; i < parts; i++) s += part[i];
    out[0] = s;
}

// f32_to_bf16: out[i] = x[i] rounded to bfloat16 (round to nearest, ties
// to even; NaN stays a quiet NaN), as the operands of the bf16 GEMMs
// (Options.BF16). Written without cuda_bf16.h so NVRTC needs no headers.
extern "C" __global__ void f32_to_bf16(unsigned short* out, const float* x, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        unsigned int b = __float_as_uint(x[i]);
        if ((b & 0x7fffffffu) > 0x7f800000u) {
            out[i] = (unsigned short)((b >> 16) | 0x0040u);
        } else {
            out[i] = (unsigned short)((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
        }
    }
}
