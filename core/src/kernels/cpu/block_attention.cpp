// Causal attention of a block of queries against a block of keys and values (context
// parallelism): q[B,Tq,C], kv[B,Tk,2C], the tokens at the runs of positions q_at / k_at give.
// One (sequence, head) pair per task, as attention.cpp; within it the queries go in tiles of
// kQueryTile rows of one run (consecutive positions), and each tile meets each key run only as
// far as its last query sees: a pair of runs where every key comes after every query costs
// nothing, a pair where every query sees every key is multiplied without a mask, and only the
// pairs that straddle the diagonal are masked element by element. Under causal load balancing
// this is what gives every context rank the same number of score products.
//
// The products are single-threaded sgemm calls on strided views (the pairs already occupy every
// core). The tile's scores live in a per-thread buffer made once per call in the parallel region
// (a few hundred KiB at most; the products cost far more than the allocation).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/vector_math.h"

namespace trellis::cpu {

namespace {

constexpr int kQueryTile = 32;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The heads of q[B,Tq,C] and kv[B,Tk,2C]: task bh is head bh % NH of sequence bh / NH.
struct Heads {
  int heads, channels, size;  // NH, C, hs = C / NH
  float scale;                // 1 / sqrt(hs)
  std::int64_t queries, keys;
  int ld_kv;  // 2C

  Heads(const TokenPositions& q_at, const TokenPositions& k_at, int C, int NH)
      : heads(NH),
        channels(C),
        size(C / NH),
        scale(1.0f / std::sqrt(static_cast<float>(C / NH))),
        queries(q_at.tokens()),
        keys(k_at.tokens()),
        ld_kv(2 * C) {}
  // Where task bh's head starts in q (and out, dout, dq) and in kv (and dkv).
  std::int64_t q_offset(int bh) const {
    return bh / heads * queries * channels + bh % heads * size;
  }
  std::int64_t kv_offset(int bh) const { return bh / heads * keys * ld_kv + bh % heads * size; }
};

// A key run as one tile of queries meets it: the run's first row in kv, its first position, and
// how many of its keys the tile's last query sees (the columns the tile multiplies).
struct KeyRun {
  std::int64_t row = 0;
  std::int64_t start = 0;
  int columns = 0;
  // The keys of this run that the query at `position` sees: a prefix of the columns.
  int visible(std::int64_t position) const {
    return static_cast<int>(std::clamp<std::int64_t>(position - start + 1, 0, columns));
  }
};

// One tile of consecutive query positions against every key run of k_at.
struct QueryTile {
  std::int64_t row = 0;       // first query row in q
  std::int64_t position = 0;  // its position
  int rows = 0;
  KeyRun keys[TokenPositions::kMaxRuns];
  int key_runs = 0;
  bool any_visible = false;

