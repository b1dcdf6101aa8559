#include "architecture_check.h"

namespace trellis::layers {

namespace {

std::string divisors_of(std::int64_t n) {
  std::string out;
  for (std::int64_t d = 1; d <= n; ++d)
    if (n % d == 0) out += (out.empty() ? "" : ", ") + std::to_string(d);
  return out;
}

}  // namespace

std::vector<ConfigProblem> architecture_problems(const RunQuery& query, const std::string& family) {
  std::vector<ConfigProblem> problems;
  const ModelArchitecture& a = query.arch;
  const std::int64_t tp = query.sizes.tensor;
  if (tp < 1 || a.kv_heads < 1) return problems;  // kv_heads 0: GPT-2's, nothing to check
  const std::string tensor = std::to_string(tp);
  // With kv_heads = heads the family's own check of the heads says it all.
  if (a.kv_heads != query.dims.heads && a.kv_heads % tp != 0) {
    problems.push_back({"model.kv_heads",
                        "the " + family +
                            " family gives each rank of the tensor group whole key/value "
                            "heads, and the query heads that share them: kv_heads " +
                            std::to_string(a.kv_heads) + " does not divide by tensor = " + tensor +
                            "; valid tensor sizes: " + divisors_of(a.kv_heads)});
  }
  if (a.ffn_hidden % tp != 0) {
    problems.push_back(
        {"model.ffn_hidden", "the " + family +
                                 " family splits the MLP's inner width across the tensor group: "
                                 "ffn_hidden " +
                                 std::to_string(a.ffn_hidden) + " does not divide by tensor = " +
                                 tensor + "; valid: a multiple of " + tensor});
  }
  return problems;
}

}  // namespace trellis::layers
