#include "plan/layout_search.h"

#include <algorithm>
#include <map>
#include <memory>
#include <numeric>
#include <tuple>

#include "plan/searched_plugins.h"
#include "trellis/error.h"
#include "trellis/simulator.h"

namespace trellis::plan {

namespace {

std::vector<int> divisors(std::int64_t n) {
  std::vector<int> out;
  for (std::int64_t k = 1; k <= n; ++k)
    if (n % k == 0) out.push_back(static_cast<int>(k));
  return out;
}

// Plans cached by (schedule, pipeline, microbatches, virtual stages); null when the schedule
// cannot make one (its check failed, or it deadlocks).
class PlanCache {
 public:
  explicit PlanCache(const PluginRegistry* registry) : registry_(registry) {}

  const PipelinePlan* get(const std::string& schedule, int p, int m, int v) {
    const auto key = std::make_tuple(schedule, p, m, v);
    auto it = plans_.find(key);
    if (it != plans_.end()) return it->second.get();
    std::unique_ptr<PipelinePlan> plan;
    try {
      static const Options none;
      ScheduleInit init;
      init.options = &none;
      std::shared_ptr<Schedule> s = registry_->make_schedule(schedule, init);
      PipelinePlan built = build_plan(*s, ScheduleQuery{p, 0, m, v});
      if (simulate(built, kDryRunCosts).completed) plan = std::make_unique<PipelinePlan>(built);
    } catch (const Error&) {
      // The schedule refuses this shape: the candidate is rejected.
    }
    return (plans_[key] = std::move(plan)).get();
  }

