// Tokens/s of text generation, with the KV cache and by recomputing the whole text for every
// token, side by side in one run: for each repeat, each thread count and each mode in turn
// (alternating, so drifts in the machine's speed hit every cell alike), greedy generation of
// --new tokens after a random prompt of --prompt tokens, by a model with random initial weights
// made as a run with [model] init = "random" makes them (the "1d" layer family and param_init,
// through generate/generation_model.h): GPT-2's blocks, or with --arch llama the "llama" preset's
// (config/model_architecture.h; --kv-heads for grouped-query attention). Both modes must produce
// the same tokens.
//
// Usage: trellis-bench-generate [--threads 1,2] [--repeats 3] [--prompt 64] [--new 128]
//                               [--vocab 50257] [--layers 12] [--heads 12] [--hidden 768]
//                               [--positions 1024] [--arch gpt2|llama] [--kv-heads HEADS]
//                               [--blas-core auto|keep|NAME]
// (the defaults: GPT-2 124M). Prints each run with the machine's load average, then per thread
// count and mode the medians over the repeats — the time to the first token (the prompt's pass),
// tokens/s after it (one token a step), tokens/s overall — and the best run's tokens/s. Exit 2
// for a bad argument.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "config/model_architecture.h"
#include "config/run_environment.h"
#include "generate/decoder.h"
#include "generate/generation.h"
#include "generate/generation_model.h"
#include "kernels/cpu/cpu_kernels.h"
#include "launch/openblas_reexec.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

using namespace trellis;

namespace {

struct BenchOptions {
  std::vector<int> threads = {1, 2};
  int repeats = 3;
  std::int64_t prompt = 64;
  std::int64_t new_tokens = 128;
  ModelDims dims{50257, 0, 1024, 1024, 12, 12, 768};
  std::string arch = "gpt2";
  std::int64_t kv_heads = 0;  // 0: the preset's (heads)
  std::string blas_core = "auto";
};

std::int64_t positive(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 1)
    throw InputError(flag + " '" + text + "': valid: a whole number >= 1");
  return v;
}

BenchOptions parse(int argc, char** argv) {
  BenchOptions o;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw InputError(flag + " needs a value after it");
    const std::string v = argv[i + 1];
    if (flag == "--threads") {
      o.threads.clear();
      for (std::size_t at = 0; at <= v.size();) {
        const std::size_t comma = std::min(v.find(',', at), v.size());
        o.threads.push_back(static_cast<int>(positive(flag, v.substr(at, comma - at))));
        at = comma + 1;
      }
    } else if (flag == "--repeats") {
      o.repeats = static_cast<int>(positive(flag, v));
    } else if (flag == "--prompt") {
      o.prompt = positive(flag, v);
    } else if (flag == "--new") {
      o.new_tokens = positive(flag, v);
    } else if (flag == "--vocab") {
      o.dims.vocab_size = positive(flag, v);
    } else if (flag == "--layers") {
      o.dims.layers = positive(flag, v);
    } else if (flag == "--heads") {
      o.dims.heads = positive(flag, v);
    } else if (flag == "--hidden") {
      o.dims.hidden = positive(flag, v);
    } else if (flag == "--positions") {
      o.dims.max_seq_len = o.dims.seq_len = positive(flag, v);
    } else if (flag == "--arch") {
      if (v != "gpt2" && v != "llama") throw InputError("--arch '" + v + "': valid: gpt2, llama");
      o.arch = v;
    } else if (flag == "--kv-heads") {
      o.kv_heads = positive(flag, v);
    } else if (flag == "--blas-core") {
      o.blas_core = v;
    } else {
      throw InputError("unknown option '" + flag +
                       "'; valid: --threads --repeats --prompt --new --vocab --layers --heads "
                       "--hidden --positions --arch --kv-heads --blas-core");
    }
  }
  // Padded as a run at tensor 1 pads it (a multiple of 128).
  o.dims.padded_vocab = (o.dims.vocab_size + 127) / 128 * 128;
  if (o.prompt + o.new_tokens > o.dims.max_seq_len)
    throw InputError("--prompt + --new must fit the model's --positions");
  return o;
}

struct Cell {
  std::vector<double> first_token, decode_rate, overall_rate;
};

