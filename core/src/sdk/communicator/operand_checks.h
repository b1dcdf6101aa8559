// The argument checks of comm.h's public operations that need nothing from the backend.
//
// Each throws trellis::Error whose message starts with the call site ("backend mpi: all_reduce on
// group 'world'") and says which tensor or argument is wrong and what was expected. They are the
// one copy of these rules: backends rely on them instead of checking again.
#pragma once

#include <cstdint>
#include <string>

#include "trellis/tensor.h"

namespace trellis::comm_checks {

// `tensor` is defined and contiguous. `role` names it: "input", "output", "buffer".
void check_defined(const std::string& site, const char* role, const Tensor& tensor);
void check_contiguous(const std::string& site, const char* role, const Tensor& tensor);

void check_same_dtype(const std::string& site, const Tensor& input, const Tensor& output);
// `tensor` has `expected` elements; `rule` says why ("size() x input elements").
void check_count(const std::string& site, const char* role, const Tensor& tensor,
                 std::int64_t expected, const char* rule);
// `tensor` splits into `parts` equal chunks (all_to_all).
void check_chunks(const std::string& site, const char* role, const Tensor& tensor, int parts);

// `small` and `big` are separate memory, or `small` is exactly chunk `chunk` of `big` (of
// small's size: the same tensor when their sizes are equal), the operation's in-place form,
// which `in_place` describes for the message. Empty tensors never conflict.
void check_placement(const std::string& site, const Tensor& input, const Tensor& output,
                     bool output_is_small, std::int64_t chunk, const std::string& in_place);

// 0 <= value < size: a root or peer ("root", "peer") of the group.
void check_rank(const std::string& site, const char* role, int value, int size);
// 0 <= tag <= max_tag.
void check_tag(const std::string& site, const char* backend, int tag, int max_tag);

}  // namespace trellis::comm_checks
