#include "context_group.h"

#include <utility>

#include "trellis/error.h"

namespace trellis::context {

ContextGroup::ContextGroup(const ContextInit& init, std::string plugin)
    : comm_(init.context),
      chunks_(init.chunks),
      kernels_(init.kernels),
      allocator_(init.allocator),
      trace_(init.trace),
      plugin_(std::move(plugin)) {
  const std::string who = "context " + plugin_ + ": ";
  if (comm_ == nullptr || kernels_ == nullptr || allocator_ == nullptr) {
    throw Error(who + "ContextInit needs the context group, the kernels and the allocator");
  }
  if (comm_->size() != chunks_.size || comm_->rank() != chunks_.rank) {
    throw Error(who + "the chunks are those of rank " + std::to_string(chunks_.rank) + " of " +
                std::to_string(chunks_.size) + ", but the context group (" + comm_->name() +
                ") has this rank at " + std::to_string(comm_->rank()) + " of " +
                std::to_string(comm_->size()));
  }
  if (chunks_.size > 1 && (chunks_.seq_len <= 0 || chunks_.seq_len % (2 * chunks_.size) != 0)) {
    throw Error(who + "a sequence of " + std::to_string(chunks_.seq_len) +
                " tokens cannot be cut into 2 x " + std::to_string(chunks_.size) +
                " equal chunks (the sequence length must be a multiple of " +
                std::to_string(2 * chunks_.size) + ")");
  }
}

Tensor ContextGroup::empty(const Shape& shape) const {
  return Tensor::empty(shape, DType::f32, allocator_);
}

Tensor ContextGroup::zeros(const Shape& shape) const {
  Tensor t = empty(shape);
  kernels_->fill(t, 0.0f);
  return t;
}

AttentionShape ContextGroup::check(const Tensor& qkv, int heads, const Tensor& other,
                                   const char* other_name, int other_width) const {
  const std::string who = "context " + plugin_ + ": ";
  const std::int64_t Tl = chunks_.local_len();
  if (!qkv.defined() || qkv.dtype() != DType::f32 || !qkv.is_contiguous() || qkv.rank() != 3 ||
      qkv.size(1) != Tl || qkv.size(2) % 3 != 0 || qkv.size(2) == 0) {
    throw Error(who + "qkv is " + (qkv.defined() ? qkv.str() : std::string("undefined")) +
                "; expected a contiguous f32 [B, " + std::to_string(Tl) +
                ", 3C]: this rank's T/c = " + std::to_string(Tl) + " tokens of each sequence");
  }
  AttentionShape s{qkv.size(0), Tl, qkv.size(2) / 3, heads};
  if (heads <= 0 || s.channels % heads != 0) {
    throw Error(who + std::to_string(heads) + " heads do not divide the " +
                std::to_string(s.channels) + " channels of qkv " + qkv.str());
  }
  const Shape want{s.batch, Tl, other_width * s.channels};
  if (!other.defined() || other.dtype() != DType::f32 || !other.is_contiguous() ||
      !(other.shape() == want)) {
    throw Error(who + other_name + " is " +
                (other.defined() ? other.str() : std::string("undefined")) +
                "; expected a contiguous f32 " + want.str() + " to go with qkv " + qkv.str());
  }
  return s;
}

}  // namespace trellis::context
