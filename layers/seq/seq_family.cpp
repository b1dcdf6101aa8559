#include "seq_family.h"

#include <numeric>

#include "architecture_check.h"
#include "region_family.h"
#include "sequence_shards.h"
#include "trellis/error.h"

namespace trellis::seqpar {

namespace {

std::string divisors(std::int64_t n) {
  std::string out;
  for (std::int64_t d = 1; d <= n; ++d) {
    if (n % d == 0) out += (out.empty() ? "" : ", ") + std::to_string(d);
  }
  return out;
}

}  // namespace

std::unique_ptr<LayerFamily> make_family(const LayerFamilyInit& init) {
  layers::FamilyContext ctx = layers::make_family_context(init, "layers seq");
  RunQuery query;
  query.dims = init.dims;
  query.arch = ctx.arch;
  query.sizes.tensor = ctx.tensor_size;
  query.sizes.context = ctx.chunks.size;
  auto problems = check_run(query);
  if (!problems.empty()) throw Error("layers seq: " + problems.front().message);
  // The tensor group shards the tokens this context rank holds.
  ctx.region = std::make_shared<SequenceShards>(ctx.tensor, ctx.micro_batch, ctx.seq_len(),
                                                ctx.kernels, ctx.allocator);
  return std::make_unique<layers::RegionFamily>("layers seq", std::move(ctx));
}

std::vector<ConfigProblem> check_run(const RunQuery& query) {
  std::vector<ConfigProblem> problems;
  const int tp = query.sizes.tensor;
  if (tp < 1) return problems;
  const std::string tensor = std::to_string(tp);
  if (query.dims.heads % tp != 0) {
    problems.push_back({"parallel.tensor",
                        "the seq family splits attention heads across the "
                        "tensor group: " +
                            std::to_string(query.dims.heads) + " heads do not divide by tensor = " +
                            tensor + "; valid tensor sizes: " + divisors(query.dims.heads)});
  }
  const int cp = query.sizes.context;
  if (cp > 1) {
    // Each context rank holds seq_len / context tokens of a sequence; the tensor group shards
    // those. (seq_len % (2 x context) is core's check.)
    const std::int64_t held = query.dims.seq_len / cp;
    if (query.dims.seq_len % cp == 0 && held % tp != 0) {
      problems.push_back(
          {"model.seq_len",
           "the seq family splits the tokens each context rank holds across the "
           "tensor group: seq_len " +
               std::to_string(query.dims.seq_len) + " / context " + std::to_string(cp) + " = " +
               std::to_string(held) + " does not divide by tensor = " + tensor +
               "; valid: seq_len a multiple of " + std::to_string(std::lcm(2 * cp, cp * tp)) +
               " (or tensor one of " + divisors(held) + ")"});
    }
  } else if (query.dims.seq_len % tp != 0) {
    problems.push_back({"model.seq_len",
                        "the seq family splits every sequence across the tensor "
                        "group: seq_len " +
                            std::to_string(query.dims.seq_len) +
                            " does not divide by tensor = " + tensor + "; valid: a multiple of " +
                            tensor + " (or tensor one of " + divisors(query.dims.seq_len) + ")"});
  }
  for (ConfigProblem& p : layers::architecture_problems(query, "seq")) problems.push_back(p);
  if (query.dims.padded_vocab % tp != 0) {
    problems.push_back({"model.vocab_size", "the padded vocabulary (" +
                                                std::to_string(query.dims.padded_vocab) +
                                                " rows) does not split across tensor = " + tensor});
  }
  return problems;
}

}  // namespace trellis::seqpar
