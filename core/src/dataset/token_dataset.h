// A training corpus as a sequence of token ids, and the windows a step reads from it.
//
// Two formats: llm.c's token files (detected by their magic; uint16 ids) and any other file as
// plain text, encoded with a tokenizer: the byte-level one by default (each byte is a token,
// 0..255), whose ids are the file's bytes, so the file is mapped, not copied. Any other tokenizer
// (GPT-2's BPE) encodes the whole file once when it is opened and keeps the ids in memory (4
// bytes a token: fine for the corpora small models train on; a large corpus is better turned into
// an llm.c token file beforehand).
//
// Windows (DESIGN.md, the same llm.c reads): without shuffling, sequence j of the global batch of
// step s starts at token (b*G + j)*T, where b = s mod E and E = floor((n - 1) / (G*T)) is the
// number of whole batches in the n tokens; targets are the next T tokens. With shuffling, the
// E*G windows of each epoch are visited in an order drawn from the seed and the epoch. However
// the batch is split across data ranks and microbatches, each sequence reads the same window.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace trellis {

class TokenDataset {
 public:
  // Opens `file`; every token id must be below `vocab_size` (checked once here). Text is read as
  // bytes. Throws InputError naming the file and the problem.
  static TokenDataset open(const std::filesystem::path& file, std::int64_t vocab_size);
  // The same, text encoded with `text_tokenizer`, whose vocabulary must fit in `vocab_size`.
  static TokenDataset open(const std::filesystem::path& file, std::int64_t vocab_size,
                           const Tokenizer& text_tokenizer);

  TokenDataset(TokenDataset&&) noexcept;
  TokenDataset& operator=(TokenDataset&&) noexcept;
  ~TokenDataset();

  const std::filesystem::path& file() const noexcept;
  bool is_text() const noexcept;
  // What a text file was encoded with (the tokenizer's describe()); empty for a token file.
  const std::string& text_tokenizer() const noexcept;
  std::int64_t tokens() const noexcept;
  std::int32_t token(std::int64_t position) const noexcept;

  // Whole global batches of `global_batch` sequences of `seq_len` tokens in the corpus.
  // Throws InputError when not even one fits.
  std::int64_t batches_per_epoch(std::int64_t global_batch, std::int64_t seq_len) const;

  // Writes sequences [first, first + count) of step `step`'s global batch: inputs and targets,
  // each count x seq_len ids, row-major.
  void read(std::int64_t step, std::int64_t global_batch, std::int64_t seq_len, std::int64_t first,
            std::int64_t count, bool shuffle, std::uint64_t seed, std::int32_t* inputs,
            std::int32_t* targets) const;

 private:
  struct Mapping;
  explicit TokenDataset(std::unique_ptr<Mapping> mapping);
  std::int64_t window_start(std::int64_t step, std::int64_t global_batch, std::int64_t seq_len,
                            std::int64_t sequence, bool shuffle, std::uint64_t seed) const;
  std::unique_ptr<Mapping> m_;
};

}  // namespace trellis
