#include "plugin/guarded_token_dispatcher.h"

namespace trellis::plugin_detail {

namespace {

class GuardedTokenDispatcher final : public TokenDispatcher {
 public:
  GuardedTokenDispatcher(std::shared_ptr<TokenDispatcher> inner, PluginOwnerPtr owner)
      : owner_(std::move(owner)), inner_(std::move(inner)) {}

  DispatchCounts exchange_counts(std::span<const std::int64_t> rows_per_expert) override {
    return plugin_call([&] { return owner_->label + ": exchange_counts"; },
                       [&] { return inner_->exchange_counts(rows_per_expert); });
  }
  Tensor dispatch(const DispatchCounts& counts, const Tensor& rows) override {
    return plugin_call([&] { return owner_->label + ": dispatch"; },
                       [&] { return inner_->dispatch(counts, rows); });
  }
  Tensor combine(const DispatchCounts& counts, const Tensor& expert_rows) override {
    return plugin_call([&] { return owner_->label + ": combine"; },
                       [&] { return inner_->combine(counts, expert_rows); });
  }

 private:
  PluginOwnerPtr owner_;
  std::shared_ptr<TokenDispatcher> inner_;
};

}  // namespace

std::shared_ptr<TokenDispatcher> guard_token_dispatcher(std::shared_ptr<TokenDispatcher> inner,
                                                        PluginOwnerPtr owner) {
  return std::make_shared<GuardedTokenDispatcher>(std::move(inner), std::move(owner));
}

}  // namespace trellis::plugin_detail
