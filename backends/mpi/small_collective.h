// SmallCollectiveWork: all_reduce, broadcast and reduce of a few kilobytes over MPI_Isend and
// MPI_Irecv, for latency. One class for the three: they share the steps, tags, scratch, hand-over
// to the world and timeouts, and differ only in the plan of steps each rank follows.
//
// Why not MPI_Iallreduce: Open MPI 4.1 runs non-blocking collectives through libnbc, which builds
// a schedule per call and costs about twice the latency of a blocking MPI_Allreduce for small
// messages (0.65 us against 0.35 us for 8 bytes on 2 ranks over shared memory). Two
// point-to-point messages cost what the blocking call does. Above small_all_reduce_limit()
// (mpi_communicator.h) the data dominates and MPI_Iallreduce is used.
//
// The algorithm, for p ranks: with q the largest power of two <= p, rank q + i (i < p - q) first
// hands its input to rank i; ranks 0..q-1 then exchange and combine with rank ^ 1, rank ^ 2, ...
// rank ^ q/2; finally rank i sends the result back to rank q + i. Each combine is
// `mine op theirs`, so both ranks of a pair get the same bits (trellis/reduce.h) and every rank
// ends with the same result.
//
// broadcast and reduce: a binomial tree rooted at the root (ranks numbered from the root). Open
// MPI's libnbc MPI_Ibcast and the reduce chain (ring_collective.h) cost 1 to 1.4 us for 8 bytes
// on 2 ranks against 0.2 us for the blocking calls, which only queue an eager send at the root.
// broadcast receives from the parent, then sends to the children, largest subtree first; reduce
// receives from the children, smallest subtree first, combining `mine op theirs` in that fixed
// order (the same bits on every run), then sends to the parent. avg is divided once, at the root;
// other ranks never write their output (a rank with children keeps its partial result in a
// second scratch block).
//
// Messages travel on the communicator's private channel (a duplicate, so they never meet the
// caller's send/recv), tagged with the operation's sequence number and its step: operations in
// flight together, whatever order their steps are posted in, never take each other's messages.
// Each step is posted when the one before has completed, by advance(), which any test() on the
// process runs (progress_list.h).
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

class SmallCollectiveWork final : public SteppedWork {
 public:
  // Starts the operation (info.kind: all_reduce, broadcast or reduce, info.peer the root): the
  // first step is posted here. `sequence` numbers the communicator's small operations (the same
  // on every rank, as every rank calls them in the same order); `in_place`: input and output are
  // the same tensor (broadcast: both are the buffer; reduce: the root's output, an empty tensor
  // elsewhere); `scratch` and, for a reduce's non-root rank with children, `partials` hold at
  // least info.bytes().
  SmallCollectiveWork(MpiCommunicator& comm, const OpInfo& info, const Tensor& input,
                      const Tensor& output, bool in_place, std::uint32_t sequence,
                      std::unique_ptr<std::byte[]> scratch,
                      std::unique_ptr<std::byte[]> partials = nullptr);
  ~SmallCollectiveWork() override;

  // Whether this rank of a reduce needs a block for partial results: it has children in the
  // binomial tree, and is not the root (which keeps them in its output).
  static bool needs_partials(int size, int rank, int root) noexcept;

 private:
  enum class StepKind : std::uint8_t {
    send,      // the partial result so far (the input before any combine) to the partner
    fold_in,   // the partner's partial result, combined into ours
    exchange,  // swap partial results, combine
    receive,   // the partner's result, into ours
  };
  struct Step {
    StepKind kind;
    int partner;  // group rank
    int tag;
  };
  // all_reduce: fold in, up to 30 exchanges (2^30 ranks), send back; a tree: 31 children at
  // most and a parent.
  static constexpr int kMaxSteps = 32;

  void plan_all_reduce(int base);
  void plan_tree(int base);
  bool advance() noexcept override;
  void post(const Step& step);
  void finish_step(const Step& step);
  void finish() noexcept;
  // Hands the messages still in flight, and the buffers they use, to the world (which keeps
  // them for MPI): for a Work that goes before its operation has finished.
  void hand_over_to_world() noexcept;
  // The partial result so far: the input until the first combine, result_ after.
  const void* partial() const noexcept;

  Tensor input_;
  Tensor output_;
  std::unique_ptr<std::byte[]> scratch_;
  std::unique_ptr<std::byte[]> partials_;
  void* result_;  // where combines and receives write: the output, or partials_
  std::array<Step, kMaxSteps> steps_;  // the first step_count_ are set
  int step_count_ = 0;
  int current_ = 0;      // the step in flight, or step_count_ when all are done
  bool posted_ = false;  // whether the current step's messages are posted
  bool in_result_;       // the partial result is in result_ (in place, or after a combine)
  std::array<MPI_Request, 2> requests_{MPI_REQUEST_NULL, MPI_REQUEST_NULL};
};

}  // namespace trellis::mpi
