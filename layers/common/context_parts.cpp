#include "context_parts.h"

#include "trellis/error.h"

namespace trellis::layers {

ContextParts context_parts(const LayerFamilyInit& init, const std::string& family) {
  ContextParts parts;
  parts.chunks = {init.dims.seq_len, 1, 0};
  if (init.chunks.size <= 1) return parts;
  if (init.chunks.seq_len != init.dims.seq_len || !init.context_attention) {
    throw Error(family + ": context parallelism over " + std::to_string(init.chunks.size) +
                " ranks needs chunks of the model's sequences (seq_len " +
                std::to_string(init.dims.seq_len) + ", given " +
                std::to_string(init.chunks.seq_len) + ") and a context attention (" +
                (init.context_attention ? "given" : "none given") + ")");
  }
  parts.chunks = init.chunks;
  parts.attention = init.context_attention;
  return parts;
}

}  // namespace trellis::layers
