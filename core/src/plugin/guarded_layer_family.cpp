#include "plugin/guarded_layer_family.h"

#include "plugin/plugin_call.h"

namespace trellis::plugin_detail {

namespace {

// A layer's code lives in its family's library: the layer keeps the family (and so the library)
// alive until it is gone, whichever of the two core drops first.
class GuardedLayer final : public Layer {
 public:
  GuardedLayer(std::unique_ptr<Layer> inner, std::shared_ptr<LayerFamily> family,
               std::string plugin)
      : family_(std::move(family)), inner_(std::move(inner)), plugin_(std::move(plugin)) {
    name_ = plugin_call([&] { return plugin_ + ": name of a layer"; },
                        [&] { return std::string(inner_->name()); });
  }

  // The plugin's own layer: what its family's make_head expects as the embedding.
  Layer* inner() const noexcept { return inner_.get(); }

  std::string_view name() const override { return name_; }
  std::vector<Parameter*> parameters() override {
    return plugin_call([&] { return plugin_ + ": parameters of " + name_; },
                       [&] { return inner_->parameters(); });
  }
  Tensor forward(const Microbatch& mb, const Tensor& input) override {
    return plugin_call([&] { return plugin_ + ": forward of " + name_; },
                       [&] { return inner_->forward(mb, input); });
  }
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override {
    return plugin_call([&] { return plugin_ + ": backward_input of " + name_; },
                       [&] { return inner_->backward_input(mb, grad_output); });
  }
  void backward_weight(const Microbatch& mb) override {
    plugin_call([&] { return plugin_ + ": backward_weight of " + name_; },
                [&] { inner_->backward_weight(mb); });
  }

 private:
  std::shared_ptr<LayerFamily> family_;  // declared first: destroyed after the layer
  std::unique_ptr<Layer> inner_;
  std::string plugin_;
  std::string name_;
};

class GuardedLayerFamily final : public LayerFamily {
 public:
  GuardedLayerFamily(std::shared_ptr<LayerFamily> inner, std::string plugin)
      : inner_(std::move(inner)), plugin_(std::move(plugin)) {}

  Shape activation_shape() const override {
    return plugin_call([&] { return plugin_ + ": activation_shape"; },
                       [&] { return inner_->activation_shape(); });
  }
  std::unique_ptr<Layer> make_embedding() override {
    return guard(plugin_call([&] { return plugin_ + ": make_embedding"; },
                             [&] { return inner_->make_embedding(); }));
  }
  std::unique_ptr<Layer> make_block(int index) override {
    return guard(
        plugin_call([&] { return plugin_ + ": make_block(" + std::to_string(index) + ")"; },
                    [&] { return inner_->make_block(index); }));
  }
  std::unique_ptr<Layer> make_final_norm() override {
    return guard(plugin_call([&] { return plugin_ + ": make_final_norm"; },
                             [&] { return inner_->make_final_norm(); }));
  }
  std::unique_ptr<Layer> make_head(Layer* embedding) override {
    // The family ties the head to its own embedding layer, not to the proxy core holds.
    auto* guarded = dynamic_cast<GuardedLayer*>(embedding);
    Layer* own = guarded ? guarded->inner() : embedding;
    return guard(plugin_call([&] { return plugin_ + ": make_head"; },
                             [&] { return inner_->make_head(own); }));
  }

 private:
  std::unique_ptr<Layer> guard(std::unique_ptr<Layer> layer) const {
    if (!layer) return layer;  // the caller says what a missing layer means
    return std::make_unique<GuardedLayer>(std::move(layer), inner_, plugin_);
  }

  std::shared_ptr<LayerFamily> inner_;
  std::string plugin_;
};

}  // namespace

std::shared_ptr<LayerFamily> guard_layer_family(std::shared_ptr<LayerFamily> family,
                                                std::string plugin) {
  return std::make_shared<GuardedLayerFamily>(std::move(family), std::move(plugin));
}

}  // namespace trellis::plugin_detail
