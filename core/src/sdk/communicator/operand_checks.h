// The argument checks of comm.h's public operations that need nothing from the backend.
//
// Each throws trellis::Error whose message starts with the call site ("backend mpi: all_reduce on
// group 'world'") and says which tensor or argument is wrong and what was expected. They are the
// one copy of these rules: backends rely on them instead of checking again.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "trellis/tensor.h"

namespace trellis::comm_checks {

// Where a check runs, named in its message ("backend mpi: all_reduce on group 'world'"). Its
// text is made only when a check fails: a call whose arguments pass allocates nothing (making it
// eagerly cost an 8-byte all_reduce 0.3 us, as much as the reduction itself).
struct CallSite {
  const char* backend;
  const std::string& group;
  const char* operation;
  std::string str() const;
};

// An operation's in-place form, for the message when input and output overlap otherwise: the
// same tensor (`small` null), or the `small` tensor as chunk rank() = `chunk` of the `big` one.
struct InPlaceForm {
  const char* small = nullptr;
  const char* big = nullptr;
  std::int64_t chunk = 0;
  std::string str() const;
};

// `tensor` is defined and contiguous. `role` names it: "input", "output", "buffer".
void check_defined(const CallSite& site, const char* role, const Tensor& tensor);
void check_contiguous(const CallSite& site, const char* role, const Tensor& tensor);

void check_same_dtype(const CallSite& site, const Tensor& input, const Tensor& output);
// `tensor` has `expected` elements; `rule` says why ("size() x input elements").
void check_count(const CallSite& site, const char* role, const Tensor& tensor,
                 std::int64_t expected, const char* rule);
// `tensor` splits into `parts` equal chunks (all_to_all).
void check_chunks(const CallSite& site, const char* role, const Tensor& tensor, int parts);

// `small` and `big` are separate memory, or `small` is exactly chunk `in_place.chunk` of `big`
// (of small's size: the same tensor when their sizes are equal), the operation's in-place form.
// Empty tensors never conflict.
void check_placement(const CallSite& site, const Tensor& input, const Tensor& output,
                     bool output_is_small, const InPlaceForm& in_place);
// `input` and `output` are separate memory (an operation with no in-place form).
void check_separate(const CallSite& site, const Tensor& input, const Tensor& output);

// `counts` (`role`: "send_counts", "recv_counts") has `size` entries, none negative, whose sum
// fits in `tensor` (`tensor_role`).
void check_counts(const CallSite& site, const char* role, std::span<const std::int64_t> counts,
                  int size, const char* tensor_role, const Tensor& tensor);

// 0 <= value < size: a root or peer ("root", "peer") of the group.
void check_rank(const CallSite& site, const char* role, int value, int size);
// 0 <= tag <= max_tag.
void check_tag(const CallSite& site, const char* backend, int tag, int max_tag);

}  // namespace trellis::comm_checks
