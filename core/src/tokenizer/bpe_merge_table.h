// Byte-pair merging of one word, exactly as OpenAI's encoder.py does it: repeatedly take the
// adjacent pair of lowest rank anywhere in the word and merge every occurrence of it, left to
// right without overlap, until no adjacent pair has a rank.
//
// encoder.py rescans the word for each merge (quadratic in the word's length, which a long run
// of punctuation or a long word makes slow); here the pairs wait in a heap ordered by (rank,
// position) and each round takes all pairs of the lowest rank at once, so it is n log n and the
// rounds are encoder.py's rounds: pairs a round creates are only considered in the next one.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "tokenizer/gpt2_vocab_files.h"

namespace trellis {

class BpeMergeTable {
 public:
  // `merges` in rank order (merges[0] first). Each pair must appear once (read_gpt2_merges
  // checks it).
  explicit BpeMergeTable(const std::vector<BpeMerge>& merges);

  // Merges `word` (token ids, initially one a byte) in place. Const and free of shared state:
  // any number of threads may merge at once.
  void merge(std::vector<std::int32_t>& word) const;

  std::size_t size() const noexcept { return ranked_.size(); }

 private:
  struct Ranked {
    std::int32_t rank;
    std::int32_t merged;
  };
  const Ranked* find(std::int32_t left, std::int32_t right) const;

  std::unordered_map<std::uint64_t, Ranked> ranked_;  // bpe_pair_key(left, right) ->
};

}  // namespace trellis
