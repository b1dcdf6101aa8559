// [data] tokenizer. The tokenizer's files are read here, once per rank, so that a broken
// vocab.json or merges.txt is a config error (exit 2) naming the file and the line, not a failure
// after the ranks have started; the run keeps what was read (run.tokenizer) to encode its text.
#include <filesystem>

#include "config/config_check.h"
#include "os/absolute_path.h"
#include "tokenizer/gpt2_tokenizer.h"
#include "tokenizer/llmc_tokenizer.h"
#include "trellis/error.h"

namespace trellis {

namespace {

constexpr const char* kValidForms =
    "valid: \"bytes\" (one token a byte, the default) or \"gpt2:DIR\" (GPT-2's BPE from "
    "DIR/vocab.json and DIR/merges.txt)";
constexpr const char* kValidDir =
    "valid: a directory holding GPT-2's vocab.json and merges.txt (Hugging Face's gpt2 model "
    "repository has both)";

// The GPT-2 tokenizer in `dir`, or null after reporting why not.
std::shared_ptr<const Tokenizer> open_gpt2(CheckContext& ctx, const std::string& key,
                                           const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (!fs::exists(status)) {
    ctx.problem(key, "no such directory: " + absolute_path_text(dir) + ctx.path_note(key) + "; " +
                         kValidDir);
    return nullptr;
  }
  if (!fs::is_directory(status)) {
    // llm.c's gpt2_tokenizer.bin holds the tokens' bytes but no merges: it decodes, and
    // training needs to encode.
    const std::string why = has_llmc_tokenizer_magic(dir)
                                ? " is llm.c's tokenizer file, which holds no merges: it can "
                                  "decode but not encode the training text; "
                                : " is not a directory; ";
    ctx.problem(key, absolute_path_text(dir) + why + kValidDir);
    return nullptr;
  }
  try {
    return Gpt2Tokenizer::open(dir);
  } catch (const InputError& e) {
    ctx.problem(key, e.what());
    return nullptr;
  }
}

}  // namespace

void check_tokenizer(CheckContext& ctx, ResolvedRun& run) {
  const std::string key = "data.tokenizer";
  if (!ctx.valid(key)) return;
  const std::string setting = ctx.config().data.tokenizer;
  constexpr std::string_view kGpt2 = "gpt2:";
  if (setting == "bytes") return;  // run.tokenizer's default
  if (!setting.starts_with(kGpt2)) {
    ctx.problem(key, std::string("unknown tokenizer; ") + kValidForms);
    ctx.invalidate(key);
    return;
  }
  const std::string dir = setting.substr(kGpt2.size());
  if (dir.empty()) {
    ctx.problem(key, std::string("no directory after 'gpt2:'; ") + kValidForms);
    ctx.invalidate(key);
    return;
  }
  std::shared_ptr<const Tokenizer> tokenizer = open_gpt2(ctx, key, dir);
  if (!tokenizer) {
    ctx.invalidate(key);
    return;
  }
  run.tokenizer = tokenizer;
  // Every id the tokenizer gives must have a row in the model's token table.
  const std::int64_t vocab = ctx.config().model.vocab_size;
  const std::int32_t needed = tokenizer->vocab_size();
  if (ctx.valid("model.vocab_size") && vocab < needed) {
    ctx.problem(ctx.blame({"model.vocab_size", "data.tokenizer"}),
                "vocab_size " + std::to_string(vocab) + " is smaller than the vocabulary of " +
                    "tokenizer " + setting + " (" + std::to_string(needed) + " tokens, ids 0.." +
                    std::to_string(needed - 1) + "); valid: vocab_size >= " +
                    std::to_string(needed) + ", or a tokenizer with fewer tokens");
  }
}

}  // namespace trellis
