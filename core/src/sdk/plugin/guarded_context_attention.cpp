#include "plugin/guarded_context_attention.h"

namespace trellis::plugin_detail {

namespace {

class GuardedContextAttention final : public ContextAttention {
 public:
  GuardedContextAttention(std::shared_ptr<ContextAttention> inner, PluginOwnerPtr owner)
      : owner_(std::move(owner)), inner_(std::move(inner)) {}

  std::unique_ptr<ContextAttentionStash> forward(const Tensor& qkv, int heads, const Tensor& out,
                                                 bool keep) override {
    return plugin_call([&] { return owner_->label + ": forward"; },
                       [&] { return inner_->forward(qkv, heads, out, keep); });
  }
  void backward(const Tensor& dout, const Tensor& qkv, int heads, ContextAttentionStash& stash,
                const Tensor& dqkv) override {
    plugin_call([&] { return owner_->label + ": backward"; },
                [&] { inner_->backward(dout, qkv, heads, stash, dqkv); });
  }

 private:
  PluginOwnerPtr owner_;
  std::shared_ptr<ContextAttention> inner_;
};

}  // namespace

std::shared_ptr<ContextAttention> guard_context_attention(std::shared_ptr<ContextAttention> inner,
                                                          PluginOwnerPtr owner) {
  return std::make_shared<GuardedContextAttention>(std::move(inner), std::move(owner));
}

}  // namespace trellis::plugin_detail
