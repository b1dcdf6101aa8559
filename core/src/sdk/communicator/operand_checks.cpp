#include "communicator/operand_checks.h"

#include "trellis/error.h"

namespace trellis::comm_checks {

namespace {

[[noreturn]] void bad(const CallSite& site, const std::string& what) {
  throw Error(site.str() + ": " + what);
}

const char* bytes_of(const Tensor& t) {
  return static_cast<const char*>(t.data_ptr());
}

bool disjoint(const char* a, std::size_t a_bytes, const char* b, std::size_t b_bytes) {
  return a + a_bytes <= b || b + b_bytes <= a;
}

}  // namespace

std::string CallSite::str() const {
  return std::string("backend ") + backend + ": " + operation + " on group '" + group + "'";
}

std::string InPlaceForm::str() const {
  if (small == nullptr) return "the same tensor as input and output";
  return "the " + std::string(small) + " as chunk rank() = " + std::to_string(chunk) + " of the " +
         big;
}

void check_defined(const CallSite& site, const char* role, const Tensor& tensor) {
  if (!tensor.defined()) bad(site, std::string(role) + " is an undefined tensor");
}

void check_contiguous(const CallSite& site, const char* role, const Tensor& tensor) {
  if (tensor.is_contiguous()) return;
  bad(site, std::string(role) + " must be contiguous, but " + tensor.str() + " with strides " +
                tensor.strides().str() +
                " is not contiguous (a strided view); copy it into a contiguous tensor first");
}

void check_same_dtype(const CallSite& site, const Tensor& input, const Tensor& output) {
  if (input.dtype() == output.dtype()) return;
  bad(site, std::string("input and output must have the same dtype, got ") +
                dtype_name(input.dtype()) + " and " + dtype_name(output.dtype()) + " (input " +
                input.str() + ", output " + output.str() + ")");
}

void check_count(const CallSite& site, const char* role, const Tensor& tensor,
                 std::int64_t expected, const char* rule) {
  if (tensor.numel() == expected) return;
  bad(site, std::string(role) + " must have " + rule + " (" + std::to_string(expected) + "), got " +
                tensor.str() + " with " + std::to_string(tensor.numel()) + " elements");
}

void check_chunks(const CallSite& site, const char* role, const Tensor& tensor, int parts) {
  if (tensor.numel() % parts == 0) return;
  bad(site, std::string(role) + " must hold size() = " + std::to_string(parts) +
                " equal chunks, got " + tensor.str() + " with " + std::to_string(tensor.numel()) +
                " elements");
}

void check_placement(const CallSite& site, const Tensor& input, const Tensor& output,
                     bool output_is_small, const InPlaceForm& in_place) {
  const Tensor& small = output_is_small ? output : input;
  const Tensor& big = output_is_small ? input : output;
  const std::size_t small_bytes = small.nbytes(), big_bytes = big.nbytes();
  if (small_bytes == 0 || big_bytes == 0) return;  // nothing read or written: no conflict
  const char* small_begin = bytes_of(small);
  const char* big_begin = bytes_of(big);
  if (disjoint(small_begin, small_bytes, big_begin, big_bytes)) return;
  const char* chunk_begin = big_begin + static_cast<std::size_t>(in_place.chunk) * small_bytes;
  if (small_begin == chunk_begin && chunk_begin + small_bytes <= big_begin + big_bytes) return;
  bad(site, "input " + input.str() + " and output " + output.str() +
                " overlap in memory; pass separate tensors or, in place, " + in_place.str());
}

void check_separate(const CallSite& site, const Tensor& input, const Tensor& output) {
  if (input.nbytes() == 0 || output.nbytes() == 0) return;  // nothing read or written
  if (disjoint(bytes_of(input), input.nbytes(), bytes_of(output), output.nbytes())) return;
  bad(site, "input " + input.str() + " and output " + output.str() +
                " overlap in memory; pass separate tensors (it has no in-place form)");
}

void check_counts(const CallSite& site, const char* role, std::span<const std::int64_t> counts,
                  int size, const char* tensor_role, const Tensor& tensor) {
  if (counts.size() != static_cast<std::size_t>(size)) {
    bad(site, std::string(role) + " must have size() = " + std::to_string(size) +
                  " entries, one per rank, got " + std::to_string(counts.size()));
  }
  std::int64_t total = 0;
  for (int peer = 0; peer < size; ++peer) {
    const std::int64_t count = counts[static_cast<std::size_t>(peer)];
    if (count < 0) {
      bad(site, std::string(role) + "[" + std::to_string(peer) + "] is " + std::to_string(count) +
                    ": counts are element counts, 0 or more");
    }
    if (count > tensor.numel() - total) {
      bad(site, std::string(role) + " sum past the " + tensor_role + ": through " + role + "[" +
                    std::to_string(peer) + "] = " + std::to_string(count) + " they need " +
                    std::to_string(total) + " + " + std::to_string(count) + " elements, but " +
                    tensor_role + " " + tensor.str() + " has " + std::to_string(tensor.numel()));
    }
    total += count;
  }
}

void check_rank(const CallSite& site, const char* role, int value, int size) {
  if (value >= 0 && value < size) return;
  bad(site, std::string(role) + " " + std::to_string(value) +
                " is not a rank of this group, which has ranks 0 to " + std::to_string(size - 1));
}

void check_tag(const CallSite& site, const char* backend, int tag, int max_tag) {
  if (tag >= 0 && tag <= max_tag) return;
  bad(site, "tag " + std::to_string(tag) + " is out of range: backend " + backend +
                " takes tags from 0 to " + std::to_string(max_tag));
}

}  // namespace trellis::comm_checks
