// RingWork: all_reduce, reduce_scatter and reduce of large buffers as a ring reduce-scatter over
// MPI_Isend and MPI_Irecv, in pipelined segments, followed by what each operation still needs:
// a ring all-gather (all_reduce), nothing (reduce_scatter), or a gather of the reduced chunks to
// the root (reduce).
//
// Why not MPI_Iallreduce, MPI_Ireduce_scatter_block, MPI_Ireduce: Open MPI 4.1 runs them through
// libnbc. Its all_reduce in groups of fewer than 4 ranks reduces to a root and broadcasts back at
// every size (each rank's whole buffer crosses twice, one transfer after another), and in place
// takes about twice the blocking MPI_Allreduce's time from 2 MiB up on 2 ranks (it copies the
// whole buffer first). Its reduce_scatter and reduce ran at 0.13x to 0.4x the blocking calls'
// speed from 64 KiB up on 2 ranks. The ring's reduce-scatter moves (n-1)/n of the buffer per
// rank, the least a reduce-scatter can, needs no full-size copy and reduces straight into the
// output.
//
// The buffer (the input) is cut into n chunks (the first count % n of them one element longer),
// each chunk into segments of `segment_bytes`. Reduce-scatter step t (0 <= t < n - 1): rank r
// sends chunk (r - t - s) to rank r + 1 and receives chunk (r - t - s - 1) from rank r - 1, with
// s = 0 for all_reduce and 1 otherwise, so that after the n - 1 steps rank r holds chunk r + 1
// (all_reduce) or chunk r (reduce_scatter: its output; reduce: what it gathers to the root)
// fully reduced. A received segment lands in a scratch slot and is combined with this rank's
// input into the partial result (`partial = input op received`: each chunk arrives once per
// rank, so the input is read, never copied or written). Each chunk is reduced by one rank only
// and copied to the others, so every rank ends with the same bits; avg divides a chunk once, on
// the rank that finished it.
//
// Where partial results live: at their chunk's place in the output where the output holds the
// whole buffer (all_reduce; reduce on the root, in place or not). Elsewhere in one chunk-sized
// buffer that every step reuses: reduce_scatter's output (the last step's partial is the result),
// or a scratch buffer on the ranks that are not a reduce's root (their output is not written).
// There a segment's partial is written only once the send that read the step before's partial
// from the same place has completed.
//
// A reduce may run as a chain instead (`chain`): the root's chunk is the whole buffer and the
// others are empty, so the buffer's segments travel from rank root + 1 round the ring to the
// root, each rank adding its input, while the empty chunks cost one empty message per segment
// and step. In a group of 2 the root then receives the other rank's input and reduces it all
// itself, needing nothing but its data: see MpiCommunicator::start_ring for when.
//
// After the reduce-scatter: all_reduce runs n - 1 ring all-gather steps (rank r sends chunk
// (r - t) to r + 1 and receives chunk (r - t - 1) into the output); reduce sends every rank's
// chunk straight to the root, which receives them into its output, peer after peer.
//
// Pipelining: a segment moves on to the next step as soon as it has arrived (and been reduced),
// without waiting for the rest of its chunk, and up to kWindow receives and kSendWindow sends are
// posted at once: while one segment is reduced the next ones are already in flight, and a
// segment is reduced while it is still in cache from its arrival. A receive into the output
// overwrites part of it only once this rank's sends from there have completed.
//
// Messages travel on the communicator's private channel, all with the operation's tag in the
// rings' range (channel_tags.h): between two ranks MPI delivers messages of one tag in the order
// they were sent, and both sides post them in segment order. Progress is made by advance(),
// which any test() or wait() on the process runs (progress_list.h).
#pragma once

#include <mpi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "scratch_pool.h"
#include "stepped_work.h"
#include "trellis/tensor.h"

namespace trellis::mpi {

class RingWork final : public SteppedWork {
 public:
  // Receives posted at once: enough to keep data arriving while a segment is reduced; the
  // scratch block holds one segment per receive. Sends may run further ahead (they need no
  // scratch): a peer that is descheduled for a while (oversubscribed or busy nodes) finds more
  // segments ready to pull when it runs again.
  static constexpr int kWindow = 8;
  static constexpr int kSendWindow = 16;

