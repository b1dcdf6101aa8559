// trellis-generate: a GPT-2 or LLaMA model continues a prompt (generate_arguments.cpp has the
// command line, docs/user-guide.md "Generating text" the user's view).
//
// Finds out what CHECKPOINT_OR_CONFIG is (generate/model_input.h), loads it with the layer family
// and the loaders training uses (generate/generation_model.h) and runs the decoder with its KV
// cache (generate/decoder.h): the prompt is printed, then each token's bytes as soon as it is
// chosen. Exit codes: 0 success, 2 bad input (arguments, files, the prompt), 1 other failure.
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "config/run_environment.h"
#include "generate/decoder.h"
#include "generate/generation.h"
#include "generate/generation_model.h"
#include "generate/model_input.h"
#include "generate/tokenizer_spec.h"
#include "generate_arguments.h"
#include "kernels/cpu/cpu_kernels.h"
#include "launch/openblas_reexec.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;

using trellis::Tokenizer;

void write_flushed(std::string_view bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  std::fflush(stdout);
}

// A token's bytes; an id the tokenizer does not have (a model whose vocabulary is larger than
// the tokenizer's) is shown as "[id]" rather than stopping the stream.
std::string token_text(const Tokenizer& tokenizer, std::int32_t id) {
  if (id >= 0 && id < tokenizer.vocab_size()) return std::string(tokenizer.token_bytes(id));
  std::string shown = "[";  // appended, not "[" + ...: g++ 12 warns falsely (-Wrestrict) on that
  shown += std::to_string(id);
  shown += ']';
  return shown;
}

// "2.31 s", or below a second "41.7 ms" (a small model's whole run).
std::string duration_text(double seconds) {
  char text[32];
  if (seconds >= 1.0)
    std::snprintf(text, sizeof text, "%.2f s", seconds);
  else
    std::snprintf(text, sizeof text, "%.1f ms", seconds * 1e3);
  return text;
}

// Every prompt token must be one of the model's: checked before the model is loaded.
void check_prompt(std::span<const std::int32_t> prompt, std::int64_t vocab_size,
                  const Tokenizer& tokenizer) {
  if (prompt.empty()) {
    throw trellis::InputError(
        "--prompt encodes to no tokens; valid: a prompt of at least one token");
  }
  for (std::size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < vocab_size) continue;
    throw trellis::InputError(
        "--prompt: token " + std::to_string(i) + " (id " + std::to_string(prompt[i]) + ", \"" +
        std::string(tokenizer.token_bytes(prompt[i])) +
        "\") is outside the model's vocabulary of " + std::to_string(vocab_size) +
        " tokens (ids 0.." + std::to_string(vocab_size - 1) + "); the tokenizer is " +
        tokenizer.describe() + " (ids 0.." + std::to_string(tokenizer.vocab_size() - 1) +
        "); valid: a prompt whose tokens the model has, or --tokenizer with the model's own");
  }
}

int run(int argc, char** argv) {
  namespace app = trellis::generate_app;
  const app::GenerateArguments args = app::parse_generate_arguments(argc, argv);
  if (args.help) {
    std::fputs(app::kUsage, stdout);
    return kExitOk;
  }
  // OpenBLAS gives a CPU it does not know generic kernels (5x slower sgemm); as trellis-train
  // does by default ([device] blas_core = "auto"), restart once with the best this CPU runs.
  trellis::use_openblas_core(trellis::BlasCoreSetting{}, argv);
  const trellis::RunEnvironment env = trellis::RunEnvironment::from_process();
  const trellis::ModelInput input = trellis::find_model_input(args.model, env);

  const std::string spec = !args.tokenizer.empty()    ? args.tokenizer
                           : !input.tokenizer.empty() ? input.tokenizer
                                                      : "bytes";
  const std::unique_ptr<Tokenizer> tokenizer =
      trellis::open_tokenizer(spec, args.tokenizer.empty() ? "tokenizer" : "--tokenizer");
  const std::vector<std::int32_t> prompt = tokenizer->encode(*args.prompt);
  check_prompt(prompt, input.dims.vocab_size, *tokenizer);

  const std::shared_ptr<trellis::Kernels> kernels = trellis::make_cpu_kernels(args.threads);
  const std::shared_ptr<trellis::Allocator> allocator = trellis::make_cpu_allocator();
  const trellis::PluginRegistry registry =
      trellis::PluginRegistry::discover(trellis::PluginRegistry::search_path(
          env.plugin_path ? env.plugin_path->c_str() : nullptr, input.plugin_paths));
  trellis::GenerationModel model =
      trellis::load_generation_model(input, registry, *kernels, allocator);
  trellis::Decoder decoder(model.architecture, std::move(model.weights), *kernels, allocator);
  trellis::TokenSampler sampler(args.sampling);
  std::fprintf(stderr, "trellis-generate: %s; %s; tokenizer %s\n", input.description.c_str(),
               decoder.architecture().describe().c_str(), tokenizer->describe().c_str());

  trellis::GenerationSettings settings;
  settings.max_new_tokens = args.max_new_tokens;
  settings.end_of_text = tokenizer->end_of_text();
  if (!args.tokens_only) write_flushed(*args.prompt);
  bool first = true;
  const trellis::GenerationResult result =
      trellis::generate_tokens(decoder, sampler, prompt, settings, [&](std::int32_t token) {
        if (args.tokens_only) {
          if (!first) write_flushed(" ");
          write_flushed(std::to_string(token));
        } else if (token != settings.end_of_text) {
          write_flushed(token_text(*tokenizer, token));
        }
        first = false;
      });
  write_flushed("\n");

  const auto n = static_cast<long long>(result.tokens.size());
  std::fprintf(stderr, "trellis-generate: %lld token%s in %s", n, n == 1 ? "" : "s",
               duration_text(result.seconds).c_str());
  if (n > 0) {
    std::fprintf(stderr, " (%.1f tokens/s), first token after %s",
                 static_cast<double>(n) / result.seconds,
                 duration_text(result.first_token_seconds).c_str());
  }
  std::fprintf(
      stderr, " (prompt: %zu tokens); stopped: %s\n", prompt.size(),
      trellis::describe_stop(result.stop, args.max_new_tokens, decoder.architecture().max_positions)
          .c_str());
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const trellis::InputError& e) {
    std::fprintf(stderr, "trellis-generate: %s\n", e.what());
    return kExitBadInput;
  } catch (const trellis::Error& e) {
    std::fprintf(stderr, "trellis-generate: %s\n", e.what());
    return kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trellis-generate: internal error: %s\n", e.what());
    return kExitFailure;
  }
}