// The machine's 1-minute load average (/proc/loadavg), printed with each run: on a shared
// machine it says which figures other work disturbed.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one_minute = "?";
  in >> one_minute;
  return one_minute;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int run(int argc, char** argv) {
  const BenchOptions o = parse(argc, argv);
  std::printf(
      "%s\n",
      use_openblas_core(BlasCoreSetting::parse(o.blas_core, "--blas-core"), argv).line().c_str());
  const RunEnvironment env = RunEnvironment::from_process();
  const PluginRegistry registry = PluginRegistry::discover(
      PluginRegistry::search_path(env.plugin_path ? env.plugin_path->c_str() : nullptr, {}));
  const std::shared_ptr<Allocator> allocator = make_cpu_allocator();
  ModelInput input;
  input.kind = ModelInput::Kind::random;
  input.dims = o.dims;
  input.arch = architecture_preset(o.arch, o.dims.hidden, o.dims.heads);
  if (o.kv_heads > 0) input.arch.kv_heads = o.kv_heads;
  input.seed = 1234;
  GenerationModel model = [&] {
    const std::shared_ptr<Kernels> kernels = make_cpu_kernels(o.threads.front());
    return load_generation_model(input, registry, *kernels, allocator);
  }();
  std::printf("model: %s (random initialisation); prompt %lld tokens, %lld new, greedy\n",
              model.architecture.describe().c_str(), static_cast<long long>(o.prompt),
              static_cast<long long>(o.new_tokens));
  std::mt19937_64 draw(1);
  std::vector<std::int32_t> prompt;
  for (std::int64_t i = 0; i < o.prompt; ++i)
    prompt.push_back(
        static_cast<std::int32_t>(draw() % static_cast<std::uint64_t>(o.dims.vocab_size)));

  GenerationSettings settings;
  settings.max_new_tokens = o.new_tokens;
  std::map<std::pair<int, bool>, Cell> cells;
  std::vector<std::int32_t> reference;
  for (int r = 0; r < o.repeats; ++r) {
    for (int threads : o.threads) {
      // Sets this process's OpenMP threads; the decoder's products split over them.
      const std::shared_ptr<Kernels> kernels = make_cpu_kernels(threads);
      Decoder decoder(model.architecture, model.weights, *kernels, allocator);
      for (bool cache : {true, false}) {
        settings.use_cache = cache;
        TokenSampler greedy({.temperature = 0.0});
        const GenerationResult g = generate_tokens(decoder, greedy, prompt, settings);
        if (reference.empty()) reference = g.tokens;
        if (g.tokens != reference)
          throw Error(std::string(cache ? "KV cache" : "recomputed") + " at " +
                      std::to_string(threads) + " threads made other tokens than the first run");
        const double n = static_cast<double>(g.tokens.size());
        Cell& c = cells[{threads, cache}];
        c.first_token.push_back(g.first_token_seconds);
        c.decode_rate.push_back((n - 1) / (g.seconds - g.first_token_seconds));
        c.overall_rate.push_back(n / g.seconds);
        std::printf("repeat %d, %d thread%s, %-10s: %.2f s (load average %s)\n", r + 1, threads,
                    threads == 1 ? "" : "s", cache ? "KV cache" : "recomputed", g.seconds,
                    load_average().c_str());
        std::fflush(stdout);
      }
    }
  }
  // Medians, and the best run: on a shared machine other programs only ever slow a run down (two
  // threads lose whole time slices at every kernel's barrier), so the best run is the machine's
  // speed and the median what a user of the shared machine saw.
  auto best = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); };
  std::printf(
      "\n| threads | mode | first token (s) | tokens/s after it | tokens/s overall |"
      " best run: tokens/s overall |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (int threads : o.threads) {
    for (bool cache : {true, false}) {
      const Cell& c = cells[{threads, cache}];
      std::printf("| %d | %s | %.3f | %.2f | %.2f | %.2f |\n", threads,
                  cache ? "KV cache" : "recomputed", median(c.first_token), median(c.decode_rate),
                  median(c.overall_rate), best(c.overall_rate));
    }
  }
  for (int threads : o.threads) {
    const Cell& cached = cells[{threads, true}];
    const Cell& recomputed = cells[{threads, false}];
    std::printf("speed-up of the cache at %d thread%s: %.1fx (medians), %.1fx (best runs)\n",
                threads, threads == 1 ? "" : "s",
                median(cached.overall_rate) / median(recomputed.overall_rate),
                best(cached.overall_rate) / best(recomputed.overall_rate));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const InputError& e) {
    std::fprintf(stderr, "trellis-bench-generate: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trellis-bench-generate: %s\n", e.what());
    return 1;
  }
}
