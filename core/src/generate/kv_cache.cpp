#include "generate/kv_cache.h"

#include "trellis/error.h"

namespace trellis {

KvCache::KvCache(const DecoderArchitecture& arch, const std::shared_ptr<Allocator>& allocator)
    : capacity_(arch.max_positions) {
  const std::int64_t width = 2 * arch.kv_width();
  for (std::int64_t l = 0; l < arch.layers; ++l)
    layers_.push_back(Tensor::empty({capacity_, width}, DType::f32, allocator));
}

Tensor KvCache::rows(int layer, std::int64_t begin, std::int64_t count) const {
  if (begin < 0 || count < 0 || begin + count > capacity_) {
    throw Error("KV cache rows [" + std::to_string(begin) + ", " + std::to_string(begin + count) +
                ") are outside its " + std::to_string(capacity_) + " positions");
  }
  return layers_.at(static_cast<std::size_t>(layer)).narrow(0, begin, count);
}

void KvCache::advance(std::int64_t count) {
  if (count < 0 || length_ + count > capacity_) {
    throw Error("KV cache: " + std::to_string(length_) + " + " + std::to_string(count) +
                " positions do not fit its " + std::to_string(capacity_));
  }
  length_ += count;
}

}  // namespace trellis
