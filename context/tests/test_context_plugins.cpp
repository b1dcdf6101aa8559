// The context plugins through the registry, in one process: a2a's check of the heads, the
// plugins' refusals of a group and chunks that disagree or of tensors of the wrong shape, and a
// context group of one, where each mode is the single-rank attention (ring and allgather within
// float32 bounds, a2a bit for bit). The multi-rank proofs are context_probe's.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "attention_bound.h"
#include "error_bound.h"
#include "kernels/cpu/cpu_kernels.h"
#include "launch/rank_environment.h"
#include "launch/world.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

using namespace trellis;
namespace numerics = trellis::test::numerics;

namespace {

const PluginRegistry& registry() {
  static const PluginRegistry r =
      PluginRegistry::discover({{CONTEXT_TEST_PLUGIN_DIR, "test_context_plugins"}});
  return r;
}

RunQuery query(std::int64_t heads, int tensor, int context) {
  static const Options no_options;
  RunQuery q;
  q.dims.heads = heads;
  q.dims.hidden = heads * 8;
  q.dims.seq_len = 64;
  q.dims.max_seq_len = 64;
  q.dims.layers = 2;
  q.dims.vocab_size = q.dims.padded_vocab = 128;
  q.sizes.tensor = tensor;
  q.sizes.context = context;
  q.options = &no_options;
  return q;
}

// The only problem of a2a's check for this run.
ConfigProblem a2a_problem(std::int64_t heads, int tensor, int context) {
  const std::vector<ConfigProblem> problems =
      registry().check(PluginKind::context, "a2a", query(heads, tensor, context));
  REQUIRE(problems.size() == 1);
  return problems.front();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Tensor random_tensor(const Shape& shape, std::mt19937& rng) {
  Tensor t = Tensor::empty(shape, DType::f32, make_cpu_allocator());
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = normal(rng);
  return t;
}

Tensor filled(const Shape& shape, float value) {
  Tensor t = Tensor::empty(shape, DType::f32, make_cpu_allocator());
  std::fill_n(t.data<float>(), t.numel(), value);
  return t;
}

std::vector<float> values(const Tensor& t) {
  return {t.data<float>(), t.data<float>() + t.numel()};
}

// A context group of one: the world of a lone process.
std::shared_ptr<Communicator> lone_group() {
  return create_world(registry(), "mpi", Options{}, RankEnvironment{}, std::chrono::seconds(10));
}

struct Made {
  std::shared_ptr<Communicator> group;
  std::shared_ptr<Kernels> kernels;
  std::shared_ptr<ContextAttention> attention;
};

Made make(const std::string& mode, ContextChunks chunks) {
  Made m{lone_group(), make_cpu_kernels(1), nullptr};
  ContextInit init;
  init.context = m.group.get();
  init.chunks = chunks;
  init.kernels = m.kernels.get();
  init.allocator = make_cpu_allocator();
  static const Options no_options;
  init.options = &no_options;
  m.attention = registry().make_context(mode, init);
  return m;
}

}  // namespace

TEST_CASE("a2a refuses heads that tensor x context ranks cannot share, naming both numbers") {
  const ConfigProblem p = a2a_problem(6, 1, 4);
  CHECK(p.key == "parallel.context");
  CHECK(contains(p.message, "model.heads = 6"));
  CHECK(contains(p.message, "tensor (1) x context (4) = 4"));
  CHECK(contains(p.message, "context can be one of 1, 2, 3, 6"));
  // The tensor shard's heads are dealt out again: 12 heads over tensor 2 leave 6 per rank.
  CHECK(contains(a2a_problem(12, 2, 4).message, "context can be one of 1, 2, 3, 6"));
  // Heads the tensor group alone cannot split.
  CHECK(contains(a2a_problem(6, 4, 2).message, "tensor x context must divide 6"));
  for (auto [heads, tensor, context] :
       {std::tuple{8, 2, 4}, std::tuple{12, 2, 3}, std::tuple{4, 1, 4}, std::tuple{5, 1, 1}}) {
    CAPTURE(heads);
    CAPTURE(context);
    CHECK(registry().check(PluginKind::context, "a2a", query(heads, tensor, context)).empty());
  }
}

TEST_CASE("ring and allgather take any heads") {
  for (const char* mode : {"ring", "allgather"}) {
    CHECK(registry().check(PluginKind::context, mode, query(6, 1, 4)).empty());
  }
}

TEST_CASE("a plugin refuses chunks that are not its group's, and tensors of the wrong shape") {
  for (const char* mode : {"ring", "allgather", "a2a"}) {
    CAPTURE(mode);
    // Chunks of a group of two, on a group of one.
    CHECK_THROWS_WITH_AS(make(mode, ContextChunks{16, 2, 1}),
                         doctest::Contains("chunks are those of rank 1 of 2"), Error);
    Made m = make(mode, ContextChunks{16, 1, 0});
    // Tokens of another length than the chunks' 16.
    CHECK_THROWS_WITH_AS(
        m.attention->forward(filled({2, 8, 48}, 0.0f), 2, filled({2, 8, 16}, 0.0f), false),
        doctest::Contains("qkv is f32[2, 8, 48]"), Error);
    CHECK_THROWS_WITH_AS(
        m.attention->forward(filled({2, 16, 48}, 0.0f), 2, filled({2, 16, 48}, 0.0f), false),
        doctest::Contains("out is f32[2, 16, 48]"), Error);
  }
}

TEST_CASE("a context group of one is the single-rank attention") {
  const int B = 2, T = 24, C = 32, NH = 4;
  std::mt19937 rng(5);
  const Tensor qkv = random_tensor({B, T, 3 * C}, rng), dout = random_tensor({B, T, C}, rng);
  auto kernels = make_cpu_kernels(1);
  const Tensor want_out = filled({B, T, C}, 0.0f), probs = filled({B, NH, T, T}, 0.0f);
  const Tensor want_dqkv = filled({B, T, 3 * C}, 0.0f);
  kernels->attention_forward(qkv, NH, want_out, probs);
  kernels->attention_backward(dout, qkv, probs, NH, want_dqkv);
  const numerics::AttentionReference ref =
      numerics::attention_reference(values(qkv), values(dout), B, T, C, NH);
  // Each within its bound of the exact values: the blocks' kernel and attention_forward's.
  const numerics::AttentionBounds bound = numerics::attention_bounds(ref, 0);
  auto twice = [](std::vector<double> b) {
    for (double& x : b) x *= 2;
    return b;
  };
  for (const char* mode : {"ring", "allgather", "a2a"}) {
    CAPTURE(mode);
    Made m = make(mode, ContextChunks{T, 1, 0});
    const Tensor out = filled({B, T, C}, std::nanf("")),
                 dqkv = filled({B, T, 3 * C}, std::nanf(""));
    auto stash = m.attention->forward(qkv, NH, out, true);
    REQUIRE(stash != nullptr);
    m.attention->backward(dout, qkv, NH, *stash, dqkv);
    if (std::string(mode) == "a2a") {
      CHECK(std::memcmp(out.data_ptr(), want_out.data_ptr(), out.nbytes()) == 0);
      CHECK(std::memcmp(dqkv.data_ptr(), want_dqkv.data_ptr(), dqkv.nbytes()) == 0);
    } else {
      for (auto [what, got, want, b] : {std::tuple{"out", out, want_out, twice(bound.out)},
                                        std::tuple{"dqkv", dqkv, want_dqkv, twice(bound.dqkv)}}) {
        const numerics::Comparison c =
            numerics::compare(std::span<const float>(values(got)),
                              std::span<const float>(values(want)), std::span<const double>(b));
        numerics::report("test_context_plugins", std::string(mode) + " " + what, c);
        CHECK_MESSAGE(c.ok(), what << ": " << c.describe());
      }
    }
    CHECK(m.attention->forward(qkv, NH, out, false) == nullptr);
  }
}
