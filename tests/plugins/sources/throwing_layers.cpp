// Test plugin "thrower" (layers): a family whose calls throw what careless plugin code throws —
// a std::out_of_range from vector::at, an exception class of its own, a non-std exception — and,
// for comparison, a trellis::InputError, which core must pass on unchanged.
#include <stdexcept>
#include <vector>

#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

// An exception type whose code (and type information) lives in this library only.
class ThrowerFault : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ThrowingLayer final : public trellis::Layer {
 public:
  explicit ThrowingLayer(std::string name) : name_(std::move(name)) {}

  std::string_view name() const override { return name_; }
  std::vector<trellis::Parameter*> parameters() override { throw 42; }
  trellis::Tensor forward(const trellis::Microbatch& mb, const trellis::Tensor& input) override {
    const std::vector<int> stash(2);
    [[maybe_unused]] const int kept = stash.at(static_cast<std::size_t>(mb.id));  // id 5: throws
    return input;
  }
  trellis::Tensor backward_input(const trellis::Microbatch&, const trellis::Tensor&) override {
    throw ThrowerFault("the stash of microbatch 0 is gone");
  }
  void backward_weight(const trellis::Microbatch&) override {
    throw trellis::InputError("thrower: a message written for the user");
  }

 private:
  std::string name_;
};

class ThrowingFamily final : public trellis::LayerFamily {
 public:
  trellis::Shape activation_shape() const override { return {1, 2, 3}; }
  std::unique_ptr<trellis::Layer> make_embedding() override {
    return std::make_unique<ThrowingLayer>("thrower.embedding");
  }
  std::unique_ptr<trellis::Layer> make_block(int index) override {
    if (index >= 4) throw std::out_of_range("block " + std::to_string(index) + " of 4");
    return std::make_unique<ThrowingLayer>("thrower.block." + std::to_string(index));
  }
  std::unique_ptr<trellis::Layer> make_final_norm() override {
    return std::make_unique<ThrowingLayer>("thrower.norm");
  }
  // Like the real families, ties the head to its own embedding layer.
  std::unique_ptr<trellis::Layer> make_head(trellis::Layer* embedding) override {
    if (embedding != nullptr && dynamic_cast<ThrowingLayer*>(embedding) == nullptr) {
      throw std::logic_error("make_head got a layer this family did not make");
    }
    return std::make_unique<ThrowingLayer>("thrower.head");
  }
};

std::unique_ptr<trellis::LayerFamily> make(const trellis::LayerFamilyInit&) {
  return std::make_unique<ThrowingFamily>();
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& query) {
  if (query.sizes.tensor > 1) throw std::domain_error("tensor sizes above 1 are not handled");
  return {};
}

trellis::LayerCost describe_cost(const trellis::LayerCostQuery& query) {
  if (query.tensor > 1) throw std::domain_error("no cost for tensor sizes above 1");
  return {};
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::layers,
    .name = "thrower",
    .version = "0.0.1",
    .summary = "layers whose calls throw",
    .make_layers = &make,
    .check = &check,
    .describe_cost = &describe_cost,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
