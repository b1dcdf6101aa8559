#include "plugin/guarded_layer_family.h"

namespace trellis::plugin_detail {

namespace {

class GuardedLayer final : public Layer {
 public:
  GuardedLayer(std::unique_ptr<Layer> inner, PluginOwnerPtr owner)
      : owner_(std::move(owner)), inner_(std::move(inner)) {
    name_ = plugin_call([&] { return owner_->label + ": name of a layer"; },
                        [&] { return std::string(inner_->name()); });
  }

  // The plugin's own layer: what its family's make_head expects as the embedding.
  Layer* inner() const noexcept { return inner_.get(); }

  std::string_view name() const override { return name_; }
  std::vector<Parameter*> parameters() override {
    return plugin_call([&] { return owner_->label + ": parameters of " + name_; },
                       [&] { return inner_->parameters(); });
  }
  Tensor forward(const Microbatch& mb, const Tensor& input) override {
    return plugin_call([&] { return owner_->label + ": forward of " + name_; },
                       [&] { return inner_->forward(mb, input); });
  }
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override {
    return plugin_call([&] { return owner_->label + ": backward_input of " + name_; },
                       [&] { return inner_->backward_input(mb, grad_output); });
  }
  void backward_weight(const Microbatch& mb) override {
    plugin_call([&] { return owner_->label + ": backward_weight of " + name_; },
                [&] { inner_->backward_weight(mb); });
  }

 private:
  PluginOwnerPtr owner_;  // declared first: the library outlives the layer's destructor
  std::unique_ptr<Layer> inner_;
  std::string name_;
};

class GuardedLayerFamily final : public LayerFamily {
 public:
  GuardedLayerFamily(std::shared_ptr<LayerFamily> inner, PluginOwnerPtr owner,
                     bool has_moe_statistics)
      : owner_(std::move(owner)),
        inner_(std::move(inner)),
        has_moe_statistics_(has_moe_statistics) {}

  Shape activation_shape() const override {
    return plugin_call([&] { return owner_->label + ": activation_shape"; },
                       [&] { return inner_->activation_shape(); });
  }
  std::unique_ptr<Layer> make_embedding() override {
    return guard(plugin_call([&] { return owner_->label + ": make_embedding"; },
                             [&] { return inner_->make_embedding(); }));
  }
  std::unique_ptr<Layer> make_block(int index) override {
    return guard(
        plugin_call([&] { return owner_->label + ": make_block(" + std::to_string(index) + ")"; },
                    [&] { return inner_->make_block(index); }));
  }
  std::unique_ptr<Layer> make_final_norm() override {
    return guard(plugin_call([&] { return owner_->label + ": make_final_norm"; },
                             [&] { return inner_->make_final_norm(); }));
  }
  std::unique_ptr<Layer> make_head(Layer* embedding) override {
    // The family ties the head to its own embedding layer, not to the proxy core holds.
    auto* guarded = dynamic_cast<GuardedLayer*>(embedding);
    Layer* own = guarded ? guarded->inner() : embedding;
    return guard(plugin_call([&] { return owner_->label + ": make_head"; },
                             [&] { return inner_->make_head(own); }));
  }
  MoeStatistics take_moe_statistics() override {
    if (!has_moe_statistics_) return {};
    return plugin_call([&] { return owner_->label + ": take_moe_statistics"; },
                       [&] { return inner_->take_moe_statistics(); });
  }

 private:
  std::unique_ptr<Layer> guard(std::unique_ptr<Layer> layer) const {
    if (!layer) return layer;  // the caller says what a missing layer means
    return std::make_unique<GuardedLayer>(std::move(layer), owner_);
  }

  PluginOwnerPtr owner_;
  std::shared_ptr<LayerFamily> inner_;
  bool has_moe_statistics_;
};

}  // namespace

std::shared_ptr<LayerFamily> guard_layer_family(std::shared_ptr<LayerFamily> family,
                                                PluginOwnerPtr owner, bool has_moe_statistics) {
  return std::make_shared<GuardedLayerFamily>(std::move(family), std::move(owner),
                                              has_moe_statistics);
}

}  // namespace trellis::plugin_detail