  // Starts the operation (its first messages are posted here). info.kind is all_reduce,
  // reduce_scatter or reduce (root info.peer); info.count is the input's elements. `sequence`
  // numbers the communicator's rings (the same on every rank, which call them in the same
  // order); input and output may be the same tensor for all_reduce and reduce (in place), and
  // reduce_scatter's output may be chunk rank() of its input in a group of 2 (each rank writes
  // only its own chunk there). `scratch` holds kWindow segments of `segment_bytes`; `partials`
  // partial_elements() for a reduce on a rank other than the root, nothing otherwise;
  // `chain`: a reduce as a chain (above). The group has at least 2 ranks and the operation at
  // least one element.
  RingWork(MpiCommunicator& comm, const OpInfo& info, const Tensor& input, const Tensor& output,
           std::uint32_t sequence, std::size_t segment_bytes, std::unique_ptr<std::byte[]> scratch,
           SizedBlock partials, bool chain);
  // Elements in the longest chunk of `count` among `size` ranks.
  static std::int64_t longest_chunk(std::int64_t count, int size, bool chain) noexcept;
  // What `partials` must hold: the longest chunk; for a chain, the whole buffer where there are
  // ranks between the first and the root, nothing in a group of 2 (the other rank only sends).
  static std::int64_t partial_elements(std::int64_t count, int size, bool chain) noexcept;
  ~RingWork() override;

 protected:
  std::string outstanding() const override;

 private:
  // A piece of the buffer: `count` elements from element `first`.
  struct Span {
    std::int64_t first;
    std::int64_t count;
  };

  bool advance() noexcept override;
  // Posts every receive and send whose turn has come; true if it posted any.
  bool post_ready();
  // Whether receive `unit` may land (or, for the reduce-scatter, be reduced) now.
  bool may_post_receive(std::int64_t unit) const noexcept;
  bool may_reduce(std::int64_t unit) const noexcept;
  void post_receive(std::int64_t unit);
  void post_send(std::int64_t unit);
  // A receive of the reduce-scatter has arrived: combine it into the partial result.
  void reduced(std::int64_t unit) noexcept;
  void finish() noexcept;
  // Hands the messages still in flight, and the buffers they use, to the world (which keeps
  // them for MPI): for a Work that goes before its operation has finished.
  void hand_over_to_world() noexcept;

  // Unit u is segment u % segments_ of step u / segments_ (the reduce-scatter's steps first).
  int step_of(std::int64_t unit) const noexcept { return static_cast<int>(unit / segments_); }
  // The chunk receive (send) `unit` carries, and the rank it comes from (goes to).
  int receive_chunk(std::int64_t unit) const noexcept;
  int send_chunk(std::int64_t unit) const noexcept;
  int receive_peer(std::int64_t unit) const noexcept;
  int send_peer(std::int64_t unit) const noexcept;
  // The part of the buffer unit `unit` moves in the chunk `chunk`.
  Span segment(int chunk, std::int64_t unit) const noexcept;
  std::byte* at(void* base, const Span& span) const noexcept;
  // Where the partial result of `span`, which unit `unit` moves, lives.
  std::byte* partial_at(const Span& span, std::int64_t unit) const noexcept;
  std::byte* slot(std::int64_t unit) const noexcept;

  Tensor input_;
  Tensor output_;
  std::unique_ptr<std::byte[]> scratch_;
  SizedBlock partials_;
  std::byte* partial_base_;    // the output, or partials_
  bool chunk_sized_partials_;  // partial_base_ holds one chunk, reused by every step
  std::size_t element_bytes_;
  OpKind kind_;
  int size_;
  int rank_;
  int root_;   // reduce: the rank the chunks are gathered to
  int left_;   // the reduce-scatter's receives come from here
  int right_;  // and its sends go there
  int shift_;  // 0 for all_reduce, 1 otherwise: rank r finishes chunk r + 1 - shift_
  int tag_;
  bool chain_;                                  // reduce: the root's chunk is the whole buffer
  std::int64_t chunk_base_;                     // elements in a short chunk
  std::int64_t long_chunks_;                    // the first this many chunks have one element more
  std::int64_t segment_count_;                  // elements in a full segment
  std::int64_t segments_;                       // segments per chunk (of the longest chunk)
  std::int64_t reduce_scatter_units_;           // (n-1) steps x segments_
  std::int64_t receive_units_;                  // receives per rank
  std::int64_t send_units_;                     // sends per rank
  std::int64_t received_ = 0;                   // receives completed (in unit order)
  std::int64_t receiving_ = 0;                  // receives posted
  std::int64_t sent_ = 0;                       // sends completed (in unit order)
  std::int64_t sending_ = 0;                    // sends posted
  std::array<MPI_Request, kWindow> receives_;   // unit u's in slot u % kWindow
  std::array<MPI_Request, kSendWindow> sends_;  // unit u's in slot u % kSendWindow
};

}  // namespace trellis::mpi
