// What a context plugin works with: the context group, the chunks its ranks hold, the kernels and
// the allocator, checked once against each other when the plugin is made; and the check of the
// qkv each forward and backward receives.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "trellis/context_attention.h"
#include "trellis/error.h"

namespace trellis::context {

// The sizes of one call: B sequences of Tl local tokens, C channels of this rank's heads.
struct AttentionShape {
  std::int64_t batch = 0;     // B
  std::int64_t tokens = 0;    // Tl = T / c
  std::int64_t channels = 0;  // C
  int heads = 0;
};

class ContextGroup {
 public:
  // Throws Error naming `plugin` when the init lacks a communicator, kernels or allocator, or its
  // chunks disagree with the communicator (size, rank) or cannot be cut (T not a multiple of 2c).
  ContextGroup(const ContextInit& init, std::string plugin);

  Communicator& comm() const { return *comm_; }
  const ContextChunks& chunks() const { return chunks_; }
  Kernels& kernels() const { return *kernels_; }
  ContextTrace* trace() const { return trace_; }
  int size() const { return chunks_.size; }
  int rank() const { return chunks_.rank; }
  const std::string& plugin() const { return plugin_; }

  Tensor empty(const Shape& shape) const;  // f32, uninitialised
  Tensor zeros(const Shape& shape) const;  // f32, filled with 0

  // Checks that qkv is a contiguous f32 [B, Tl, 3C] of this rank's Tl tokens with `heads`
  // dividing C, and that `other` (out, dout or dqkv: `other_name` in the message) is a contiguous
  // f32 [B, Tl, other_width * C]. Throws Error naming the plugin and the tensor otherwise.
  AttentionShape check(const Tensor& qkv, int heads, const Tensor& other, const char* other_name,
                       int other_width) const;
  // A backward call's check: dout as forward's out, dqkv as qkv; and `stash` as the mode's own
  // kind of stash (Error naming the plugin when it is another mode's).
  template <class Stash>
  std::pair<AttentionShape, Stash*> check_backward(const Tensor& qkv, int heads, const Tensor& dout,
                                                   const Tensor& dqkv,
                                                   ContextAttentionStash& stash) const {
    const AttentionShape s = check(qkv, heads, dout, "dout", 1);
    check(qkv, heads, dqkv, "dqkv", 3);
    auto* kept = dynamic_cast<Stash*>(&stash);
    if (kept == nullptr) {
      throw Error("context " + plugin_ + ": backward was given another mode's stash");
    }
    return {s, kept};
  }

 private:
  Communicator* comm_;
  ContextChunks chunks_;
  Kernels* kernels_;
  std::shared_ptr<Allocator> allocator_;
  ContextTrace* trace_;
  std::string plugin_;
};

}  // namespace trellis::context
