#include "tp1d_family.h"

#include "block.h"
#include "embedding.h"
#include "final_norm.h"
#include "lm_head.h"

namespace trellis::tp1d {

Tp1dFamily::Tp1dFamily(const LayerFamilyInit& init) {
  if (init.kernels == nullptr || !init.allocator) {
    throw Error("layers 1d: the family needs kernels and an allocator");
  }
  ctx_.dims = init.dims;
  ctx_.micro_batch = init.micro_batch;
  ctx_.tensor = init.groups.tensor;
  ctx_.tensor_size = init.groups.tensor ? init.groups.tensor->size() : 1;
  ctx_.tensor_rank = init.groups.tensor ? init.groups.tensor->rank() : 0;
  ctx_.kernels = init.kernels;
  ctx_.allocator = init.allocator;
  RunQuery query;
  query.dims = init.dims;
  query.sizes.tensor = ctx_.tensor_size;
  auto problems = check_run(query);
  if (!problems.empty()) throw Error("layers 1d: " + problems.front().message);
}

Shape Tp1dFamily::activation_shape() const {
  return {ctx_.micro_batch, ctx_.dims.seq_len, ctx_.dims.hidden};
}

std::unique_ptr<Layer> Tp1dFamily::make_embedding() {
  return std::make_unique<Embedding>(ctx_);
}

std::unique_ptr<Layer> Tp1dFamily::make_block(int index) {
  return std::make_unique<Block>(ctx_, index);
}

std::unique_ptr<Layer> Tp1dFamily::make_final_norm() {
  return std::make_unique<FinalNorm>(ctx_);
}

std::unique_ptr<Layer> Tp1dFamily::make_head(Layer* embedding) {
  Parameter* table = nullptr;
  if (embedding != nullptr) {
    auto* e = dynamic_cast<Embedding*>(embedding);
    if (e == nullptr) throw Error("layers 1d: make_head was given an embedding of another family");
    table = &e->token_table();
  }
  return std::make_unique<LmHead>(ctx_, table);
}

std::vector<ConfigProblem> check_run(const RunQuery& query) {
  std::vector<ConfigProblem> problems;
  const int tp = query.sizes.tensor;
  if (tp < 1) return problems;
  if (query.dims.heads % tp != 0) {
    std::string valid;
    for (int t = 1; t <= query.dims.heads; ++t) {
      if (query.dims.heads % t == 0) valid += (valid.empty() ? "" : ", ") + std::to_string(t);
    }
    problems.push_back({"parallel.tensor",
                        "the 1d family splits attention heads across the tensor "
                        "group: " +
                            std::to_string(query.dims.heads) + " heads do not divide by tensor = " +
                            std::to_string(tp) + "; valid tensor sizes: " + valid});
  }
  if (query.dims.padded_vocab % tp != 0) {
    problems.push_back(
        {"model.vocab_size", "the padded vocabulary (" + std::to_string(query.dims.padded_vocab) +
                                 " rows) does not split across tensor = " + std::to_string(tp)});
  }
  return problems;
}

}  // namespace trellis::tp1d
