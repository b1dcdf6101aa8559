// GPT-2's byte-level BPE from vocab.json and merges.txt (gpt2_vocab_files.h), encoding exactly as
// OpenAI's encoder.py: the text cut into pieces by GPT-2's pattern (gpt2_pretokenizer.h), each
// piece's bytes merged by rank (bpe_merge_table.h). Special tokens are not recognised in the
// text, as in encoder.py: "<|endoftext|>" written in a document encodes as its characters, and a
// caller separating documents appends end_of_text() itself.
//
// Thread-safety: encode and every other member may run on several threads at once; the only
// mutable state is the word cache, which guards itself (bpe_word_cache.h).
#pragma once

#include <array>
#include <filesystem>
#include <memory>

#include "tokenizer/bpe_merge_table.h"
#include "tokenizer/bpe_word_cache.h"
#include "tokenizer/tokenizer.h"

namespace trellis {

class Gpt2Tokenizer final : public Tokenizer {
 public:
  static constexpr std::string_view kEndOfText = "<|endoftext|>";
  static constexpr std::size_t kCacheWords = 1 << 16;

  // Reads DIR/vocab.json and DIR/merges.txt. Throws InputError naming the file and the problem.
  static std::unique_ptr<Gpt2Tokenizer> open(const std::filesystem::path& dir);
  Gpt2Tokenizer(std::filesystem::path dir, Gpt2Vocabulary vocab,
                const std::vector<BpeMerge>& merges);

  std::vector<std::int32_t> encode(std::string_view text) const override;
  std::string_view token_bytes(std::int32_t id) const override;
  std::int32_t vocab_size() const override;
  std::optional<std::int32_t> end_of_text() const override { return end_of_text_; }
  std::string describe() const override;

  std::size_t merges() const noexcept { return merge_table_.size(); }

 private:
  std::filesystem::path dir_;
  std::vector<std::string> tokens_;  // id -> bytes
  std::array<std::int32_t, 256> byte_ids_{};
  BpeMergeTable merge_table_;
  std::optional<std::int32_t> end_of_text_;
  mutable BpeWordCache cache_{kCacheWords};
};

}  // namespace trellis
