#include "kernels/argument_checks.h"

#include <cmath>

#include "trellis/error.h"

namespace trellis {

void ArgumentChecks::fail(const char* kernel, const std::string& what) {
  throw Error(std::string("kernel ") + kernel + ": " + what);
}

void ArgumentChecks::on_device(const char* kernel, const char* name, const Tensor& t) const {
  if (!t.defined()) fail(kernel, std::string(name) + " is undefined");
  if (t.device() != device_) {
    fail(kernel, std::string(name) + " is on " + t.device().str() + ", not on the kernels' " +
                     device_.str());
  }
}

float* ArgumentChecks::f32(const char* kernel, const char* name, const Tensor& t,
                           std::int64_t numel) const {
  on_device(kernel, name, t);
  if (t.dtype() != DType::f32) fail(kernel, std::string(name) + " must be f32, got " + t.str());
  if (!t.is_contiguous()) fail(kernel, std::string(name) + " must be contiguous: " + t.str());
  if (numel >= 0 && t.numel() != numel) {
    fail(kernel, std::string(name) + " has " + std::to_string(t.numel()) + " elements, expected " +
                     std::to_string(numel) + " (" + t.str() + ")");
  }
  return t.data<float>();
}

float* ArgumentChecks::f32_optional(const char* kernel, const char* name, const Tensor& t,
                                    std::int64_t numel) const {
  return t.defined() ? f32(kernel, name, t, numel) : nullptr;
}

const std::int32_t* ArgumentChecks::i32(const char* kernel, const char* name, const Tensor& t,
                                        std::int64_t numel) const {
  on_device(kernel, name, t);
  if (t.dtype() != DType::i32 || !t.is_contiguous() || t.numel() != numel) {
    fail(kernel, std::string(name) + " must be contiguous i32 with " + std::to_string(numel) +
                     " elements, got " + t.str());
  }
  return t.data<std::int32_t>();
}

float* ArgumentChecks::positions(const char* kernel, const char* name, const Tensor& t, int T,
                                 int C) const {
  float* data = f32_optional(kernel, name, t, -1);
  if (data && (t.rank() != 2 || t.size(0) < T || t.size(1) != C)) {
    fail(kernel, std::string(name) + " " + t.str() + " does not cover " + std::to_string(T) +
                     " positions of " + std::to_string(C) + " channels");
  }
  return data;
}

int ArgumentChecks::dim(const char* kernel, const Tensor& t, int rank, int d) {
  if (t.rank() != rank) {
    fail(kernel, "expected a rank-" + std::to_string(rank) + " tensor, got " + t.str());
  }
  return static_cast<int>(t.size(d));
}

void ArgumentChecks::check_heads(const char* kernel, int channels, int heads) {
  if (heads <= 0 || channels % heads != 0) {
    fail(kernel, std::to_string(channels) + " channels do not split into " + std::to_string(heads) +
                     " heads");
  }
}

float* ArgumentChecks::f32_shaped(const char* kernel, const char* name, const Tensor& t,
                                  const Shape& shape) const {
  float* data = f32(kernel, name, t, -1);
  if (t.shape() != shape) {
    fail(kernel, std::string(name) + " is " + t.str() + ", expected the shape " + shape.str());
  }
  return data;
}

namespace {

void check_positions(const char* kernel, const char* name, const TokenPositions& at) {
  if (at.runs <= 0 || at.runs > TokenPositions::kMaxRuns) {
    ArgumentChecks::fail(kernel, std::string(name) + " has " + std::to_string(at.runs) +
                                     " runs of positions, expected 1 to " +
                                     std::to_string(TokenPositions::kMaxRuns));
  }
  for (int r = 0; r < at.runs; ++r) {
    if (at.start[r] < 0 || at.length[r] < 0) {
      ArgumentChecks::fail(kernel, std::string(name) + "'s run " + std::to_string(r) +
                                       " starts at " + std::to_string(at.start[r]) + " with " +
                                       std::to_string(at.length[r]) +
                                       " tokens: neither may be negative");
    }
  }
}

}  // namespace

ArgumentChecks::BlockAttentionShape ArgumentChecks::block_attention(
    const char* kernel, const Tensor& q, const Tensor& kv, const TokenPositions& q_at,
    const TokenPositions& k_at, int heads) const {
  check_positions(kernel, "q_at", q_at);
  check_positions(kernel, "k_at", k_at);
  const int B = dim(kernel, q, 3, 0), C = dim(kernel, q, 3, 2);
  check_heads(kernel, C, heads);
  const std::int64_t Tq = q_at.tokens(), Tk = k_at.tokens();
  f32_shaped(kernel, "q", q, {B, Tq, C});
  f32_shaped(kernel, "kv", kv, {B, Tk, 2 * static_cast<std::int64_t>(C)});
  return {B, C, Tq, Tk};
}

std::int64_t ArgumentChecks::column_copy(const char* kernel, const Tensor& src,
                                         std::int64_t src_col, const Tensor& dst,
                                         std::int64_t dst_col, std::int64_t width) const {
  f32(kernel, "src", src, -1);
  f32(kernel, "dst", dst, -1);
  const std::int64_t rows = dim(kernel, src, 2, 0);
  if (dim(kernel, dst, 2, 0) != rows) {
    fail(kernel, "src " + src.str() + " and dst " + dst.str() + " differ in rows");
  }
  auto inside = [&](const char* name, const Tensor& t, std::int64_t col) {
    if (width < 0 || col < 0 || col + width > t.size(1)) {
      fail(kernel, "columns [" + std::to_string(col) + ", " + std::to_string(col + width) +
                       ") are not inside " + name + " " + t.str());
    }
  };
  inside("src", src, src_col);
  inside("dst", dst, dst_col);
  return rows;
}

ArgumentChecks::RowsShape ArgumentChecks::rmsnorm(const char* kernel, const Tensor& x,
                                                  const Tensor& w, const Tensor& rstd) const {
  f32(kernel, "x", x, -1);
  if (x.rank() != 2) fail(kernel, "x must be 2-D [N, C], got " + x.str());
  const int n = static_cast<int>(x.size(0)), c = static_cast<int>(x.size(1));
  f32_shaped(kernel, "w", w, {c});
  f32_shaped(kernel, "rstd", rstd, {n});
  return {n, c};
}

ArgumentChecks::RowsShape ArgumentChecks::swiglu(const char* kernel, const Tensor& gate_up,
                                                 const char* name, const Tensor& half) const {
  f32(kernel, "gate_up", gate_up, -1);
  if (gate_up.rank() != 2 || gate_up.size(1) % 2 != 0) {
    fail(kernel, "gate_up must be 2-D [N, 2F] (gate, then up), got " + gate_up.str());
  }
  const int n = static_cast<int>(gate_up.size(0)), f = static_cast<int>(gate_up.size(1) / 2);
  f32_shaped(kernel, name, half, {n, f});
  return {n, f};
}

int ArgumentChecks::rotary(const char* kernel, const Tensor& x, std::int64_t col,
                           std::int64_t heads, std::int64_t head_dim, const TokenPositions& at,
                           double theta) const {
  check_positions(kernel, "at", at);
  f32(kernel, "x", x, -1);
  if (x.rank() != 3) fail(kernel, "x must be 3-D [B, T, W], got " + x.str());
  if (x.size(1) != at.tokens()) {
    fail(kernel, "x " + x.str() + " has " + std::to_string(x.size(1)) +
                     " tokens per sequence, but the positions give " + std::to_string(at.tokens()));
  }
  if (head_dim <= 0 || head_dim % 2 != 0) {
    fail(kernel,
         "head_dim must be even and positive (channel pairs), got " + std::to_string(head_dim));
  }
  if (heads < 0 || col < 0 || col + heads * head_dim > x.size(2)) {
    fail(kernel, std::to_string(heads) + " heads of " + std::to_string(head_dim) +
                     " channels from column " + std::to_string(col) + " are not inside x " +
                     x.str());
  }
  if (!(theta > 0.0) || !std::isfinite(theta)) {
    fail(kernel, "theta must be positive and finite, got " + std::to_string(theta));
  }
  return static_cast<int>(x.size(0));
}

}  // namespace trellis