  QueryTile(const TokenPositions& k_at, std::int64_t first_row, std::int64_t first_position,
            int tile_rows)
      : row(first_row), position(first_position), rows(tile_rows), key_runs(k_at.runs) {
    const std::int64_t last = first_position + tile_rows - 1;
    std::int64_t key_row = 0;
    for (int r = 0; r < k_at.runs; ++r) {
      keys[r].row = key_row;
      keys[r].start = k_at.start[r];
      keys[r].columns =
          static_cast<int>(std::clamp<std::int64_t>(last - k_at.start[r] + 1, 0, k_at.length[r]));
      any_visible = any_visible || keys[r].columns > 0;
      key_row += k_at.length[r];
    }
  }
  // Whether every query of the tile sees every column of run r (no mask needed).
  bool unmasked(int r) const { return keys[r].visible(position) == keys[r].columns; }
};

// Calls f(tile) for the query tiles of q_at, in row order.
template <class F>
void for_each_query_tile(const TokenPositions& q_at, const TokenPositions& k_at, F&& f) {
  std::int64_t row = 0;
  for (int r = 0; r < q_at.runs; ++r) {
    for (std::int64_t first = 0; first < q_at.length[r]; first += kQueryTile) {
      const int rows = static_cast<int>(std::min<std::int64_t>(kQueryTile, q_at.length[r] - first));
      f(QueryTile(k_at, row + first, q_at.start[r] + first, rows));
    }
    row += q_at.length[r];
  }
}

// scores[rows, Tk] (leading dimension Tk) = scale * q_tile k_run^T for the tile's columns of
// every key run, q and k at the head's first channel; masked columns of the diagonal pairs are
// set to -inf.
void tile_scores(const QueryTile& tile, const Heads& heads, const float* q, const float* k,
                 float* scores) {
  const int Tk = static_cast<int>(heads.keys), ld_q = heads.channels, ld_kv = heads.ld_kv;
  for (int r = 0; r < tile.key_runs; ++r) {
    const KeyRun& run = tile.keys[r];
    if (run.columns == 0) continue;
    float* s = scores + run.row;
    sgemm(false, true, tile.rows, run.columns, heads.size, heads.scale, q + tile.row * ld_q, ld_q,
          k + run.row * ld_kv, ld_kv, 0.0f, s, Tk);
    if (tile.unmasked(r)) continue;
    for (int i = 0; i < tile.rows; ++i) {
      float* row = s + static_cast<std::int64_t>(i) * Tk;
      for (int j = run.visible(tile.position + i); j < run.columns; ++j) row[j] = kNegInf;
    }
  }
}

}  // namespace

void attention_block_forward(const float* q, const float* kv, const TokenPositions& q_at,
                             const TokenPositions& k_at, float* out, float* lse, bool merge, int B,
                             int C, int NH) {
  const Heads heads(q_at, k_at, C, NH);
  const int hs = heads.size, Tk = static_cast<int>(heads.keys), ld_kv = heads.ld_kv;
#pragma omp parallel
  {
    std::vector<float> scores(static_cast<std::size_t>(kQueryTile) * Tk);
    std::vector<float> tile_out(static_cast<std::size_t>(kQueryTile) * hs);
    float tile_lse[kQueryTile];
#pragma omp for schedule(static)
    for (int bh = 0; bh < B * NH; ++bh) {
      const float* qh = q + heads.q_offset(bh);
      const float* kh = kv + heads.kv_offset(bh);
      const float* vh = kh + C;
      float* oh = out + heads.q_offset(bh);
      float* lh = lse + static_cast<std::int64_t>(bh) * heads.queries;
      for_each_query_tile(q_at, k_at, [&](const QueryTile& tile) {
        float* o = oh + tile.row * C;
        float* l = lh + tile.row;
        if (!tile.any_visible) {  // every key after every query: nothing to add
          if (merge) return;
          for (int i = 0; i < tile.rows; ++i) {
            std::fill_n(o + static_cast<std::int64_t>(i) * C, hs, 0.0f);
            l[i] = kNegInf;
          }
          return;
        }
        tile_scores(tile, heads, qh, kh, scores.data());
        // Softmax over each row's visible columns, normalised; lse = max + log(sum).
        for (int i = 0; i < tile.rows; ++i) {
          float* row = scores.data() + static_cast<std::int64_t>(i) * Tk;
          float max = kNegInf;
          for (int r = 0; r < tile.key_runs; ++r) {
            const KeyRun& run = tile.keys[r];
            const int n = run.visible(tile.position + i);
            if (n > 0) max = std::max(max, vmax(row + run.row, n));
          }
          float sum = 0.0f;
          for (int r = 0; r < tile.key_runs; ++r) {
            const KeyRun& run = tile.keys[r];
            float* s = row + run.row;
            const int n = run.visible(tile.position + i);
#pragma omp simd reduction(+ : sum)
            for (int j = 0; j < n; ++j) {
              const float e = vexp(s[j] - max);
              s[j] = e;
              sum += e;
            }
            std::fill(s + n, s + run.columns, 0.0f);
          }
          if (max == kNegInf) {  // no visible key: a row of zeros
            tile_lse[i] = kNegInf;
            continue;
          }
          tile_lse[i] = max + std::log(sum);  // sum >= 1: the largest term is exp(0)
          const float inv = 1.0f / sum;
          for (int r = 0; r < tile.key_runs; ++r) {
            float* s = row + tile.keys[r].row;
#pragma omp simd
            for (int j = 0; j < tile.keys[r].columns; ++j) s[j] *= inv;
          }
        }
        // tile_out = P v over each run's columns.
        float beta = 0.0f;
        for (int r = 0; r < tile.key_runs; ++r) {
          const KeyRun& run = tile.keys[r];
          if (run.columns == 0) continue;
          sgemm(false, false, tile.rows, hs, run.columns, 1.0f, scores.data() + run.row, Tk,
                vh + run.row * ld_kv, ld_kv, beta, tile_out.data(), hs);
          beta = 1.0f;
        }
        // Into out: written, or merged with what it holds by the online softmax rule.
        for (int i = 0; i < tile.rows; ++i) {
          const float* t = tile_out.data() + static_cast<std::int64_t>(i) * hs;
          float* oi = o + static_cast<std::int64_t>(i) * C;
          const float new_lse = tile_lse[i];
          const float old_lse = merge ? l[i] : kNegInf;
          if (new_lse == kNegInf) {  // this row sees none of these keys
            if (!merge) {
              std::fill_n(oi, hs, 0.0f);
              l[i] = kNegInf;
            }
            continue;
          }
          if (old_lse == kNegInf) {
            std::copy_n(t, hs, oi);
            l[i] = new_lse;
            continue;
          }
          // lse = log(exp(old) + exp(new)); each side weighted by its share of the sum.
          const float top = std::max(old_lse, new_lse);
          const float merged = top + std::log1p(std::exp(-std::abs(old_lse - new_lse)));
          const float w_old = std::exp(old_lse - merged), w_new = std::exp(new_lse - merged);
#pragma omp simd
          for (int d = 0; d < hs; ++d) oi[d] = w_old * oi[d] + w_new * t[d];
          l[i] = merged;
        }
      });
    }
  }
}

void attention_block_backward(const float* dout, const float* q, const float* kv,
                              const TokenPositions& q_at, const TokenPositions& k_at,
                              const float* out, const float* lse, float* dq, float* dkv, int B,
                              int C, int NH) {
  const Heads heads(q_at, k_at, C, NH);
  const int hs = heads.size, Tk = static_cast<int>(heads.keys), ld_kv = heads.ld_kv;
  const float scale = heads.scale;
#pragma omp parallel
  {
    // The tile's probabilities P and score gradients dS, [kQueryTile, Tk] each.
    std::vector<float> probs(static_cast<std::size_t>(kQueryTile) * Tk);
    std::vector<float> dscores(static_cast<std::size_t>(kQueryTile) * Tk);
    float row_dot[kQueryTile];
#pragma omp for schedule(static)
    for (int bh = 0; bh < B * NH; ++bh) {
      const std::int64_t q_base = heads.q_offset(bh), kv_base = heads.kv_offset(bh);
      const float* qh = q + q_base;
      const float* oh = out + q_base;
      const float* doh = dout + q_base;
      float* dqh = dq + q_base;
      const float* kh = kv + kv_base;
      const float* vh = kh + C;
      float* dkh = dkv + kv_base;
      float* dvh = dkh + C;
      const float* lh = lse + static_cast<std::int64_t>(bh) * heads.queries;
      for_each_query_tile(q_at, k_at, [&](const QueryTile& tile) {
        if (!tile.any_visible) return;
        const float* l = lh + tile.row;
        const float* qt = qh + tile.row * C;
        const float* dot = doh + tile.row * C;
        // D_i = dO_i . out_i: the row sum of P * dP over every block of keys.
        for (int i = 0; i < tile.rows; ++i) {
          const float* a = dot + static_cast<std::int64_t>(i) * C;
          const float* o = oh + (tile.row + i) * C;
          float d = 0.0f;
#pragma omp simd reduction(+ : d)
          for (int c = 0; c < hs; ++c) d += a[c] * o[c];
          row_dot[i] = l[i] == kNegInf ? 0.0f : d;  // such a row's P is 0: keep dS finite
        }
        // P = exp(s - lse) on the visible columns (masked ones are -inf, and vexp gives 0), 0 for
        // a row that sees no key anywhere.
        tile_scores(tile, heads, qh, kh, probs.data());
        for (int i = 0; i < tile.rows; ++i) {
          float* row = probs.data() + static_cast<std::int64_t>(i) * Tk;
          const float li = l[i];
          for (int r = 0; r < tile.key_runs; ++r) {
            float* s = row + tile.keys[r].row;
            const int n = tile.keys[r].columns;
            if (li == kNegInf) {
              std::fill_n(s, n, 0.0f);
              continue;
            }
#pragma omp simd
            for (int j = 0; j < n; ++j) s[j] = vexp(s[j] - li);
          }
        }
        for (int r = 0; r < tile.key_runs; ++r) {
          const KeyRun& run = tile.keys[r];
          if (run.columns == 0) continue;
          const float* p = probs.data() + run.row;
          float* ds = dscores.data() + run.row;
          const float* kr = kh + run.row * ld_kv;
          const float* vr = vh + run.row * ld_kv;
          // dV_run += P^T dO; dP = dO V_run^T
          sgemm(true, false, run.columns, hs, tile.rows, 1.0f, p, Tk, dot, C, 1.0f,
                dvh + run.row * ld_kv, ld_kv);
          sgemm(false, true, tile.rows, run.columns, hs, 1.0f, dot, C, vr, ld_kv, 0.0f, ds, Tk);
          // dS = P (dP - D): zero where P is (masked columns, rows that see nothing).
          for (int i = 0; i < tile.rows; ++i) {
            const float* pi = p + static_cast<std::int64_t>(i) * Tk;
            float* di = ds + static_cast<std::int64_t>(i) * Tk;
            const float d = row_dot[i];
#pragma omp simd
            for (int j = 0; j < run.columns; ++j) di[j] = pi[j] * (di[j] - d);
          }
          // dQ_tile += scale dS K_run; dK_run += scale dS^T Q_tile
          sgemm(false, false, tile.rows, hs, run.columns, scale, ds, Tk, kr, ld_kv, 1.0f,
                dqh + tile.row * C, C);
          sgemm(true, false, run.columns, hs, tile.rows, scale, ds, Tk, qt, C, 1.0f,
                dkh + run.row * ld_kv, ld_kv);
        }
      });
    }
  }
}

void copy_columns(const float* src, std::int64_t src_width, std::int64_t src_col, float* dst,
                  std::int64_t dst_width, std::int64_t dst_col, std::int64_t rows,
                  std::int64_t width) {
  const std::size_t bytes = static_cast<std::size_t>(width) * sizeof(float);
#pragma omp parallel for schedule(static) if (rows * width > 65536)
  for (std::int64_t n = 0; n < rows; ++n) {
    std::memcpy(dst + n * dst_width + dst_col, src + n * src_width + src_col, bytes);
  }
}

}  // namespace trellis::cpu
