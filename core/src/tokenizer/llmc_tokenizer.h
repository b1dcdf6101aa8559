// llm.c's tokenizer file (gpt2_tokenizer.bin, written by llm.c's train_gpt2.py): a header of 256
// little-endian uint32 — magic 20240328, version 1 or 2, the vocabulary size, and in version 2
// the end-of-text id at [3] — then each token as one uint8 length (1..255) and that many bytes.
// It holds the tokens' bytes but no merges, so it decodes (what llm.c uses it for: printing
// samples) and cannot encode: encode throws an InputError saying vocab.json and merges.txt are
// needed for that.
//
// Thread-safety: immutable after open; any number of threads may use it.
#pragma once

#include <filesystem>
#include <memory>

#include "tokenizer/tokenizer.h"

namespace trellis {

// True when `file` can be read and starts with the magic (it may still be broken: open says how).
bool has_llmc_tokenizer_magic(const std::filesystem::path& file);

class LlmcTokenizer final : public Tokenizer {
 public:
  static constexpr std::uint32_t kMagic = 20240328;
  // Version 1 files have no end-of-text field; llm.c takes GPT-2's, 50256.
  static constexpr std::int32_t kVersion1EndOfText = 50256;

  // Reads and checks the whole file. Throws InputError naming the file and the problem: missing,
  // shorter than its header, bad magic or version, an end-of-text id outside the vocabulary, a
  // token of length 0, cut short, or bytes after the last token.
  static std::unique_ptr<LlmcTokenizer> open(const std::filesystem::path& file);

  std::vector<std::int32_t> encode(std::string_view text) const override;
  std::string_view token_bytes(std::int32_t id) const override;
  std::int32_t vocab_size() const override { return static_cast<std::int32_t>(tokens_.size()); }
  std::optional<std::int32_t> end_of_text() const override { return end_of_text_; }
  std::string describe() const override;

  std::int32_t version() const noexcept { return version_; }

 private:
  LlmcTokenizer() = default;
  std::filesystem::path file_;
  std::int32_t version_ = 0;
  std::vector<std::string> tokens_;
  std::optional<std::int32_t> end_of_text_;
};

}  // namespace trellis
