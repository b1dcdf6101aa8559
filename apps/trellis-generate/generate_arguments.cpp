#include "generate_arguments.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "config/did_you_mean.h"
#include "config/flag_words.h"
#include "trellis/error.h"

namespace trellis::generate_app {

const char* const kUsage =
    "usage: trellis-generate CHECKPOINT_OR_CONFIG --prompt TEXT [--max-new-tokens N]\n"
    "                        [--temperature T] [--top-k K] [--top-p P] [--seed S]\n"
    "                        [--tokenizer bytes|gpt2:DIR] [--threads N] [--tokens-only]\n"
    "\n"
    "Continues TEXT with a GPT-2 or LLaMA model, printing the prompt and then each new token\n"
    "as it is made (docs/user-guide.md, \"Generating text\"). CHECKPOINT_OR_CONFIG is one of:\n"
    "  a Trellis checkpoint    a step-NNNNNNNN directory, or the checkpoints directory\n"
    "                          holding them (its newest complete step)\n"
    "  a Hugging Face model    a GPT-2 or LLaMA directory: config.json and model.safetensors\n"
    "                          (with vocab.json and merges.txt, GPT-2's tokenizer is the\n"
    "                          default)\n"
    "  an llm.c checkpoint     a file (gpt2_124M.bin)\n"
    "  a run's config          a .toml file: the newest checkpoint in its [checkpoint] dir,\n"
    "                          else its [model] init\n"
    "\n"
    "  --prompt TEXT           the text to continue (required)\n"
    "  --max-new-tokens N      tokens to generate at most (default 64); generation also\n"
    "                          stops when the text fills the model's positions, and at the\n"
    "                          tokenizer's end-of-text token\n"
    "  --temperature T         softmax temperature (default 1.0); 0 is greedy: always the\n"
    "                          most likely token, the lowest id among equals\n"
    "  --top-k K               sample among the K most likely tokens only (default 0: off)\n"
    "  --top-p P               sample among the fewest most likely tokens whose probability\n"
    "                          reaches P, in (0, 1] (default 1: off); applied after top-k\n"
    "  --seed S                the sampler's seed (default 0): the same seed, model, prompt\n"
    "                          and flags give the same tokens\n"
    "  --tokenizer bytes|gpt2:DIR\n"
    "                          bytes: each byte a token (the default); gpt2:DIR: GPT-2's BPE\n"
    "                          from DIR/vocab.json and DIR/merges.txt\n"
    "  --threads N             CPU threads (default: the runtime's choice)\n"
    "  --tokens-only           print the generated token ids, space-separated, instead of text\n"
    "  --help, -h              show this help\n"
    "\n"
    "At the end a line on stderr gives the tokens generated, tokens/s and the time to the\n"
    "first token. Exit codes: 0 success, 2 bad input (arguments, files, a prompt token outside\n"
    "the model's vocabulary), 1 other failure.\n";

namespace {

InputError usage_error(const std::string& what) {
  return InputError(what + "\n" + kUsage);
}

// A whole number in [low, high], written in full ("12", not "12x" or "1e3").
std::int64_t parse_integer(const std::string& flag, const std::string& text, std::int64_t low,
                           std::int64_t high, const std::string& valid) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < low || v > high)
    throw usage_error(flag + " '" + text + "': valid: " + valid);
  return v;
}

std::uint64_t parse_seed(const std::string& text) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end)
    throw usage_error("--seed '" + text + "': valid: a whole number from 0 to 2^64 - 1");
  return v;
}

double parse_real(const std::string& flag, const std::string& text, const std::string& valid) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
    throw usage_error(flag + " '" + text + "': valid: " + valid);
  return v;
}

}  // namespace

GenerateArguments parse_generate_arguments(int argc, char** argv) {
  GenerateArguments a;
  const std::vector<std::string> flags = {
      "--prompt", "--max-new-tokens", "--temperature", "--top-k",       "--top-p",
      "--seed",   "--tokenizer",      "--threads",     "--tokens-only", "--help"};
  const std::vector<std::string> given(argv + 1, argv + argc);
  FlagWords words(given);  // reads `given` in place
  while (words.next()) {
    const std::string& arg = words.flag();
    auto value = [&] {
      try {
        return words.value();
      } catch (const InputError& e) {
        throw usage_error(e.what());
      }
    };
    if ((arg == "--help" || arg == "--tokens-only") && words.word() != arg) {
      throw usage_error(arg + " takes no value; got '" + words.word() + "'");
    }
    if (arg == "--help" || arg == "-h") {
      a.help = true;
    } else if (arg == "--tokens-only") {
      a.tokens_only = true;
    } else if (arg == "--prompt") {
      a.prompt = value();
    } else if (arg == "--max-new-tokens") {
      a.max_new_tokens =
          parse_integer(arg, value(), 1, std::int64_t{1} << 40, "a whole number >= 1");
    } else if (arg == "--temperature") {
      const std::string text = value();
      a.sampling.temperature = parse_real(arg, text, "a number >= 0 (0: greedy)");
      if (a.sampling.temperature < 0.0)
        throw usage_error(arg + " '" + text + "': valid: a number >= 0 (0: greedy)");
    } else if (arg == "--top-k") {
      a.sampling.top_k =
          parse_integer(arg, value(), 0, std::int64_t{1} << 40, "a whole number >= 0 (0: off)");
    } else if (arg == "--top-p") {
      const std::string text = value();
      const std::string valid = "a number in (0, 1] (1: off)";
      a.sampling.top_p = parse_real(arg, text, valid);
      if (!(a.sampling.top_p > 0.0 && a.sampling.top_p <= 1.0))
        throw usage_error(arg + " '" + text + "': valid: " + valid);
    } else if (arg == "--seed") {
      a.sampling.seed = parse_seed(value());
    } else if (arg == "--tokenizer") {
      a.tokenizer = value();
      if (a.tokenizer.empty()) throw usage_error("--tokenizer is empty; valid: bytes, or gpt2:DIR");
    } else if (arg == "--threads") {
      a.threads = static_cast<int>(parse_integer(arg, value(), 1, 4096, "a whole number >= 1"));
    } else if (arg.starts_with("-") && arg != "-") {
      throw usage_error("unknown option '" + arg + "'" + did_you_mean(arg, flags));
    } else if (a.model.empty()) {
      a.model = words.word();
    } else {
      throw usage_error("one CHECKPOINT_OR_CONFIG only; got '" + a.model + "' and '" +
                        words.word() + "'");
    }
  }
  if (a.help) return a;
  if (a.model.empty()) throw usage_error("no CHECKPOINT_OR_CONFIG given");
  if (!a.prompt) throw usage_error("no --prompt given; valid: --prompt TEXT");
  return a;
}

}  // namespace trellis::generate_app