 private:
  const PluginRegistry* registry_;
  std::map<std::tuple<std::string, int, int, int>, std::unique_ptr<PipelinePlan>> plans_;
};

// Whether trellis-train runs the recomputation in this layout (config/recompute_check.cpp):
// full groups no more blocks than a chunk has, selective needs a family that recomputes
// attention.
bool runs_recompute(const PluginRegistry& registry, const std::string& family,
                    const RecomputeSettings& r, int blocks_per_chunk) {
  if (r.granularity == RecomputeGranularity::full) return r.num_layers <= blocks_per_chunk;
  if (r.granularity == RecomputeGranularity::selective)
    return registry.recomputes_attention(family);
  return true;
}

}  // namespace

std::int64_t padded_vocab_for(std::int64_t vocab_size, int tensor,
                              std::int64_t checkpoint_padded_vocab) {
  auto round_up = [](std::int64_t n, std::int64_t k) { return (n + k - 1) / k * k; };
  if (checkpoint_padded_vocab > 0) return round_up(checkpoint_padded_vocab, tensor);
  return round_up(vocab_size, std::lcm(std::int64_t{128}, static_cast<std::int64_t>(tensor)));
}

SearchResult search_layouts(const PlanRequest& base, const ClusterSpec& cluster,
                            const PluginRegistry* registry, const SearchSpace& space) {
  SearchResult result;
  PlanCache plans(registry);
  static const Options no_options;
  // The layer families and schedules are whatever plugins the registry finds.
  SearchedPlugins found = searched_plugins(registry, space.tensor_modes, space.schedules,
                                           space.context_modes, base.dims);
  result.notes = found.notes;
  std::vector<std::string> families = found.families;
  const bool has_experts = base.moe.experts > 0;
  if (has_experts) {
    // A model with experts: the families that describe an MoE block; no context parallelism
    // (trellis-train refuses experts with context > 1).
    std::erase_if(families, [&](const std::string& f) {
      if (registry->describes_moe_cost(f)) return false;
      result.notes.push_back("tensor mode " + f +
                             " left out: it does not run experts or describe an MoE block's "
                             "cost (describe_moe_cost)");
      return true;
    });
  }
  const bool searches_expert = has_experts && registry != nullptr &&
                               registry->describes_dispatch_cost(base.layout.expert_dispatcher);
  if (has_experts && !searches_expert) {
    result.notes.push_back("expert 1 only: dispatcher " + base.layout.expert_dispatcher +
                           " does not describe its cost (describe_dispatch_cost)");
  }
  const std::vector<std::string>& schedules = found.schedules;
  const std::vector<std::string>& context_modes = found.context_modes;

  // At tensor 1 every family is the plain one-rank model: one stands for all, the run's own
  // when it is offered.
  std::vector<std::string> tensor_one_families;
  if (!families.empty()) {
    const bool own =
        std::find(families.begin(), families.end(), base.layout.tensor_mode) != families.end();
    tensor_one_families = {own ? base.layout.tensor_mode : families.front()};
    if (families.size() > 1) {
      result.notes.push_back("tensor 1 is listed as " + tensor_one_families.front() +
                             ": at tensor 1 every tensor mode is the same one-rank model");
    }
  }

  const ModelDims& model = base.dims;
  std::vector<Prediction> fitting;
  // Context sizes that cut every sequence into 2c equal chunks (c = 1: no context parallelism).
  auto splits_sequence = [&](int c) { return c == 1 || model.seq_len % (2 * c) == 0; };
  for (int t : divisors(space.world)) {
    for (int c : divisors(space.world / t)) {
      if (!splits_sequence(c) || (c > 1 && (context_modes.empty() || has_experts))) continue;
      const std::vector<std::string> modes =
          c > 1 ? context_modes : std::vector<std::string>{base.layout.context_mode};
      for (int p : divisors(space.world / (t * c))) {
        const int d = space.world / (t * c * p);
        if (model.layers % p != 0) continue;
        ModelDims dims = model;
        dims.padded_vocab = padded_vocab_for(model.vocab_size, t, space.checkpoint_padded_vocab);
        std::vector<int> virtuals = {1};
        if (p > 1) {
          for (int v : divisors(model.layers / p))
            if (v > 1 && v <= space.max_virtual_stages) virtuals.push_back(v);
        }
        const std::vector<std::string> pipeline_schedules =
            p > 1 ? schedules : std::vector<std::string>{base.layout.schedule};
        if (p > 1 && schedules.empty()) continue;
        if (base.global_batch % d != 0) continue;
        // Expert sizes: those dividing data and the experts (1 alone for a dense model).
        std::vector<int> expert_sizes;
        for (int ep : divisors(d))
          if (ep == 1 || (searches_expert && base.moe.experts % ep == 0))
            expert_sizes.push_back(ep);
        for (int b : divisors(base.global_batch / d)) {
          const int m = static_cast<int>(base.global_batch / (static_cast<std::int64_t>(b) * d));
          for (int v : virtuals) {
            for (const std::string& schedule : pipeline_schedules) {
              for (const std::string& family : t == 1 ? tensor_one_families : families) {
                for (const std::string& mode : modes) {
                  for (int ep : expert_sizes) {
                    ++result.considered;
                    LayoutChoice choice = base.layout;
                    choice.tensor = t;
                    choice.context = c;
                    choice.context_mode = mode;
                    choice.pipeline = p;
                    choice.data = d;
                    choice.virtual_stages = v;
                    choice.schedule = schedule;
                    choice.tensor_mode = family;
                    choice.micro_batch = b;
                    choice.expert = ep;
                    RunQuery query;
                    query.dims = dims;
                    query.arch = base.architecture();
                    query.sizes = choice.sizes();
                    query.virtual_stages = v;
                    query.microbatches = m;
                    query.micro_batch = b;
                    query.options = &no_options;
                    query.moe = base.moe;
                    query.moe.expert_parallel = ep;
                    bool ok = registry->check(PluginKind::layers, family, query).empty() &&
                              runs_recompute(*registry, family, base.layout.recompute,
                                             static_cast<int>(model.layers) / (p * v));
                    if (ok && c > 1) ok = registry->check(PluginKind::context, mode, query).empty();
                    const PipelinePlan* plan = nullptr;
                    if (ok && p > 1) {
                      ok = registry->check(PluginKind::schedule, schedule, query).empty();
                      if (ok) plan = plans.get(schedule, p, m, v);
                      ok = ok && plan != nullptr;
                    }
                    if (!ok) {
                      ++result.rejected;
                      continue;
                    }
                    PlanRequest request = base;
                    request.dims = dims;
                    request.layout = choice;
                    request.plan = plan;
                    request.registry = registry;
                    request.memory_only = true;
                    if (!predict(request, cluster).fits) {
                      ++result.too_big;
                      continue;
                    }
                    request.memory_only = false;
                    fitting.push_back(predict(request, cluster));
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  std::stable_sort(fitting.begin(), fitting.end(), [](const Prediction& a, const Prediction& b) {
    return a.tokens_per_s > b.tokens_per_s;
  });
  result.ranked = std::move(fitting);
  return result;
}

}  // namespace trellis::plan
