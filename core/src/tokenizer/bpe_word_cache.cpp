#include "tokenizer/bpe_word_cache.h"

#include <algorithm>

namespace trellis {

BpeWordCache::BpeWordCache(std::size_t capacity)
    : generation_size_(std::max<std::size_t>(capacity / 2, 1)) {}

bool BpeWordCache::find(std::string_view word, std::vector<std::int32_t>& out) {
  if (word.size() > kMaxWordBytes) return false;
  std::lock_guard lock(mutex_);
  if (const auto it = newer_.find(word); it != newer_.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }
  const auto it = older_.find(word);
  if (it == older_.end()) return false;
  out.insert(out.end(), it->second.begin(), it->second.end());
  auto node = older_.extract(it);
  insert_locked(std::move(node.key()), std::move(node.mapped()));
  return true;
}

void BpeWordCache::insert(std::string_view word, std::span<const std::int32_t> ids) {
  if (word.size() > kMaxWordBytes) return;
  std::lock_guard lock(mutex_);
  insert_locked(std::string(word), std::vector<std::int32_t>(ids.begin(), ids.end()));
}

void BpeWordCache::insert_locked(std::string word, std::vector<std::int32_t> ids) {
  if (newer_.size() >= generation_size_) {
    older_ = std::move(newer_);
    newer_ = Generation();
  }
  newer_.emplace(std::move(word), std::move(ids));
}

}  // namespace trellis
