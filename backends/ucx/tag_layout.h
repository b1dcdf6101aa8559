// The 64-bit UCX tag of every message the ucx backend sends.
//
// UCX matches a receive to a send by tag alone (a receive names no endpoint), so the tag has to
// say everything that tells two messages apart on one worker:
//
//   bits 63..48  context id (16 bits): the communicator. The world is 0; split() agrees a new id
//                over the parent group (see README.md), so two communicators sharing a process
//                never share an id.
//   bit  47      class: 0 = user send/recv, 1 = collective traffic. User tags can therefore never
//                match a collective's messages, whatever values they take.
//   user send/recv (class 0):
//   bits 46..27  the sender's rank in the communicator (20 bits): a receive names its peer, and
//                the tag is the only place UCX can check it.
//   bits 26..0   the user's tag (27 bits, 0 <= tag < 2^27).
//   collective (class 1):
//   bits 46..27  the collective's sequence number in the communicator (20 bits, wrapping): ranks
//                issue collectives in the same order, so a per-communicator counter matches.
//   bits 26..0   the slot within the collective (27 bits): the algorithm's step, or step and
//                pipeline chunk. Every algorithm has one sender per (rank, slot), so the sender
//                need not be in the tag.
//
// Wrapping (sequence after 2^20 collectives, slot after 2^27 chunks) is harmless: two messages
// only clash if both are in flight between the same ranks at once, and UCX matches messages
// with equal tags from one sender in the order they were sent.
#pragma once

#include <cstdint>

namespace trellis::ucx {

namespace tag_layout {

inline constexpr int kContextBits = 16;
inline constexpr int kRankOrSequenceBits = 20;
inline constexpr int kSlotBits = 27;

inline constexpr std::uint64_t kMaxContext = (std::uint64_t{1} << kContextBits) - 1;
inline constexpr std::uint64_t kMaxRanks = std::uint64_t{1} << kRankOrSequenceBits;
inline constexpr std::uint64_t kUserTagLimit = std::uint64_t{1} << kSlotBits;

inline constexpr int kContextShift = 48;
inline constexpr int kClassShift = 47;
inline constexpr int kMiddleShift = kSlotBits;  // 27

inline constexpr std::uint64_t kFullMask = ~std::uint64_t{0};

inline constexpr std::uint64_t low_bits(std::uint64_t value, int bits) {
  return value & ((std::uint64_t{1} << bits) - 1);
}

// A user send/recv from `source_rank` (in the communicator) with the user's `tag`.
inline constexpr std::uint64_t user(std::uint32_t context, std::uint32_t source_rank,
                                    std::uint32_t tag) {
  return (low_bits(context, kContextBits) << kContextShift) |
         (low_bits(source_rank, kRankOrSequenceBits) << kMiddleShift) | low_bits(tag, kSlotBits);
}

// Message `slot` of the collective with sequence number `sequence`.
inline constexpr std::uint64_t collective(std::uint32_t context, std::uint64_t sequence,
                                          std::uint64_t slot) {
  return (low_bits(context, kContextBits) << kContextShift) | (std::uint64_t{1} << kClassShift) |
         (low_bits(sequence, kRankOrSequenceBits) << kMiddleShift) | low_bits(slot, kSlotBits);
}

}  // namespace tag_layout

}  // namespace trellis::ucx
