#include "tp1d_family.h"

#include "architecture_check.h"
#include "region_family.h"
#include "replicated_tokens.h"
#include "trellis/error.h"

namespace trellis::tp1d {

std::unique_ptr<LayerFamily> make_family(const LayerFamilyInit& init) {
  layers::FamilyContext ctx = layers::make_family_context(init, "layers 1d");
  RunQuery query;
  query.dims = init.dims;
  query.arch = ctx.arch;
  query.sizes.tensor = ctx.tensor_size;
  auto problems = check_run(query);
  if (!problems.empty()) throw Error("layers 1d: " + problems.front().message);
  ctx.region = std::make_shared<ReplicatedTokens>(ctx.tensor, ctx.seq_len());
  return std::make_unique<layers::RegionFamily>("layers 1d", std::move(ctx));
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
  for (ConfigProblem& p : layers::architecture_problems(query, "1d")) problems.push_back(p);
  if (query.dims.padded_vocab % tp != 0) {
    problems.push_back(
        {"model.vocab_size", "the padded vocabulary (" + std::to_string(query.dims.padded_vocab) +
                                 " rows) does not split across tensor = " + std::to_string(tp)});
  }
  return problems;
}

}  // namespace trellis::tp1d
