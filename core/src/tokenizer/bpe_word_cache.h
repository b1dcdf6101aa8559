// The merged ids of words seen before: text repeats its words, and merging is most of encoding's
// work. Owned by one tokenizer (no global state) and bounded: two generations of at most
// `capacity` / 2 words each; when the newer fills, it becomes the older and the old older is
// dropped, so words in use stay (a hit in the older generation moves the word to the newer) and
// memory stays bounded on any corpus.
//
// Thread-safety: find and insert may be called from several threads at once; one mutex guards
// both generations and is held only for the lookup or the insertion, never while merging.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace trellis {

class BpeWordCache {
 public:
  // Longer words are not kept: they are rare and would fill the cache with one-offs.
  static constexpr std::size_t kMaxWordBytes = 128;

  explicit BpeWordCache(std::size_t capacity);

  // Appends the ids of `word` to `out` and returns true when the word is cached.
  bool find(std::string_view word, std::vector<std::int32_t>& out);
  void insert(std::string_view word, std::span<const std::int32_t> ids);

 private:
  struct Hash : std::hash<std::string_view> {
    using is_transparent = void;
  };
  using Generation =
      std::unordered_map<std::string, std::vector<std::int32_t>, Hash, std::equal_to<>>;
  void insert_locked(std::string word, std::vector<std::int32_t> ids);

  std::size_t generation_size_;
  std::mutex mutex_;
  Generation newer_;
  Generation older_;
};

}  // namespace trellis
