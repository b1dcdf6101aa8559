#include "tokenizer/llmc_tokenizer.h"

#include <array>
#include <cstring>
#include <fstream>

#include "os/absolute_path.h"
#include "tokenizer/tokenizer_file.h"
#include "trellis/error.h"

namespace trellis {

namespace {

constexpr std::string_view kWhat = "llm.c tokenizer file";
constexpr std::size_t kHeaderWords = 256;
constexpr std::size_t kHeaderBytes = kHeaderWords * 4;

}  // namespace

bool has_llmc_tokenizer_magic(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::uint32_t magic = 0;
  return in.read(reinterpret_cast<char*>(&magic), sizeof magic) && magic == LlmcTokenizer::kMagic;
}

std::unique_ptr<LlmcTokenizer> LlmcTokenizer::open(const std::filesystem::path& file) {
  const std::string label = tokenizer_file_label(kWhat, file);
  auto fail = [&](const std::string& why) -> void { throw InputError(label + ": " + why); };
  const std::string bytes =
      read_tokenizer_file(kWhat, file, "llm.c's gpt2_tokenizer.bin (from its train_gpt2.py)");
  if (bytes.size() < kHeaderBytes) {
    fail(std::to_string(bytes.size()) + " bytes, shorter than its " + std::to_string(kHeaderBytes) +
         "-byte header; valid: llm.c's gpt2_tokenizer.bin");
  }
  std::array<std::uint32_t, kHeaderWords> header{};
  std::memcpy(header.data(), bytes.data(), kHeaderBytes);
  if (header[0] != kMagic) {
    fail("bad magic " + std::to_string(header[0]) + " (expected " + std::to_string(kMagic) +
         "); valid: llm.c's gpt2_tokenizer.bin");
  }
  auto tokenizer = std::unique_ptr<LlmcTokenizer>(new LlmcTokenizer());
  tokenizer->file_ = file;
  tokenizer->version_ = static_cast<std::int32_t>(header[1]);
  if (header[1] != 1 && header[1] != 2) {
    fail("version " + std::to_string(header[1]) + " is not one this reader knows; valid: 1 or 2");
  }
  const std::uint32_t vocab = header[2];
  if (vocab == 0 || vocab > static_cast<std::uint32_t>(INT32_MAX)) {
    fail("vocabulary size " + std::to_string(vocab) + "; valid: 1 to 2^31 - 1 tokens");
  }
  if (header[1] == 2) {
    if (header[3] >= vocab) {
      fail("end-of-text id " + std::to_string(header[3]) + " is outside its " +
           std::to_string(vocab) + " tokens; valid: an id below the vocabulary size");
    }
    tokenizer->end_of_text_ = static_cast<std::int32_t>(header[3]);
  } else if (vocab > static_cast<std::uint32_t>(kVersion1EndOfText)) {
    tokenizer->end_of_text_ = kVersion1EndOfText;
  }
  tokenizer->tokens_.reserve(vocab);
  std::size_t at = kHeaderBytes;
  for (std::uint32_t id = 0; id < vocab; ++id) {
    if (at >= bytes.size()) {
      fail("ends before token " + std::to_string(id) + " of the " + std::to_string(vocab) +
           " its header announces (the file is cut short)");
    }
    const auto length = static_cast<unsigned char>(bytes[at]);
    if (length == 0) {
      fail("token " + std::to_string(id) + " (at byte " + std::to_string(at) +
           ") has length 0; valid: 1..255 bytes a token");
    }
    if (bytes.size() - at - 1 < length) {
      fail("ends inside token " + std::to_string(id) + " of the " + std::to_string(vocab) +
           " its header announces (the file is cut short)");
    }
    tokenizer->tokens_.emplace_back(bytes, at + 1, length);
    at += 1 + length;
  }
  if (at != bytes.size()) {
    fail(std::to_string(bytes.size() - at) + " bytes follow the last of its " +
         std::to_string(vocab) + " tokens; valid: a file that ends with its last token");
  }
  return tokenizer;
}

std::vector<std::int32_t> LlmcTokenizer::encode(std::string_view) const {
  throw InputError(tokenizer_file_label(kWhat, file_) +
                   " holds each token's bytes but not GPT-2's merges: it can decode, not "
                   "encode; encoding needs vocab.json and merges.txt (\"gpt2:DIR\", DIR holding "
                   "both)");
}

std::string_view LlmcTokenizer::token_bytes(std::int32_t id) const {
  if (id < 0 || id >= vocab_size()) throw_unknown_id(id);
  return tokens_[static_cast<std::size_t>(id)];
}

std::string LlmcTokenizer::describe() const {
  return "llm.c tokenizer " + absolute_path_text(file_) + " (version " + std::to_string(version_) +
         ", " + std::to_string(tokens_.size()) + " tokens, decoding only)";
}

}  // namespace trellis
