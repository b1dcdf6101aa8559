#include "mpi_raw_transport.h"

#include <mpi.h>

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "trellis/error.h"

namespace trellis::bench {

namespace {

void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw CommError(std::string("mpi-raw: ") + call + " failed: " + std::string(text, length));
}

class MpiRawTransport final : public BenchTransport {
 public:
  MpiRawTransport() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    // Failures come back as codes (a CommError) rather than aborting the job unexplained.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  std::string cannot(BenchOp op, bool in_place) const override {
    if (op == BenchOp::broadcast && !in_place) return "one buffer";
    // As the communicator's: MPI's in-place form would use one set of counts for both ways.
    if (op == BenchOp::all_to_all_v && in_place) return "no in-place form";
    return "";
  }

  void run(const BenchCall& call) override {
    const MPI_Datatype type = call.input.dtype() == DType::i32 ? MPI_INT : MPI_FLOAT;
    void* in = call.input.data_ptr();
    void* out = call.output.defined() ? call.output.data_ptr() : nullptr;
    const int n = static_cast<int>(call.input.numel());
    switch (call.op) {
      case BenchOp::all_reduce:
        check(
            MPI_Allreduce(call.in_place ? MPI_IN_PLACE : in, out, n, type, MPI_SUM, MPI_COMM_WORLD),
            "MPI_Allreduce");
        return;
      case BenchOp::all_gather:
        check(
            MPI_Allgather(call.in_place ? MPI_IN_PLACE : in, n, type, out, n, type, MPI_COMM_WORLD),
            "MPI_Allgather");
        return;
      case BenchOp::reduce_scatter: {
        const int chunk = static_cast<int>(call.output.numel());
        // MPI's in-place form reads the whole input from, and leaves the result at the start
        // of, the receive buffer.
        check(MPI_Reduce_scatter_block(call.in_place ? MPI_IN_PLACE : in, call.in_place ? in : out,
                                       chunk, type, MPI_SUM, MPI_COMM_WORLD),
              "MPI_Reduce_scatter_block");
        return;
      }
      case BenchOp::broadcast:
        check(MPI_Bcast(in, n, type, call.root, MPI_COMM_WORLD), "MPI_Bcast");
        return;
      case BenchOp::reduce: {
        const bool root_in_place = call.in_place && rank_ == call.root;
        check(MPI_Reduce(root_in_place ? MPI_IN_PLACE : in, out, n, type, MPI_SUM, call.root,
                         MPI_COMM_WORLD),
              "MPI_Reduce");
        return;
      }
      case BenchOp::all_to_all: {
        const int chunk = n / size_;
        check(MPI_Alltoall(call.in_place ? MPI_IN_PLACE : in, chunk, type, out, chunk, type,
                           MPI_COMM_WORLD),
              "MPI_Alltoall");
        return;
      }
      case BenchOp::all_to_all_v: {
        // int counts and displacements, as the mpi backend makes them for MPI_Ialltoallv.
        lay_out(call.send_counts, send_counts_, send_displacements_);
        lay_out(call.recv_counts, recv_counts_, recv_displacements_);
        check(MPI_Alltoallv(in, send_counts_.data(), send_displacements_.data(), type, out,
                            recv_counts_.data(), recv_displacements_.data(), type, MPI_COMM_WORLD),
              "MPI_Alltoallv");
        return;
      }
      case BenchOp::sendrecv: {
        const int right = (rank_ + 1) % size_, left = (rank_ + size_ - 1) % size_;
        if (call.in_place) {
          check(MPI_Sendrecv_replace(in, n, type, right, 0, left, 0, MPI_COMM_WORLD,
                                     MPI_STATUS_IGNORE),
                "MPI_Sendrecv_replace");
        } else {
          check(MPI_Sendrecv(in, n, type, right, 0, out, n, type, left, 0, MPI_COMM_WORLD,
                             MPI_STATUS_IGNORE),
                "MPI_Sendrecv");
        }
        return;
      }
    }
  }

  Tensor result(const BenchCall& call) const override {
    if (call.op == BenchOp::reduce_scatter && call.in_place) {
      return call.input.narrow(0, 0, call.output.numel());
    }
    return BenchTransport::result(call);
  }

  double max_over_ranks(double value) override {
    double result = 0;
    check(MPI_Allreduce(&value, &result, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
    return result;
  }

  std::int64_t sum_over_ranks(std::int64_t value) override {
    long long mine = value, result = 0;
    check(MPI_Allreduce(&mine, &result, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
    return result;
  }

  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

 private:
  // MPI's counts and displacements are ints: a buffer past INT_MAX elements is declined.
  static void lay_out(const std::vector<std::int64_t>& counts, std::vector<int>& out_counts,
                      std::vector<int>& out_displacements) {
    out_counts.resize(counts.size());
    out_displacements.resize(counts.size());
    std::int64_t offset = 0;
    for (std::size_t peer = 0; peer < counts.size(); ++peer) {
      if (counts[peer] > INT_MAX - offset) {
        throw Declined("MPI_Alltoallv's counts and displacements stop at INT_MAX elements");
      }
      out_counts[peer] = static_cast<int>(counts[peer]);
      out_displacements[peer] = static_cast<int>(offset);
      offset += counts[peer];
    }
  }

  int rank_ = 0;
  int size_ = 1;
  std::vector<int> send_counts_, send_displacements_, recv_counts_, recv_displacements_;
};

}  // namespace

bool mpi_raw_available() noexcept {
  return true;
}

MpiRawSession::MpiRawSession() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return;
  // SERIALIZED, as the mpi plugin asks: it may run in this process after the baseline.
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
  initialised_here_ = true;
}

MpiRawSession::~MpiRawSession() {
  if (initialised_here_) MPI_Finalize();
}

std::unique_ptr<BenchTransport> make_mpi_raw_transport() {
  return std::make_unique<MpiRawTransport>();
}

}  // namespace trellis::bench
