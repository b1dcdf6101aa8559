// SmallAllReduceWork: all_reduce of a few kilobytes by recursive doubling over MPI_Isend and
// MPI_Irecv, for latency.
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

class SmallAllReduceWork final : public SteppedWork {
 public:
  // Starts the operation: the first step is posted here. `sequence` numbers the communicator's
  // small all_reduces (the same on every rank, as every rank calls them in the same order);
  // `in_place`: input and output are the same tensor;
  // `scratch` holds at least info.bytes().
  SmallAllReduceWork(MpiCommunicator& comm, const OpInfo& info, const Tensor& input,
                     const Tensor& output, bool in_place, std::uint32_t sequence,
                     std::unique_ptr<std::byte[]> scratch);
  ~SmallAllReduceWork() override;

 private:
  enum class StepKind : std::uint8_t {
    send_input,      // extra rank q + i: its input to rank i
    fold_in,         // rank i: rank q + i's input, combined into ours
    exchange,        // ranks of the power of two: swap partial results, combine
    send_result,     // rank i: the result to rank q + i
    receive_result,  // extra rank q + i: the result, into the output
  };
  struct Step {
    StepKind kind;
    int partner;  // group rank
    int tag;
  };
  static constexpr int kMaxSteps = 32;  // fold in, up to 30 exchanges (2^30 ranks), send back

  void plan(std::uint32_t sequence);
  bool advance() noexcept override;
  void post(const Step& step);
  void finish_step(const Step& step);
  void finish() noexcept;
  // Hands the messages still in flight, and the buffers they use, to the world (which keeps
  // them for MPI): for a Work that goes before its operation has finished.
  void hand_over_to_world() noexcept;
  // The partial result so far: the input until the first combine, the output after.
  const void* partial() const noexcept;

  Tensor input_;
  Tensor output_;
  std::unique_ptr<std::byte[]> scratch_;
  std::array<Step, kMaxSteps> steps_;  // the first step_count_ are set
  int step_count_ = 0;
  int current_ = 0;      // the step in flight, or step_count_ when all are done
  bool posted_ = false;  // whether the current step's messages are posted
  bool in_output_;       // the partial result is in the output (in place, or after a combine)
  std::array<MPI_Request, 2> requests_{MPI_REQUEST_NULL, MPI_REQUEST_NULL};
};

}  // namespace trellis::mpi
