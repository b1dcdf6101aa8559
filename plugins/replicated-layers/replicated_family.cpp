#include "replicated_family.h"

#include <string>

#include "replicated_block.h"
#include "replicated_embedding.h"
#include "replicated_final_norm.h"
#include "replicated_lm_head.h"
#include "trellis/error.h"

namespace replicated {

trellis::Shape ReplicatedFamily::activation_shape() const {
  return {ctx_.micro_batch, ctx_.dims.seq_len, ctx_.dims.hidden};
}

std::unique_ptr<trellis::Layer> ReplicatedFamily::make_embedding() {
  return std::make_unique<ReplicatedEmbedding>(ctx_);
}

std::unique_ptr<trellis::Layer> ReplicatedFamily::make_block(int index) {
  if (index < 0 || index >= ctx_.dims.layers) {
    throw trellis::Error("layers replicated: block " + std::to_string(index) +
                         " asked for, the model has blocks 0.." +
                         std::to_string(ctx_.dims.layers - 1));
  }
  return std::make_unique<ReplicatedBlock>(ctx_, index);
}

std::unique_ptr<trellis::Layer> ReplicatedFamily::make_final_norm() {
  return std::make_unique<ReplicatedFinalNorm>(ctx_);
}

std::unique_ptr<trellis::Layer> ReplicatedFamily::make_head(trellis::Layer* embedding) {
  trellis::Parameter* table = nullptr;
  if (embedding != nullptr) {
    auto* own = dynamic_cast<ReplicatedEmbedding*>(embedding);
    if (own == nullptr) {
      throw trellis::Error(
          "layers replicated: make_head was given the embedding of another family");
    }
    table = &own->token_table();
  }
  return std::make_unique<ReplicatedLmHead>(ctx_, table);
}

std::unique_ptr<trellis::LayerFamily> make_replicated_family(const trellis::LayerFamilyInit& init) {
  if (init.kernels == nullptr || !init.allocator) {
    throw trellis::Error("layers replicated: the family needs kernels and an allocator");
  }
  trellis::RunQuery query;
  query.dims = init.dims;
  query.micro_batch = init.micro_batch;
  query.sizes.tensor = init.groups.tensor != nullptr ? init.groups.tensor->size() : 1;
  const std::vector<trellis::ConfigProblem> problems = check_replicated_run(query);
  if (!problems.empty()) {
    throw trellis::Error("layers replicated: " + problems.front().key + ": " +
                         problems.front().message);
  }
  ReplicatedContext ctx;
  ctx.dims = init.dims;
  ctx.micro_batch = init.micro_batch;
  ctx.tensor_size = query.sizes.tensor;
  ctx.kernels = init.kernels;
  ctx.allocator = init.allocator;
  return std::make_unique<ReplicatedFamily>(std::move(ctx));
}

std::vector<trellis::ConfigProblem> check_replicated_run(const trellis::RunQuery& query) {
  std::vector<trellis::ConfigProblem> problems;
  const trellis::ModelDims& d = query.dims;
  // Core checks the sizes every family needs; these are the ones this family's kernels rely on,
  // checked again so that a run never reaches a kernel with shapes it cannot take.
  if (d.heads < 1 || d.hidden < 1 || d.hidden % d.heads != 0) {
    problems.push_back({"model.heads", "the replicated family splits hidden = " +
                                           std::to_string(d.hidden) + " channels into heads of " +
                                           "equal size: heads = " + std::to_string(d.heads) +
                                           " must be at least 1 and divide it"});
  }
  if (d.seq_len > d.max_seq_len) {
    problems.push_back({"model.seq_len", "seq_len = " + std::to_string(d.seq_len) +
                                             " is longer than the position table (" +
                                             std::to_string(d.max_seq_len) + " rows)"});
  }
  if (d.padded_vocab < d.vocab_size) {
    problems.push_back(
        {"model.vocab_size", "the token table has " + std::to_string(d.padded_vocab) +
                                 " rows, fewer than vocab_size = " + std::to_string(d.vocab_size)});
  }
  // Any tensor size works (every rank repeats the whole model); other parallel dimensions are
  // core's. Context parallelism would need a family that splits attention over the sequence.
  if (query.sizes.context > 1) {
    problems.push_back({"parallel.context",
                        "the replicated family computes attention over whole sequences; it "
                        "cannot split them over a context group: valid: 1"});
  }
  return problems;
}

}  // namespace replicated
