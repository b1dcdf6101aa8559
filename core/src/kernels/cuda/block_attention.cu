// The block-attention kernels on CUDA devices (context parallelism; the contract is Kernels',
// the CPU version kernels/cpu/block_attention.cpp). One block of kBlock threads per (sequence,
// head, query row), walking the keys that row sees in tiles of kBlock, one key per thread: the
// keys after the query are never visited, so a block of keys that are all in the future costs a
// launch and nothing more. Simple rather than fast: the score dot products read a key row per
// thread (uncoalesced), and the backward adds each key's gradient with atomicAdd.
#include <cmath>

#include "device/cuda_check.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace trellis::cuda {

namespace {

// The heads of q[B,Tq,C] and kv[B,Tk,2C]; block x is query row x % Tq of head (x / Tq) % NH of
// sequence x / (Tq * NH).
struct Heads {
  int heads, channels, size;  // NH, C, hs
  float scale;                // 1 / sqrt(hs)
  std::int64_t queries, keys;
};

// The position of a block's row-th token.
__device__ std::int64_t position_of(const TokenPositions& at, std::int64_t row) {
  for (int r = 0; r < at.runs; ++r) {
    if (row < at.length[r]) return at.start[r] + row;
    row -= at.length[r];
  }
  return -1;  // unreachable: row < tokens()
}

// The keys of run r that the query at `position` sees: a prefix of the run.
__device__ std::int64_t visible_keys(const TokenPositions& at, int r, std::int64_t position) {
  const std::int64_t n = position - at.start[r] + 1;
  return n < 0 ? 0 : (n > at.length[r] ? at.length[r] : n);
}

// Dynamic shared memory: q row [hs], output accumulator [hs], the tile's weights [kBlock].
__global__ void block_forward_kernel(const float* q, const float* kv, TokenPositions q_at,
                                     TokenPositions k_at, float* out, float* lse, bool merge,
                                     Heads h) {
  extern __shared__ float shared[];
  float* qi = shared;
  float* acc = qi + h.size;
  float* weights = acc + h.size;
  const std::int64_t i = blockIdx.x % h.queries, bh = blockIdx.x / h.queries;
  const std::int64_t b = bh / h.heads, head = bh % h.heads;
  const std::int64_t position = position_of(q_at, i);
  float* o = out + (b * h.queries + i) * h.channels + head * h.size;
  const float* qrow = q + (b * h.queries + i) * h.channels + head * h.size;
  const float* kh = kv + b * h.keys * 2 * h.channels + head * h.size;
  for (int d = threadIdx.x; d < h.size; d += blockDim.x) {
    qi[d] = qrow[d];
    acc[d] = 0.0f;
  }
  __syncthreads();
  // The online softmax over tiles: running max m and sum l, acc = sum of exp(s - m) v.
  float m = -INFINITY, l = 0.0f;
  std::int64_t key_row = 0;
  for (int r = 0; r < k_at.runs; ++r) {
    const std::int64_t visible = visible_keys(k_at, r, position);
    for (std::int64_t first = 0; first < visible; first += blockDim.x) {
      const int n = static_cast<int>(min(static_cast<std::int64_t>(blockDim.x), visible - first));
      const float* tile = kh + (key_row + first) * 2 * h.channels;
      float s = -INFINITY;
      if (static_cast<int>(threadIdx.x) < n) {
        const float* k = tile + threadIdx.x * 2 * h.channels;
        float dot = 0.0f;
        for (int d = 0; d < h.size; ++d) dot += qi[d] * k[d];
        s = dot * h.scale;
      }
      // block_max synchronises: the previous tile's weights have been read.
      const float m_new = fmaxf(m, block_max(s));
      const float e = static_cast<int>(threadIdx.x) < n ? expf(s - m_new) : 0.0f;
      weights[threadIdx.x] = e;
      const float correction = expf(m - m_new);  // 0 for the first tile (m = -inf)
      l = l * correction + block_sum(e);         // synchronises: weights are visible
      for (int d = threadIdx.x; d < h.size; d += blockDim.x) {
        float sum = 0.0f;
        for (int j = 0; j < n; ++j) sum += weights[j] * tile[j * 2 * h.channels + h.channels + d];
        acc[d] = acc[d] * correction + sum;
      }
      m = m_new;
    }
    key_row += k_at.length[r];
  }
  float* lse_i = lse + bh * h.queries + i;
  const float old_lse = merge ? *lse_i : -INFINITY;
  __syncthreads();       // every thread has read lse before it is written
  if (m == -INFINITY) {  // this row sees none of these keys
    if (!merge) {
      for (int d = threadIdx.x; d < h.size; d += blockDim.x) o[d] = 0.0f;
      if (threadIdx.x == 0) *lse_i = -INFINITY;
    }
    return;
  }
  const float new_lse = m + logf(l);
  if (old_lse == -INFINITY) {
    for (int d = threadIdx.x; d < h.size; d += blockDim.x) o[d] = acc[d] / l;
    if (threadIdx.x == 0) *lse_i = new_lse;
    return;
  }
  // lse = log(exp(old) + exp(new)); each side weighted by its share of the sum.
  const float merged = fmaxf(old_lse, new_lse) + log1pf(expf(-fabsf(old_lse - new_lse)));
  const float w_old = expf(old_lse - merged), w_new = expf(new_lse - merged) / l;
  for (int d = threadIdx.x; d < h.size; d += blockDim.x) o[d] = w_old * o[d] + w_new * acc[d];
  if (threadIdx.x == 0) *lse_i = merged;
}

// Dynamic shared memory: q row, dout row, dq accumulator [hs each], P and dS of the tile
// [kBlock each].
__global__ void block_backward_kernel(const float* dout, const float* q, const float* kv,
                                      TokenPositions q_at, TokenPositions k_at, const float* out,
                                      const float* lse, float* dq, float* dkv, Heads h) {
  extern __shared__ float shared[];
  float* qi = shared;
  float* doi = qi + h.size;
  float* dq_acc = doi + h.size;
  float* probs = dq_acc + h.size;
  float* dscores = probs + blockDim.x;
  const std::int64_t i = blockIdx.x % h.queries, bh = blockIdx.x / h.queries;
  const std::int64_t b = bh / h.heads, head = bh % h.heads;
  const float lse_i = lse[bh * h.queries + i];
  if (lse_i == -INFINITY) return;  // the row sees no key anywhere: nothing to add
  const std::int64_t position = position_of(q_at, i);
  const std::int64_t row = (b * h.queries + i) * h.channels + head * h.size;
  const std::int64_t kv_head = b * h.keys * 2 * h.channels + head * h.size;
  // D = dO . out: the row sum of P * dP over every block of keys.
  float partial = 0.0f;
  for (int d = threadIdx.x; d < h.size; d += blockDim.x) {
    qi[d] = q[row + d];
    doi[d] = dout[row + d];
    dq_acc[d] = 0.0f;
    partial += doi[d] * out[row + d];
  }
  const float D = block_sum(partial);  // synchronises: qi and doi are visible
  std::int64_t key_row = 0;
  for (int r = 0; r < k_at.runs; ++r) {
    const std::int64_t visible = visible_keys(k_at, r, position);
    for (std::int64_t first = 0; first < visible; first += blockDim.x) {
      const int n = static_cast<int>(min(static_cast<std::int64_t>(blockDim.x), visible - first));
      const std::int64_t tile = kv_head + (key_row + first) * 2 * h.channels;
      float p = 0.0f, ds = 0.0f;
      if (static_cast<int>(threadIdx.x) < n) {
        const float* k = kv + tile + threadIdx.x * 2 * h.channels;
        const float* v = k + h.channels;
        float s = 0.0f, dp = 0.0f;
        for (int d = 0; d < h.size; ++d) {
          s += qi[d] * k[d];
          dp += doi[d] * v[d];
        }
        p = expf(s * h.scale - lse_i);
        ds = p * (dp - D);
      }
      __syncthreads();  // the previous tile's P and dS have been read
      probs[threadIdx.x] = p;
      dscores[threadIdx.x] = ds;
      __syncthreads();
      // dQ_i += scale sum_j dS_j K_j
      for (int d = threadIdx.x; d < h.size; d += blockDim.x) {
        float sum = 0.0f;
        for (int j = 0; j < n; ++j) sum += dscores[j] * kv[tile + j * 2 * h.channels + d];
        dq_acc[d] += h.scale * sum;
      }
      // dK_j += scale dS_j Q_i, dV_j += P_j dO_i: other query rows add to the same keys.
      for (int e = threadIdx.x; e < n * h.size; e += blockDim.x) {
        const int j = e / h.size, d = e % h.size;
        float* dk = dkv + tile + j * 2 * h.channels + d;
        atomicAdd(dk, h.scale * dscores[j] * qi[d]);
        atomicAdd(dk + h.channels, probs[j] * doi[d]);
      }
    }
    key_row += k_at.length[r];
  }
  // One block per query row: its dq is this block's alone.
  for (int d = threadIdx.x; d < h.size; d += blockDim.x) dq[row + d] += dq_acc[d];
}

__global__ void copy_columns_kernel(const float* src, std::int64_t src_width, std::int64_t src_col,
                                    float* dst, std::int64_t dst_width, std::int64_t dst_col,
                                    std::int64_t rows, std::int64_t width) {
  const std::int64_t n = rows * width;
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t row = e / width, j = e % width;
    dst[row * dst_width + dst_col + j] = src[row * src_width + src_col + j];
  }
}

