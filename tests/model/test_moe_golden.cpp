// One forward and backward of the tiny mixture-of-experts GPT-2 against PyTorch
// (tests/golden/moe_reference.py, tiny_moe.golden): the loss (cross-entropy plus the MoE blocks'
// load-balancing loss), the aux loss, the routing counts and the gradient of every parameter,
// from the reference's initial weights, dropless and with capacity factor 1 (7 choices dropped).
// The batch is tiny_gpt2.golden's first (the same token file and windows).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "error_bound.h"
#include "golden_file.h"
#include "kernels/cpu/cpu_kernels.h"
#include "model/model_chunk.h"
#include "trellis/plugin_registry.h"

using namespace trellis;
using golden::GoldenFile;
namespace numerics = trellis::test::numerics;

namespace {

const GoldenFile& gpt_golden() {
  static const GoldenFile file = GoldenFile::load(golden::golden_path("tiny_gpt2.golden"));
  return file;
}
const GoldenFile& moe_golden() {
  static const GoldenFile file = GoldenFile::load(golden::golden_path("tiny_moe.golden"));
  return file;
}

double max_abs(const std::vector<double>& v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

// The reference's model with `prefix`'s ("dropless." or "capacity.") settings and weights.
struct TinyMoe {
  std::string prefix;
  ModelDims dims;
  std::int64_t B, T;
  std::shared_ptr<Allocator> alloc = make_cpu_allocator();
  std::shared_ptr<Kernels> kernels = make_cpu_kernels(2);
  PluginRegistry registry = PluginRegistry::discover({{TRELLIS_TEST_PLUGIN_DIR, "build tree"}});
  std::shared_ptr<LayerFamily> family;
  std::unique_ptr<ModelChunk> chunk;

  TinyMoe(std::string which, const std::string& tensor_mode) : prefix(std::move(which)) {
    const GoldenFile& g = gpt_golden();
    const GoldenFile& m = moe_golden();
    auto n = [&](const char* name) { return static_cast<std::int64_t>(g.scalar(name)); };
    dims.vocab_size = n("V");
    dims.padded_vocab = n("Vp");
    dims.max_seq_len = n("maxT");
    dims.layers = n("L");
    dims.heads = n("NH");
    dims.hidden = n("C");
    B = n("B");
    T = n("T");
    dims.seq_len = T;
    LayerFamilyInit init;
    init.dims = dims;
    init.allocator = alloc;
    init.kernels = kernels.get();
    init.micro_batch = static_cast<int>(B);
    init.moe.experts = static_cast<std::int64_t>(m.scalar("E"));
    init.moe.top_k = static_cast<std::int64_t>(m.scalar("top_k"));
    init.moe.every = static_cast<std::int64_t>(m.scalar("moe_every"));
    init.moe.aux_loss_coeff = m.scalar("aux_coeff");
    init.moe.capacity_factor = m.scalar(prefix + "capacity_factor");
    family = registry.make_layers(tensor_mode, init);
    chunk = std::make_unique<ModelChunk>(*family, chunk_spec(static_cast<int>(dims.layers), 1, 0),
                                         nullptr);
    for (Parameter* p : chunk->parameters()) {
      CAPTURE(p->name);
      const auto& want = m.tensor(prefix + "init." + p->name);
      REQUIRE(std::vector<std::int64_t>(p->global_shape.begin(), p->global_shape.end()) ==
              want.shape());
      kernels->copy(want.to_tensor(alloc), p->value);
      kernels->fill(p->grad, 0.0f);
    }
  }

  numerics::GptShape shape() const {
    return {dims.padded_vocab, dims.hidden, dims.heads, dims.layers, T, B * T};
  }

  Microbatch batch() const {
    Microbatch mb;
    mb.tokens = gpt_golden().tensor("tokens").to_tensor(alloc);
    mb.targets = gpt_golden().tensor("targets").to_tensor(alloc);
    mb.loss_scale = static_cast<float>(1.0 / static_cast<double>(B * T));
    mb.aux_loss_scale = 1.0f;  // the batch is one microbatch
    return mb;
  }
};

void check_close(const std::string& what, const float* a, const std::vector<double>& b,
                 double bound) {
  numerics::Comparison c = numerics::compare(std::span<const float>(a, b.size()), b, bound);
  numerics::report("test_moe_golden", what, c);
  INFO(what << ": " << c.describe());
  CHECK(c.ok());
}

// The routing is discrete, and compared exactly: the smallest gap between neighbours among a
// token's top_k + 1 probabilities in this batch is 1.1e-4 (tests/golden/moe_routing_margins.py),
// while a probability (at most 1) is within gamma(forward path) = 4e-5 of its exact value by the
// loss's own argument (gpt_loss_bound's factor): no choice, nor the order of a token's choices
// that capacity takes in turn, can differ from the reference's.
void check_forward_backward(TinyMoe& m) {
  const GoldenFile& g = moe_golden();
  const std::string& p = m.prefix;
  Microbatch mb = m.batch();
  Tensor loss = m.chunk->forward(mb, mb.tokens);
  const double cross_entropy = loss.data<float>()[0] / static_cast<double>(m.B * m.T);
  const MoeStatistics stats = m.family->take_moe_statistics();

  // The aux loss is, like the loss, a sum of positive terms (f_i P_i), relative to itself.
  const double want_aux = g.tensor(p + "aux").f64()[0];
  numerics::Comparison aux = numerics::compare_scalar(
      stats.aux_loss, want_aux, numerics::gpt_loss_bound(m.shape(), want_aux));
  numerics::report("test_moe_golden", p + "aux", aux);
  INFO(p << "aux: " << aux.describe());
  CHECK(aux.ok());
  const double want_loss = g.scalar(p + "loss");
  numerics::Comparison total = numerics::compare_scalar(
      cross_entropy + stats.aux_loss, want_loss, numerics::gpt_loss_bound(m.shape(), want_loss));
  numerics::report("test_moe_golden", p + "loss", total);
  INFO(p << "loss: " << total.describe());
  CHECK(total.ok());

  const std::vector<std::int32_t> routed = g.tensor(p + "routed").i32();
  CHECK(stats.routed_count == static_cast<std::int64_t>(routed.size()));
  CHECK(stats.routed_min == *std::min_element(routed.begin(), routed.end()));
  CHECK(stats.routed_max == *std::max_element(routed.begin(), routed.end()));
  std::int64_t routed_sum = 0;
  for (std::int32_t r : routed) routed_sum += r;
  CHECK(stats.routed_sum == routed_sum);
  CHECK(stats.dropped == g.tensor(p + "dropped").i32()[0]);

  m.chunk->backward(mb, Tensor());
  for (Parameter* param : m.chunk->parameters()) {
    const std::vector<double> want = g.tensor(p + "grad." + param->name).f64();
    REQUIRE(static_cast<std::int64_t>(want.size()) == param->grad.numel());
    check_close(p + "grad." + param->name, param->grad.data<float>(), want,
                numerics::gpt_gradient_bound(m.shape(), max_abs(want)));
  }
}

}  // namespace

TEST_CASE("the tiny MoE GPT-2's forward and backward match PyTorch, dropless and with capacity") {
  for (const char* mode : {"1d", "seq"}) {
    for (const char* prefix : {"dropless.", "capacity."}) {
      CAPTURE(mode);
      CAPTURE(prefix);
      TinyMoe m(prefix, mode);
      check_forward_backward(m);
    }
  }
}

TEST_CASE("a forward without training routes the same and counts nothing") {
  TinyMoe m("capacity.", "1d");
  Microbatch mb = m.batch();
  Tensor trained = m.chunk->forward(mb, mb.tokens);
  const float with_training = trained.data<float>()[0];
  m.chunk->backward(mb, Tensor());
  CHECK(m.family->take_moe_statistics().routed_count > 0);
  mb.training = false;
  CHECK(m.chunk->forward(mb, mb.tokens).data<float>()[0] == with_training);
  CHECK(m.family->take_moe_statistics().routed_count == 0);
}
