// [data] train and val. A file that starts with llm.c's token magic is a token file and must be
// a whole one; a .bin file without the magic is almost surely a token file gone wrong (reading
// it as text would train on garbage), so it is an error; anything else is text for [data]
// tokenizer (tokenizer_check.cpp).
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "config/config_check.h"
#include "config/config_value.h"
#include "dataset/token_file_header.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// Bytes are tokens 0..255.
constexpr std::int64_t kByteVocab = 256;

std::optional<DataFile> check_data_file(CheckContext& ctx, const std::string& key,
                                        const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) {
    ctx.problem(key, "no such file: " + absolute_path_text(path) + ctx.path_note(key) +
                         "; valid: the path of an llm.c token file or a text file");
    return std::nullopt;
  }
  if (fs::is_directory(status)) {
    ctx.problem(key, absolute_path_text(path) +
                         " is a directory; valid: an llm.c token file or a text file");
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ctx.problem(key, "cannot read " + absolute_path_text(path) + ": " + std::strerror(errno));
    return std::nullopt;
  }
  if (has_token_file_magic(path)) {
    try {
      const TokenFileHeader header = read_token_file_header(path);
      return DataFile{path, DataFile::Format::llmc_tokens, header.tokens};
    } catch (const InputError& e) {
      ctx.problem(key, e.what());
      return std::nullopt;
    }
  }
  const std::int64_t bytes = static_cast<std::int64_t>(fs::file_size(path, ec));
  if (fs::path(path).extension() == ".bin") {
    std::int32_t magic = 0;
    const bool has_word = static_cast<bool>(in.read(reinterpret_cast<char*>(&magic), 4));
    ctx.problem(key, "not an llm.c token file: " +
                         (has_word ? "bad magic " + std::to_string(magic)
                                   : std::to_string(bytes) + " bytes, too short for a header") +
                         " (expected " + std::to_string(kTokenFileMagic) +
                         "); valid: an llm.c token file, or a text file not named *.bin");
    return std::nullopt;
  }
  return DataFile{path, DataFile::Format::text, bytes};
}

}  // namespace

void check_input_files(CheckContext& ctx, ResolvedRun& run) {
  const DataSection& data = ctx.config().data;
  if (ctx.valid("data.train")) {
    if (data.train.empty()) {
      ctx.problem("data.train",
                  "a training file is required; valid: the path of an llm.c "
                  "token file or of a text file");
    } else if (auto file = check_data_file(ctx, "data.train", data.train)) {
      run.train = *file;
    }
  }
  if (ctx.valid("data.val") && !data.val.empty())
    run.val = check_data_file(ctx, "data.val", data.val);

  // The byte-level tokenizer needs a row for every byte value (another tokenizer's vocabulary
  // is checked with it: check_tokenizer).
  const bool text = run.train.format == DataFile::Format::text && !run.train.path.empty();
  const bool text_val = run.val && run.val->format == DataFile::Format::text;
  const std::int64_t vocab = ctx.config().model.vocab_size;
  const bool bytes = ctx.config().data.tokenizer == "bytes";
  if ((text || text_val) && bytes && ctx.valid("model.vocab_size") && vocab < kByteVocab) {
    const std::string file = (text ? run.train.path : run.val->path).string();
    ctx.problem("model.vocab_size",
                "vocab_size " + std::to_string(vocab) + " is too small for " + file +
                    ", a text file read one byte per token; valid: vocab_size >= 256, or an "
                    "llm.c token file");
  }
}

}  // namespace trellis
