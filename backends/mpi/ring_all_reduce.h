// RingAllReduceWork: a large all_reduce as a ring reduce-scatter followed by a ring all-gather,
// in pipelined segments over MPI_Isend and MPI_Irecv.
//
// Why not MPI_Iallreduce: Open MPI 4.1 runs it through libnbc, which in a group of fewer than 4
// ranks reduces to a root and broadcasts back at every size (each rank's whole buffer crosses
// twice, one transfer after another), and in place takes about twice the time of the blocking
// MPI_Allreduce from 2 MiB up on 2 ranks (it copies the whole buffer into a temporary first).
// The ring moves 2(n-1)/n of the buffer per rank, the least any all_reduce can, needs no
// full-size copy in place, and reduces straight into the output out of place.
//
// The buffer is cut into n chunks (the first count % n of them one element longer), each chunk
// into segments of `segment_bytes`. Ring step t (0 <= t < 2(n-1)): rank r sends chunk (r - t)
// to rank r + 1 and receives chunk (r - t - 1) from rank r - 1. In the first n - 1 steps (the
// reduce-scatter) a received segment lands in a scratch slot and is combined with this rank's
// input into the output (`output = input op received`: each chunk arrives once per rank, so the
// input is read, never copied); after them rank r holds chunk r + 1 fully reduced. In the last
// n - 1 steps (the all-gather) the finished chunks travel on round the ring, received straight
// into the output. Each chunk is reduced by one rank only and copied to the others, so every rank
// ends with the same bits; avg divides a chunk once, on the rank that finished it, before it is
// passed on.
//
// Pipelining: a segment moves on to the next step as soon as it has arrived (and been reduced),
// without waiting for the rest of its chunk, and up to kWindow receives and kWindow sends are
// posted at once: while one segment is reduced the next ones are already in flight, and a
// segment is reduced while it is still in cache from its arrival. A send of step t, segment k is
// posted once segment k of step t - 1 has arrived; an all-gather receive overwrites part of the
// output only once this rank's reduce-scatter send from there has completed.
//
// Messages travel on the communicator's private channel, all with the operation's tag in the
// ring's range (channel_tags.h): between two ranks MPI delivers messages of one tag in the order
// they were sent, and both sides post them in segment order. Progress is made by advance(),
// which any test() or wait() on the process runs (progress_list.h).
#pragma once

#include <mpi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "stepped_work.h"
#include "trellis/tensor.h"

namespace trellis::mpi {

class RingAllReduceWork final : public SteppedWork {
 public:
  // Receives posted at once: enough to keep data arriving while a segment is reduced; the
  // scratch block holds one segment per receive. Sends may run further ahead (they need no
  // scratch): a peer that is descheduled for a while (oversubscribed or busy nodes) finds more
  // segments ready to pull when it runs again.
  static constexpr int kWindow = 8;
  static constexpr int kSendWindow = 16;

  // Starts the operation (its first messages are posted here). `sequence` numbers the
  // communicator's ring all_reduces (the same on every rank, which call them in the same order);
  // input and output may be the same tensor (in place); `scratch` holds kWindow segments of
  // `segment_bytes`. The group has at least 2 ranks and the operation at least one element.
  RingAllReduceWork(MpiCommunicator& comm, const OpInfo& info, const Tensor& input,
                    const Tensor& output, std::uint32_t sequence, std::size_t segment_bytes,
                    std::unique_ptr<std::byte[]> scratch);
  ~RingAllReduceWork() override;

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
  void post_receive(std::int64_t unit);
  void post_send(std::int64_t unit);
  // A receive of the reduce-scatter has arrived: combine it into the output.
  void reduced(std::int64_t unit) noexcept;
  void finish() noexcept;
  // Hands the messages still in flight, and the buffers they use, to the world (which keeps
  // them for MPI): for a Work that goes before its operation has finished.
  void hand_over_to_world() noexcept;

  // Unit u is segment u % segments_ of ring step u / segments_.
  int step_of(std::int64_t unit) const noexcept { return static_cast<int>(unit / segments_); }
  // The part of the buffer unit `unit` moves in the chunk `chunk`.
  Span segment(int chunk, std::int64_t unit) const noexcept;
  void* output_at(const Span& span) const noexcept;
  std::byte* slot(std::int64_t unit) const noexcept;

  Tensor input_;
  Tensor output_;
  std::unique_ptr<std::byte[]> scratch_;
  std::size_t element_bytes_;
  int size_;
  int rank_;
  int left_;   // receives come from here
  int right_;  // sends go there
  int tag_;
  std::int64_t chunk_base_;     // elements in a short chunk
  std::int64_t long_chunks_;    // the first this many chunks have one element more
  std::int64_t segment_count_;  // elements in a full segment
  std::int64_t segments_;       // segments per chunk (of the longest chunk)
  std::int64_t units_;          // 2(n-1) steps x segments_: sends, and receives, per rank
  std::int64_t received_ = 0;   // receives completed (in unit order)
  std::int64_t receiving_ = 0;  // receives posted
  std::int64_t sent_ = 0;       // sends completed (in unit order)
  std::int64_t sending_ = 0;    // sends posted
  std::array<MPI_Request, kWindow> receives_;   // unit u's in slot u % kWindow
  std::array<MPI_Request, kSendWindow> sends_;  // unit u's in slot u % kSendWindow
};

}  // namespace trellis::mpi
