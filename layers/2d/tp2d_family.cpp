#include "tp2d_family.h"

#include <cmath>

#include "block_2d.h"
#include "context_parts.h"
#include "embedding_2d.h"
#include "final_norm_2d.h"
#include "grid_collectives.h"
#include "lm_head_2d.h"
#include "trellis/error.h"

namespace trellis::tp2d {

namespace {

// The squares nearest to n, below and above ("1 or 4" for 2, "4" for 4).
std::string nearest_squares(int n) {
  const int root = static_cast<int>(std::floor(std::sqrt(static_cast<double>(n))));
  const int below = root * root, above = (root + 1) * (root + 1);
  if (below >= 1 && below != n) return std::to_string(below) + " or " + std::to_string(above);
  return std::to_string(above);
}

// A problem when `n` (named `what`, at config key `key`) does not divide by `by`.
void need_multiple(std::vector<ConfigProblem>& problems, const std::string& key,
                   const std::string& what, std::int64_t n, std::int64_t by,
                   const std::string& why) {
  if (n % by == 0) return;
  problems.push_back({key, "the 2d family " + why + ": " + what + " " + std::to_string(n) +
                               " does not divide by " + std::to_string(by) +
                               "; valid: a multiple of " + std::to_string(by)});
}

}  // namespace

Tp2dFamily::Tp2dFamily(const LayerFamilyInit& init) {
  if (init.kernels == nullptr || !init.allocator) {
    throw Error("layers 2d: the family needs kernels and an allocator");
  }
  RunQuery query;
  query.dims = init.dims;
  query.sizes.tensor = init.groups.tensor ? init.groups.tensor->size() : 1;
  query.micro_batch = init.micro_batch;
  auto problems = check_run(query);
  if (!problems.empty()) throw Error("layers 2d: " + problems.front().message);

  ctx_.dims = init.dims;
  ctx_.micro_batch = init.micro_batch;
  ctx_.tensor = init.groups.tensor;
  ctx_.q = TensorGrid(query.sizes.tensor).q();
  if (ctx_.q > 1) {
    if (init.groups.row == nullptr || init.groups.col == nullptr ||
        init.groups.row->size() != ctx_.q || init.groups.col->size() != ctx_.q) {
      throw Error("layers 2d: a tensor group of " + std::to_string(query.sizes.tensor) +
                  " ranks needs its grid row and column groups of " + std::to_string(ctx_.q) +
                  " (TensorGroups row / col)");
    }
    ctx_.row = init.groups.row;
    ctx_.col = init.groups.col;
  }
  // The row group is ordered by grid column and the column group by grid row.
  ctx_.grid_row = group_rank(ctx_.col);
  ctx_.grid_col = group_rank(ctx_.row);
  const int tensor_rank = init.groups.tensor ? init.groups.tensor->rank() : 0;
  if (TensorGrid(query.sizes.tensor).tensor_rank_of(ctx_.grid_row, ctx_.grid_col) != tensor_rank) {
    throw Error("layers 2d: tensor rank " + std::to_string(tensor_rank) +
                " is not at its grid position in the row and column groups it was given");
  }
  ctx_.kernels = init.kernels;
  ctx_.allocator = init.allocator;
  layers::ContextParts context = layers::context_parts(init, "layers 2d");
  ctx_.chunks = context.chunks;
  ctx_.attention = std::move(context.attention);
  ctx_.recompute = layers::attention_recompute(init);
  ctx_.ones = ctx_.empty({ctx_.local_tokens()});
  ctx_.kernels->fill(ctx_.ones, 1.0f);
}

Shape Tp2dFamily::activation_shape() const {
  return {ctx_.local_batch(), ctx_.seq_len(), ctx_.block(ctx_.dims.hidden)};
}

std::unique_ptr<Layer> Tp2dFamily::make_embedding() {
  return std::make_unique<Embedding2d>(ctx_);
}

std::unique_ptr<Layer> Tp2dFamily::make_block(int index) {
  return std::make_unique<Block2d>(ctx_, index);
}

std::unique_ptr<Layer> Tp2dFamily::make_final_norm() {
  return std::make_unique<FinalNorm2d>(ctx_);
}

std::unique_ptr<Layer> Tp2dFamily::make_head(Layer* embedding) {
  Parameter* table = nullptr;
  if (embedding != nullptr) {
    auto* e = dynamic_cast<Embedding2d*>(embedding);
    if (e == nullptr) throw Error("layers 2d: make_head was given an embedding of another family");
    table = &e->token_table();
  }
  return std::make_unique<LmHead2d>(ctx_, table);
}

std::unique_ptr<LayerFamily> make_family(const LayerFamilyInit& init) {
  return std::make_unique<Tp2dFamily>(init);
}

std::vector<ConfigProblem> check_run(const RunQuery& query) {
  std::vector<ConfigProblem> problems;
  const int tensor = query.sizes.tensor;
  if (tensor < 1) return problems;
  if (!TensorGrid::is_square(tensor)) {
    problems.push_back(
        {"parallel.tensor", "the 2d family arranges the tensor group as a q x q grid: tensor = " +
                                std::to_string(tensor) +
                                " is not a square; nearest valid: " + nearest_squares(tensor)});
    return problems;
  }
  const int q = TensorGrid(tensor).q();
  const ModelDims& d = query.dims;
  need_multiple(problems, "model.heads", "heads", d.heads, q,
                "splits attention heads over the q = " + std::to_string(q) + " grid columns");
  need_multiple(problems, "model.hidden", "hidden", d.hidden, std::int64_t{q} * q,
                "splits channels over the grid columns and their biases and LayerNorms again "
                "over the rows (q^2 = " +
                    std::to_string(q * q) + ")");
  need_multiple(
      problems, "train.micro_batch", "micro_batch", query.micro_batch, q,
      "splits the sequences of a microbatch over the q = " + std::to_string(q) + " grid rows");
  need_multiple(problems, "model.vocab_size", "the padded vocabulary", d.padded_vocab, q,
                "splits the token table's rows over the grid");
  need_multiple(problems, "model.seq_len", "the position table's rows (max_seq_len)", d.max_seq_len,
                q, "splits the position table's rows over the grid");
  return problems;
}

}  // namespace trellis::tp2d
