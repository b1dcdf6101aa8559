// How the private channel's tags are shared among the backend's own algorithms.
//
// Every message of the backend's own algorithms travels on the communicator's private channel
// (mpi_communicator.h), tagged by the operation it belongs to. Each algorithm owns a fixed range
// of the tags MPI allows (0 to MPI_TAG_UB, at least 32767) and numbers its operations within it,
// so operations in flight together — of one algorithm or of several — never take each other's
// messages, whatever order their messages are posted in:
//   - the lower half for the small all_reduces, broadcasts and reduces (small_collective.h: 32
//     tags per operation, numbered together);
//   - the third quarter for the direct all_gathers (direct_all_gather.h: one tag per operation);
//   - the last quarter for the rings: all_reduce, reduce_scatter and reduce (ring_collective.h:
//     one tag per operation, numbered together).
// An operation's tags are used again only when the sequence has gone round its whole range
// (8192 operations at the smallest MPI_TAG_UB): far more than are ever in flight at once.
#pragma once

#include <cstdint>

namespace trellis::mpi {

struct TagRange {
  int first = 0;  // the range's first tag
  int count = 0;  // how many tags it has

  // The tag of operation `sequence` when each operation takes `per_operation` tags: the first of
  // its block, the blocks reused round the range.
  int block(std::uint32_t sequence, int per_operation = 1) const noexcept {
    const std::uint32_t blocks = static_cast<std::uint32_t>(count / per_operation);
    return first + static_cast<int>(sequence % blocks) * per_operation;
  }
};

// The ranges for a channel whose largest tag is `tag_upper_bound` (MPI_TAG_UB).
inline TagRange small_all_reduce_tags(int tag_upper_bound) noexcept {
  const std::int64_t tags = static_cast<std::int64_t>(tag_upper_bound) + 1;
  return {0, static_cast<int>(tags / 2)};
}
inline TagRange direct_all_gather_tags(int tag_upper_bound) noexcept {
  const std::int64_t tags = static_cast<std::int64_t>(tag_upper_bound) + 1;
  return {static_cast<int>(tags / 2), static_cast<int>(tags / 4)};
}
inline TagRange ring_tags(int tag_upper_bound) noexcept {
  const std::int64_t tags = static_cast<std::int64_t>(tag_upper_bound) + 1;
  const std::int64_t first = tags / 2 + tags / 4;
  return {static_cast<int>(first), static_cast<int>(tags - first)};
}

}  // namespace trellis::mpi
