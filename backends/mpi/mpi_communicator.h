// MpiCommunicator: a group of ranks over MPI; every operation is an MPI non-blocking call.
//
// The world communicator duplicates MPI_COMM_WORLD, so Trellis's traffic never meets anyone
// else's; split() makes the groups inside it with MPI_Comm_split. Each communicator has a second
// duplicate, its private channel, for the messages of the backend's own algorithms
// (small_collective.h, direct_all_gather.h, ring_collective.h; channel_tags.h). Both use
// MPI_ERRORS_RETURN: a failing call becomes a CommError naming the call, the operation and the
// group.
//
// Lifetime: the world communicator owns MPI's lifetime (mpi_world.h, one MPI world per process).
// Communicators made by split() must be destroyed before the world communicator; one that
// outlives it fails every operation with a CommError saying so, and MPI is finalised only when
// the last of them is gone. Works must be destroyed before their communicator.
//
// Threads: one thread at a time communicates (MPI_THREAD_SERIALIZED).
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mpi_world.h"
#include "operation.h"
#include "scratch_pool.h"
#include "trellis/comm.h"

namespace trellis::mpi {

// The backend's options, from [comm.mpi]; the same on every rank (they choose algorithms).
struct MpiSettings {
  // all_reduce of at most this many bytes runs by recursive doubling over point-to-point
  // messages (small_collective.h); 0 hands every all_reduce to MPI_Iallreduce. Unset (-1):
  // small_all_reduce_limit() chooses by group size. broadcast and reduce of at most this many
  // bytes, and at most kSmallRootedBytes, run as binomial trees over the same messages.
  std::int64_t small_all_reduce_bytes = -1;
  // all_gather in groups of at most this many ranks exchanges the blocks directly over
  // point-to-point messages (direct_all_gather.h); larger groups, or 0, use MPI_Iallgather.
  std::int64_t all_gather_direct_ranks = 8;
  // all_reduce of at least this many bytes (and above the small limit) runs as a pipelined ring
  // (ring_collective.h); 0 hands those all_reduces to MPI_Iallreduce. Unset (-1):
  // ring_all_reduce_limit() chooses by group size.
  std::int64_t ring_all_reduce_bytes = -1;
  // reduce_scatter (bytes of its input) and reduce of at least this many bytes run as the ring's
  // reduce-scatter (then, for reduce, a gather to the root); 0 hands them to
  // MPI_Ireduce_scatter_block and MPI_Ireduce. Unset (-1): ring_reduce_scatter_limit() and
  // ring_reduce_limit() choose by group size.
  std::int64_t ring_reduce_scatter_bytes = -1;
  std::int64_t ring_reduce_bytes = -1;
  // The rings' segment: the piece that moves from one step to the next on its own.
  std::int64_t ring_segment_bytes = std::int64_t{256} << 10;
};

// The largest all_reduce, in bytes, that a group of `group_size` ranks runs by recursive
// doubling. Unless the settings fix it: 64 KiB, where Open MPI 4.1's libnbc itself switches from
// a binomial tree (reduce to a root, then broadcast: twice the sequential transfers) to
// Rabenseifner's algorithm; and 1 MiB in groups of 2 or 3, where libnbc keeps the binomial tree
// at every size and recursive doubling moves no more data than it (on 2 ranks over shared
// memory, 18 us against 46 us at 256 KiB, 137 against 209 at 1 MiB).
std::size_t small_all_reduce_limit(const MpiSettings& settings, int group_size) noexcept;

// The smallest all_reduce, in bytes, that a group of `group_size` ranks runs by the ring (when it
// is above the small limit too); 0: none. Unless the settings fix it: every size in groups of 2
// or 3 ranks, where libnbc's binomial tree moves each rank's buffer twice in sequence and copies
// it whole in place (on 2 ranks, in place, 0.4x to 0.5x the blocking MPI_Allreduce's speed from
// 2 MiB up; the ring 0.85x to 2.2x); from 8 MiB in larger groups, where libnbc runs
// Rabenseifner's algorithm (2 log2(p) sequential steps against the ring's 2(p - 1)): on 4 ranks
// (oversubscribed, 2 cores) it was as fast as the ring below 8 MiB (faster out of place, slower
// in place), the ring faster in both modes from 8 MiB.
std::size_t ring_all_reduce_limit(const MpiSettings& settings, int group_size) noexcept;

// The smallest reduce_scatter (bytes of its input) and reduce that a group of `group_size` ranks
// runs by the ring; 0: none. Unless the settings fix them, measured against libnbc's
// MPI_Ireduce_scatter_block and MPI_Ireduce (2-core VM, loaded by other work, 3 and 4 ranks
// oversubscribed): every size in a group of 2, where libnbc took 1.5 to 3 times the ring's time
// for a few bytes and 10 to 100 times from 64 KiB up; from 64 KiB in groups of 3 (below, where
// the ring's n - 1 steps each wait for a descheduled rank, libnbc was as fast or faster); in
// larger groups reduce from 64 KiB too, reduce_scatter from 1 MiB (libnbc's 2 steps of recursive
// halving beat the ring's 3 below: 0.15 against 0.39 ms at 64 KiB on 4 ranks; from 1 MiB the
// ring moved 1.1x to 1.9x the bytes per second, 7.5x at 16 MiB).
std::size_t ring_reduce_scatter_limit(const MpiSettings& settings, int group_size) noexcept;
std::size_t ring_reduce_limit(const MpiSettings& settings, int group_size) noexcept;

// What the world communicator and the communicators split from it share.
struct Lineage {
  bool world_alive = true;
  int live_splits = 0;
};

// The cap on the small broadcast's and reduce's limit (small_collective.h), measured on 2 ranks.
inline constexpr std::size_t kSmallRootedBytes = std::size_t{64} << 10;

class MpiCommunicator final : public Communicator {
 public:
  // The world communicator of this process: rank and size from `init` (checked against MPI's).
  static std::unique_ptr<MpiCommunicator> make_world(const CommInit& init,
                                                     const MpiSettings& settings);
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "mpi"; }
  std::optional<Device> device() const override { return device_; }
  // MPI_TAG_UB of this MPI.
  int max_tag() const override;

