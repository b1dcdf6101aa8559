// BenchTransport: what `trellis-bench comm` measures through — a Trellis communicator
// (trellis_transport.h) or raw MPI calls (mpi_raw_transport.h) — behind one small interface, so
// the sweep, the checks and the figures are the same code for both.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "comm_ops.h"
#include "trellis/tensor.h"

namespace trellis::bench {

// One operation's arguments. In place, `input` and `output` are views of one buffer as NCCL
// places them: the same view (all_reduce, reduce, all_to_all, broadcast, sendrecv), the rank's
// chunk of the output as input (all_gather), the rank's chunk of the input as output
// (reduce_scatter). broadcast has only `input`, its one buffer. all_to_all_v has no in-place
// form; its counts are all_to_all_v_counts().
struct BenchCall {
  BenchOp op = BenchOp::all_reduce;
  Tensor input;
  Tensor output;
  bool in_place = false;
  int root = 0;
  std::vector<std::int64_t> send_counts;  // all_to_all_v
  std::vector<std::int64_t> recv_counts;  // all_to_all_v
};

// Thrown by run() when the backend refuses the call as made (an argument error before anything
// is sent, the same on every rank): that placement is shown as unsupported.
class Declined : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class BenchTransport {
 public:
  virtual ~BenchTransport() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Why `op` cannot run in this placement here, or "" when it can; checked before any call.
  virtual std::string cannot(BenchOp op, bool in_place) const = 0;
  // Runs one operation to completion. Throws Declined (see above) or the failure.
  virtual void run(const BenchCall& call) = 0;
  // Where the result of `call` is: its output, unless this transport's in-place form puts it
  // elsewhere (MPI's reduce_scatter in place leaves it at the start of the buffer).
  virtual Tensor result(const BenchCall& call) const {
    return call.op == BenchOp::broadcast ? call.input : call.output;
  }
  // Reductions over the ranks for the figures: the slowest rank's time, the wrong elements.
  virtual double max_over_ranks(double value) = 0;
  virtual std::int64_t sum_over_ranks(std::int64_t value) = 0;
  virtual void barrier() = 0;
};

}  // namespace trellis::bench