Heads heads_of(const TokenPositions& q_at, const TokenPositions& k_at, int C, int NH) {
  const int hs = C / NH;
  return {NH, C, hs, 1.0f / std::sqrt(static_cast<float>(hs)), q_at.tokens(), k_at.tokens()};
}

}  // namespace

void attention_block_forward(const float* q, const float* kv, const TokenPositions& q_at,
                             const TokenPositions& k_at, float* out, float* lse, bool merge, int B,
                             int C, int NH) {
  const Heads h = heads_of(q_at, k_at, C, NH);
  const std::int64_t rows = static_cast<std::int64_t>(B) * NH * h.queries;
  if (rows == 0) return;
  const std::size_t shared = (2 * static_cast<std::size_t>(h.size) + kBlock) * sizeof(float);
  block_forward_kernel<<<static_cast<unsigned>(rows), kBlock, shared, compute_stream()>>>(
      q, kv, q_at, k_at, out, lse, merge, h);
  check_launch("attention_block_forward");
}

void attention_block_backward(const float* dout, const float* q, const float* kv,
                              const TokenPositions& q_at, const TokenPositions& k_at,
                              const float* out, const float* lse, float* dq, float* dkv, int B,
                              int C, int NH) {
  const Heads h = heads_of(q_at, k_at, C, NH);
  const std::int64_t rows = static_cast<std::int64_t>(B) * NH * h.queries;
  if (rows == 0) return;
  const std::size_t shared = (3 * static_cast<std::size_t>(h.size) + 2 * kBlock) * sizeof(float);
  block_backward_kernel<<<static_cast<unsigned>(rows), kBlock, shared, compute_stream()>>>(
      dout, q, kv, q_at, k_at, out, lse, dq, dkv, h);
  check_launch("attention_block_backward");
}

void copy_columns(const float* src, std::int64_t src_width, std::int64_t src_col, float* dst,
                  std::int64_t dst_width, std::int64_t dst_col, std::int64_t rows,
                  std::int64_t width) {
  if (rows * width == 0) return;
  copy_columns_kernel<<<grid_for(rows * width), kBlock, 0, compute_stream()>>>(
      src, src_width, src_col, dst, dst_width, dst_col, rows, width);
  check_launch("copy_columns");
}

}  // namespace trellis::cuda
