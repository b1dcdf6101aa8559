// The arithmetic of the layout. Core checks only what holds for every layer family and
// schedule; what a particular family or schedule needs (square tensor sizes, heads divisible by
// tensor, enough microbatches) is the business of that plugin's check.
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "config/config_check.h"
#include "config/config_value.h"
#include "trellis/error.h"

namespace trellis {

namespace {

constexpr std::int64_t kMaxRanks = 1 << 20;
// Embedding rows are padded to a multiple of this (as llm.c does for GPT-2: 50257 -> 50304),
// which keeps the head's matrix multiplies on aligned shapes.
constexpr std::int64_t kVocabAlignment = 128;

std::string str(std::int64_t v) {
  return std::to_string(v);
}

std::vector<std::int64_t> divisors(std::int64_t n) {
  std::vector<std::int64_t> out;
  for (std::int64_t d = 1; d * d <= n; ++d) {
    if (n % d == 0) out.push_back(d);
  }
  for (std::size_t i = out.size(); i-- > 0;) {
    if (out[i] * out[i] != n) out.push_back(n / out[i]);
  }
  return out;
}

// Up to `count` divisors of n, those nearest to `near` (the value the user wrote), ascending.
std::string divisors_near(std::int64_t n, std::int64_t near, std::size_t count = 6) {
  std::vector<std::int64_t> all = divisors(n);
  if (all.size() > count) {
    std::stable_sort(all.begin(), all.end(), [&](std::int64_t a, std::int64_t b) {
      return std::llabs(a - near) < std::llabs(b - near);
    });
    all.resize(count);
    std::sort(all.begin(), all.end());
  }
  std::string out;
  for (std::int64_t d : all) out += (out.empty() ? "" : ", ") + str(d);
  return out;
}

std::int64_t round_up(std::int64_t n, std::int64_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

// The nearest multiples of `m` below and above n, for "valid: ..." hints.
std::string multiples_near(std::int64_t n, std::int64_t m) {
  const std::int64_t below = n / m * m;
  const std::int64_t above = below + m;
  if (below < m) return str(above);
  return str(below) + " or " + str(above);
}

struct World {
  std::int64_t size = 0;
  std::string source;  // "launch.nproc", "TRELLIS_WORLD_SIZE"
  Origin origin;
};

std::optional<World> world_size(CheckContext& ctx, const RunEnvironment& env) {
  if (env.launcher_world) {
    const EnvSetting& var = *env.launcher_world;
    const Origin origin = Origin::from_environment(var.text());
    std::int64_t size = 0;
    const char* end = var.value.data() + var.value.size();
    auto [ptr, ec] = std::from_chars(var.value.data(), end, size);
    if (ec != std::errc() || ptr != end || size < 1 || size > kMaxRanks) {
      ctx.problem_at(origin,
                     "the launcher's world size is not a number of ranks; valid: an "
                     "integer from 1 to " +
                         str(kMaxRanks));
      return std::nullopt;
    }
    return World{size, var.name, origin};
  }
  if (!ctx.valid("launch.nproc")) return std::nullopt;
  const Origin origin = ctx.origin("launch.nproc");
  return World{ctx.config().launch.nproc,
               origin.explicit_value() ? "launch.nproc" : "launch.nproc, default", origin};
}

}  // namespace

LayoutStatus check_layout(CheckContext& ctx, const RunEnvironment& env, ResolvedRun& run) {
  RunConfig& c = ctx.config();
  const ParallelSection& p = c.parallel;
  const std::optional<World> world = world_size(ctx, env);
  if (world) {
    run.world_size = static_cast<int>(world->size);
    run.world_origin = world->origin;
  }

  if (ctx.valid({"device.kind", "device.precision"}) && c.device.precision == "bf16" &&
      c.device.kind != "cuda") {
    ctx.problem("device.precision",
                "bf16 mixed precision runs on the CUDA kernels, but device.kind is \"" +
                    c.device.kind + "\"; valid: \"fp32\", or device.kind = \"cuda\"");
  }
  if (ctx.valid("parallel.context") && p.context > 1) {
    ctx.problem("parallel.context", "context parallelism is not implemented; valid: 1");
  }
  if (ctx.valid({"parallel.virtual_stages", "parallel.pipeline"}) && p.virtual_stages > 1 &&
      p.pipeline == 1) {
    ctx.problem("parallel.virtual_stages",
                "virtual stages split each pipeline stage's layers into chunks, which needs a "
                "pipeline; parallel.pipeline is 1; valid: 1, or parallel.pipeline >= 2");
  }

  // ---- world = tensor x context x data x pipeline
  std::optional<std::int64_t> data;
  const bool sizes_valid =
      ctx.valid({"parallel.tensor", "parallel.context", "parallel.pipeline", "parallel.data"});
  if (world && sizes_valid) {
    const std::int64_t model_ranks = p.tensor * p.context * p.pipeline;
    const std::string product = "tensor " + str(p.tensor) + " x context " + str(p.context) +
                                " x pipeline " + str(p.pipeline) + " = " + str(model_ranks);
    const std::string world_text = "world size " + str(world->size) + " (" + world->source + ")";
    if (p.data == -1) {
      if (world->size % model_ranks != 0) {
        const std::string message =
            world_text + " is not divisible by " + product +
            "; valid: a world size that is a "
            "multiple of " +
            str(model_ranks) + " (e.g. " + multiples_near(world->size, model_ranks) +
            "), or tensor x context x pipeline "
            "dividing " +
            str(world->size) + " (" + divisors_near(world->size, model_ranks) + ")";
        const std::string key =
            ctx.blame({"parallel.tensor", "parallel.pipeline", "parallel.context"});
        if (!ctx.explicit_value(key) && env.launcher_world) {
          ctx.problem_at(world->origin, message);
        } else {
          ctx.problem(ctx.explicit_value(key) ? key : "launch.nproc", message);
        }
      } else {
        data = world->size / model_ranks;
        Origin origin = ctx.origin("parallel.data");
        origin.note = "-1: world " + str(world->size) + " / " + str(model_ranks);
        ctx.set_origin("parallel.data", origin);
      }
    } else if (model_ranks * p.data != world->size) {
      std::string valid =
          world->size % model_ranks == 0
              ? str(world->size / model_ranks) + ", or -1 for the rest"
              : "-1 for the rest, with a world size that is a multiple of " + str(model_ranks);
      ctx.problem("parallel.data", "tensor " + str(p.tensor) + " x context " + str(p.context) +
                                       " x data " + str(p.data) + " x pipeline " + str(p.pipeline) +
                                       " = " + str(model_ranks * p.data) +
                                       " ranks, but the world has " + str(world->size) + " (" +
                                       world->source + "); valid: " + valid);
    } else {
      data = p.data;
    }
  }
  bool ready = data.has_value() && ctx.valid("parallel.order");
  if (ready) {
    c.parallel.data = *data;
    run.layout =
        ParallelLayout(ParallelSizes{static_cast<int>(p.tensor), static_cast<int>(p.context),
                                     static_cast<int>(*data), static_cast<int>(p.pipeline)},
                       parse_rank_order(p.order));
  }

  // ---- the model over heads and pipeline chunks
  const ModelSection& m = c.model;
  if (ctx.valid({"model.hidden", "model.heads"}) && m.hidden % m.heads != 0) {
    ctx.problem(ctx.blame({"model.heads", "model.hidden"}),
                "hidden " + str(m.hidden) + " does not split evenly into " + str(m.heads) +
                    " heads; valid: a number of heads dividing hidden " + str(m.hidden) +
                    " (e.g. " + divisors_near(m.hidden, m.heads) + "), or hidden a multiple of " +
                    str(m.heads));
    ready = false;
  }
  if (ctx.valid({"model.layers", "parallel.pipeline", "parallel.virtual_stages"})) {
    const std::int64_t chunks = p.pipeline * p.virtual_stages;
    if (m.layers % chunks != 0) {
      ctx.problem(ctx.blame({"parallel.pipeline", "parallel.virtual_stages", "model.layers"}),
                  str(m.layers) + " layers do not split evenly into pipeline " + str(p.pipeline) +
                      " x virtual_stages " + str(p.virtual_stages) + " = " + str(chunks) +
                      " model chunks; valid: pipeline x virtual_stages dividing " + str(m.layers) +
                      " (" + divisors_near(m.layers, chunks) + "), or layers a multiple of " +
                      str(chunks));
      ready = false;
    }
  } else {
    ready = false;
  }
  run.virtual_stages = static_cast<int>(p.virtual_stages);

  // ---- the global batch over data ranks and microbatches
  const TrainSection& t = c.train;
  if (data && ctx.valid({"train.micro_batch", "train.global_batch"})) {
    const std::int64_t per_round = t.micro_batch * *data;
    const std::string round = "micro_batch " + str(t.micro_batch) + " x data " + str(*data) +
                              " = " + str(per_round) + " sequences";
    if (t.global_batch < per_round) {
      ctx.problem(ctx.blame({"train.global_batch", "train.micro_batch"}),
                  "global_batch " + str(t.global_batch) +
                      " is less than one microbatch on each "
                      "data rank (" +
                      round + "); valid: global_batch a multiple of " + str(per_round) +
                      ", or a smaller micro_batch");
      ready = false;
    } else if (t.global_batch % per_round != 0) {
      ctx.problem(ctx.blame({"train.global_batch", "train.micro_batch"}),
                  "global_batch " + str(t.global_batch) +
                      " does not split into whole "
                      "microbatches of " +
                      round + "; valid: global_batch a multiple of " + str(per_round) + " (e.g. " +
                      multiples_near(t.global_batch, per_round) +
                      "), or micro_batch x data dividing " + str(t.global_batch));
      ready = false;
    } else {
      run.microbatches = static_cast<int>(t.global_batch / per_round);
    }
  } else {
    ready = false;
  }

  // ---- model dimensions and the padded vocabulary
  if (ctx.valid({"model.vocab_size", "model.seq_len", "model.layers", "model.heads", "model.hidden",
                 "parallel.tensor"})) {
    run.dims.vocab_size = m.vocab_size;
    run.dims.seq_len = m.seq_len;
    // An llm.c checkpoint's position table may be longer than the sequences trained on.
    run.dims.max_seq_len = run.llmc              ? run.llmc->max_seq_len
                           : run.checkpoint_dims ? run.checkpoint_dims->max_seq_len
                                                 : m.seq_len;
    run.dims.layers = m.layers;
    run.dims.heads = m.heads;
    run.dims.hidden = m.hidden;
    // The vocabulary-parallel embedding splits rows over the tensor group; an llm.c checkpoint
    // brings its own padding, which may need more for the tensor size.
    run.dims.padded_vocab = run.llmc ? round_up(run.llmc->padded_vocab, p.tensor)
                                     : round_up(m.vocab_size, std::lcm(kVocabAlignment, p.tensor));
  } else {
    ready = false;
  }

  // ---- optimizer bounds between keys
  const OptimSection& o = c.optim;
  if (ctx.valid({"optim.min_lr", "optim.lr", "optim.schedule"}) && o.schedule == "cosine" &&
      o.min_lr > o.lr) {
    ctx.problem(ctx.blame({"optim.min_lr", "optim.lr"}),
                "min_lr " + toml_float_text(o.min_lr) + " is above lr " + toml_float_text(o.lr) +
                    "; the cosine decays from lr down to min_lr; valid: min_lr <= lr");
  }
  return {world.has_value(), ready && ctx.valid("device.kind")};
}

}  // namespace trellis
