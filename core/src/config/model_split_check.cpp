// The model over what splits it: heads, the context group's sequence chunks, pipeline chunks,
// and the tensor group's vocabulary rows.
#include <numeric>
#include <string>

#include "config/layout_checks.h"
#include "config/layout_hints.h"

namespace trellis {

namespace {

// Embedding rows are padded to a multiple of this (as llm.c does for GPT-2: 50257 -> 50304),
// which keeps the head's matrix multiplies on aligned shapes.
constexpr std::int64_t kVocabAlignment = 128;

std::string str(std::int64_t v) {
  return std::to_string(v);
}

std::int64_t round_up(std::int64_t n, std::int64_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

}  // namespace

bool check_model_split(CheckContext& ctx) {
  const ModelSection& m = ctx.config().model;
  const ParallelSection& p = ctx.config().parallel;
  bool ok = true;
  if (ctx.valid({"model.hidden", "model.heads"}) && m.hidden % m.heads != 0) {
    ctx.problem(ctx.blame({"model.heads", "model.hidden"}),
                "hidden " + str(m.hidden) + " does not split evenly into " + str(m.heads) +
                    " heads; valid: a number of heads dividing hidden " + str(m.hidden) +
                    " (e.g. " + divisors_near(m.hidden, m.heads) + "), or hidden a multiple of " +
                    str(m.heads));
    ok = false;
  }
  // Context parallelism cuts every sequence into 2 x context chunks (context_attention.h): rank i
  // holds chunks i and 2c-1-i, which balances the causal mask's work.
  if (ctx.valid({"model.seq_len", "parallel.context"}) && p.context > 1 &&
      m.seq_len % (2 * p.context) != 0) {
    const std::int64_t chunks = 2 * p.context;
    ctx.problem(
        ctx.blame({"parallel.context", "model.seq_len"}),
        "context parallelism cuts each sequence into 2 x context = " + str(chunks) +
            " chunks, but seq_len " + str(m.seq_len) + " does not divide by " + str(chunks) +
            "; valid: seq_len a multiple of " + str(chunks) + " (" +
            multiples_near(m.seq_len, chunks) + ")" +
            (m.seq_len % 2 == 0 ? ", or context one of " + divisors_near(m.seq_len / 2, p.context)
                                : std::string()));
    ok = false;
  }
  if (!ctx.valid({"model.layers", "parallel.pipeline", "parallel.virtual_stages"})) return false;
  const std::int64_t chunks = p.pipeline * p.virtual_stages;
  if (m.layers % chunks != 0) {
    ctx.problem(ctx.blame({"parallel.pipeline", "parallel.virtual_stages", "model.layers"}),
                str(m.layers) + " layers do not split evenly into pipeline " + str(p.pipeline) +
                    " x virtual_stages " + str(p.virtual_stages) + " = " + str(chunks) +
                    " model chunks; valid: pipeline x virtual_stages dividing " + str(m.layers) +
                    " (" + divisors_near(m.layers, chunks) + "), or layers a multiple of " +
                    str(chunks));
    return false;
  }
  return ok;
}

bool fill_model_dims(CheckContext& ctx, ResolvedRun& run) {
  if (!ctx.valid({"model.vocab_size", "model.seq_len", "model.layers", "model.heads",
                  "model.hidden", "parallel.tensor"})) {
    return false;
  }
  const ModelSection& m = ctx.config().model;
  const ParallelSection& p = ctx.config().parallel;
  run.dims.vocab_size = m.vocab_size;
  run.dims.seq_len = m.seq_len;
  // A checkpoint's position table may be longer than the sequences trained on.
  run.dims.max_seq_len = run.llmc              ? run.llmc->max_seq_len
                         : run.hf              ? run.hf->dims.max_seq_len
                         : run.checkpoint_dims ? run.checkpoint_dims->max_seq_len
                                               : m.seq_len;
  run.dims.layers = m.layers;
  run.dims.heads = m.heads;
  run.dims.hidden = m.hidden;
  // The vocabulary-parallel embedding splits rows over the tensor group; an llm.c checkpoint
  // brings its own padding, which may need more for the tensor size.
  run.dims.padded_vocab = run.llmc ? round_up(run.llmc->padded_vocab, p.tensor)
                                   : round_up(m.vocab_size, std::lcm(kVocabAlignment, p.tensor));
  return true;
}

}  // namespace trellis
