// Test plugin "grid-check": a layer family of identity layers whose check() accepts square
// tensor-parallel sizes only, like a 2D family. Enough to test check() and make_layers().
#include "trellis/plugin.h"

namespace {

class IdentityLayer final : public trellis::Layer {
 public:
  std::string_view name() const override { return "identity"; }
  std::vector<trellis::Parameter*> parameters() override { return {}; }
  trellis::Tensor forward(const trellis::Microbatch&, const trellis::Tensor& input) override {
    return input;
  }
  trellis::Tensor backward_input(const trellis::Microbatch&,
                                 const trellis::Tensor& grad_output) override {
    return grad_output;
  }
  void backward_weight(const trellis::Microbatch&) override {}
};

class IdentityFamily final : public trellis::LayerFamily {
 public:
  explicit IdentityFamily(const trellis::LayerFamilyInit& init) : init_(init) {}

  trellis::Shape activation_shape() const override {
    return {init_.micro_batch, init_.dims.seq_len, init_.dims.hidden};
  }
  std::unique_ptr<trellis::Layer> make_embedding() override {
    return std::make_unique<IdentityLayer>();
  }
  std::unique_ptr<trellis::Layer> make_block(int) override {
    return std::make_unique<IdentityLayer>();
  }
  std::unique_ptr<trellis::Layer> make_final_norm() override {
    return std::make_unique<IdentityLayer>();
  }
  std::unique_ptr<trellis::Layer> make_head(trellis::Layer*) override {
    return std::make_unique<IdentityLayer>();
  }

 private:
  trellis::LayerFamilyInit init_;
};

std::unique_ptr<trellis::LayerFamily> make(const trellis::LayerFamilyInit& init) {
  return std::make_unique<IdentityFamily>(init);
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& query) {
  std::vector<trellis::ConfigProblem> problems;
  // The contract says options is never null here; a test relies on this plugin noticing if it is.
  if (query.options == nullptr) problems.push_back({"plugins", "check received no options"});
  if (!trellis::TensorGrid::is_square(query.sizes.tensor)) {
    problems.push_back(
        {"parallel.tensor", "grid-check needs a square tensor size (1, 4, 9, ...), not " +
                                std::to_string(query.sizes.tensor)});
  }
  return problems;
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::layers,
    .name = "grid-check",
    .version = "0.4.0",
    .summary = "identity layers that need a square tensor size",
    .make_layers = &make,
    .check = &check,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