  // For the Works of this communicator.
  MpiWorld& world() const noexcept { return *world_; }
  MPI_Comm channel() const noexcept { return channel_; }
  ScratchPool& scratch() noexcept { return scratch_; }
  // The rings' scratch blocks (RingWork::kWindow segments each), and the chunks of partial
  // results of ring reduces on ranks other than the root.
  ScratchPool& ring_scratch() noexcept { return ring_scratch_; }
  GrowingScratch& ring_partials() noexcept { return ring_partials_; }
  const std::vector<int>& world_ranks() const noexcept { return world_ranks_; }
  // "all_reduce (sum) of 7 f32 elements in group 'world' (world ranks [0, 1])"
  std::string describe(const OpInfo& info) const;
  // "group 'world' (world ranks [0, 1])"
  std::string describe_group() const;

 protected:
  WorkPtr do_all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) override;
  WorkPtr do_all_gather(const Tensor& input, const Tensor& output) override;
  // The output as chunk rank() of the input (comm.h's in-place form) is declined in groups of
  // more than 2 ranks (and by MPI_Ireduce_scatter_block, whose in-place form leaves the result at
  // the start of the buffer instead); the ring takes it in a group of 2.
  WorkPtr do_reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) override;
  WorkPtr do_broadcast(const Tensor& buffer, int root) override;
  WorkPtr do_reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root) override;
  WorkPtr do_all_to_all(const Tensor& input, const Tensor& output) override;
  WorkPtr do_all_to_all_v(const Tensor& input, std::span<const std::int64_t> send_counts,
                          const Tensor& output, std::span<const std::int64_t> recv_counts) override;
  WorkPtr do_barrier() override;
  WorkPtr do_send(const Tensor& input, int peer, int tag) override;
  WorkPtr do_recv(const Tensor& output, int peer, int tag) override;
  std::unique_ptr<Communicator> do_split(int color, int key) override;
  // f32 and i32: MPI has no bf16 type.
  bool moves(DType dtype) const override { return dtype != DType::bf16; }

 private:
  MpiCommunicator(std::shared_ptr<MpiWorld> world, std::shared_ptr<Lineage> lineage, MPI_Comm comm,
                  MPI_Comm channel, std::vector<int> world_ranks, bool is_world,
                  const MpiSettings& settings, Device device);

  // A RingWork (ring_collective.h) for `info`, with its scratch and sequence number.
  WorkPtr start_ring(const OpInfo& info, const Tensor& input, const Tensor& output);
  // Throws when this communicator can no longer be used (split from a world that is gone).
  void check_usable(OpKind op) const;
  // Runs `call(request)` (an MPI_I* call) for a new RequestWork keeping `first` and `second`.
  template <class Call>
  WorkPtr start(const OpInfo& info, const Tensor& first, const Tensor& second, const char* mpi_call,
                float* average, std::int64_t average_count, const Call& call);

  std::shared_ptr<MpiWorld> world_;
  std::shared_ptr<Lineage> lineage_;
  MPI_Comm comm_;
  MPI_Comm channel_;
  std::vector<int> world_ranks_;  // world rank of each rank of this group
  bool is_world_;
  int rank_ = 0;
  int size_ = 1;
  MpiSettings settings_;
  std::size_t small_all_reduce_limit_;  // for this group's size
  std::size_t ring_all_reduce_limit_;   // likewise
  std::size_t ring_reduce_scatter_limit_;
  std::size_t ring_reduce_limit_;
  // broadcast and reduce of at most this many bytes run as binomial trees (small_collective.h):
  // the small all_reduce's limit, capped where the trees stopped beating the other paths.
  std::size_t small_rooted_limit_;
  Device device_;
  ScratchPool scratch_;
  ScratchPool ring_scratch_;
  GrowingScratch ring_partials_;
  // Small all_reduces, broadcasts and reduces started so far: numbers their message tags.
  std::uint32_t small_ops_ = 0;
  std::uint32_t direct_all_gathers_ = 0;  // likewise
  std::uint32_t rings_ = 0;               // likewise (all three ring operations together)
};

}  // namespace trellis::mpi
