#include "comm_sweep.h"

#include <chrono>
#include <cstdio>

#include "bench_data.h"
#include "size_text.h"

namespace trellis::bench {

namespace {

using Clock = std::chrono::steady_clock;

// The call of `op` at `shape` on the front of the two buffers (bench_transport.h: placements).
BenchCall make_call(BenchOp op, const OpShape& shape, const Tensor& send_buffer,
                    const Tensor& recv_buffer, bool in_place, int rank, int nranks, int root) {
  const Tensor send = send_buffer.narrow(0, 0, shape.send_count);
  const Tensor recv = recv_buffer.narrow(0, 0, shape.recv_count);
  BenchCall call{op, send, recv, in_place, root, {}, {}};
  if (op == BenchOp::all_to_all_v) {
    call.send_counts = all_to_all_v_counts(rank, nranks, shape.send_count, true);
    call.recv_counts = all_to_all_v_counts(rank, nranks, shape.recv_count, false);
  }
  if (op == BenchOp::broadcast) {
    call.input = recv;
    call.output = Tensor();
  } else if (in_place) {
    switch (op) {
      case BenchOp::all_gather:
        call.input = recv.narrow(0, rank * shape.count, shape.count);
        break;
      case BenchOp::reduce_scatter:
        call.output = send.narrow(0, rank * shape.count, shape.count);
        break;
      default:
        call.input = recv;
        break;
    }
  }
  return call;
}

class Sweep {
 public:
  Sweep(BenchTransport& transport, const CommBenchOptions& options,
        const std::shared_ptr<Allocator>& allocator, Watchdog& watchdog, std::string label)
      : transport_(transport), options_(options), watchdog_(watchdog), label_(std::move(label)) {
    const std::int64_t element = static_cast<std::int64_t>(dtype_size(options.dtype));
    const OpShape largest = op_shape(options.op, options.max_bytes, element, transport.size());
    send_buffer_ = Tensor::empty({largest.send_count}, options.dtype, allocator);
    recv_buffer_ = Tensor::empty({largest.recv_count}, options.dtype, allocator);
    for (bool in_place : {false, true}) {
      refused_[in_place] = transport.cannot(options.op, in_place);
    }
  }

  // Untimed calls at `shape`, as nccl-tests does at the largest and the smallest size before the
  // sweep: the first measurement would otherwise also pay for first touches of the buffers and
  // for the backend's first use of its paths.
  void warm_up(const OpShape& shape) {
    const bool in_place = !refused_[false].empty();
    if (!refused_[in_place].empty()) return;
    const BenchCall call = make_call(options_.op, shape, send_buffer_, recv_buffer_, in_place,
                                     transport_.rank(), transport_.size(), options_.root);
    watchdog_.arm(
        std::chrono::seconds(options_.timeout_s),
        label_ + ", warming up " + bench_op_name(options_.op) + " at " + format_size(shape.bytes));
    try {
      fill_call(call, transport_.rank(), transport_.size());
      for (int i = 0; i < options_.warmup; ++i) transport_.run(call);
    } catch (const Declined&) {
      // measure() finds the refusal again and reports it.
    }
    watchdog_.disarm();
  }

  PlacementFigures measure(const OpShape& shape, bool in_place) {
    PlacementFigures figures;
    if (!refused_[in_place].empty()) {
      figures.unavailable = refused_[in_place];
      return figures;
    }
    const int rank = transport_.rank(), nranks = transport_.size();
    const BenchCall call = make_call(options_.op, shape, send_buffer_, recv_buffer_, in_place, rank,
                                     transport_.size(), options_.root);
    watchdog_.arm(std::chrono::seconds(options_.timeout_s),
                  label_ + ", " + bench_op_name(options_.op) + " of " + format_size(shape.bytes) +
                      (in_place ? " in place" : " out of place"));
    try {
      fill_call(call, rank, nranks);
      for (int i = 0; i < options_.warmup; ++i) transport_.run(call);
      transport_.barrier();
      const auto start = Clock::now();
      for (int i = 0; i < options_.iters; ++i) transport_.run(call);
      const double mean_us =
          std::chrono::duration<double, std::micro>(Clock::now() - start).count() / options_.iters;
      figures.time_us = transport_.max_over_ranks(mean_us);
      const double algbw =
          figures.time_us > 0 ? static_cast<double>(shape.bytes) / figures.time_us / 1e3 : 0;
      figures.algbw_gbs = algbw;
      figures.busbw_gbs = algbw * bus_factor(options_.op, nranks);
      if (options_.check) {
        fill_call(call, rank, nranks);
        transport_.run(call);
        figures.wrong =
            transport_.sum_over_ranks(count_wrong(call, transport_.result(call), rank, nranks));
      }
    } catch (const Declined& refusal) {
      // Every rank refuses alike, at the first call: nothing is left in flight.
      refused_[in_place] = "unsupported";
      figures.unavailable = refused_[in_place];
      if (rank == 0) {
        std::fprintf(stderr, "# %s: %s %s refused: %s\n", label_.c_str(),
                     bench_op_name(options_.op), in_place ? "in place" : "out of place",
                     refusal.what());
      }
    }
    watchdog_.disarm();
    return figures;
  }

 private:
  BenchTransport& transport_;
  const CommBenchOptions& options_;
  Watchdog& watchdog_;
  std::string label_;
  Tensor send_buffer_;
  Tensor recv_buffer_;
  std::string refused_[2];  // per placement (index: in place)
};

}  // namespace

std::vector<SweepRow> run_sweep(BenchTransport& transport, const CommBenchOptions& options,
                                const std::shared_ptr<Allocator>& allocator, Watchdog& watchdog,
                                const std::string& label,
                                const std::function<void(const SweepRow&)>& on_row) {
  Sweep sweep(transport, options, allocator, watchdog, label);
  const std::int64_t element = static_cast<std::int64_t>(dtype_size(options.dtype));
  sweep.warm_up(op_shape(options.op, options.max_bytes, element, transport.size()));
  sweep.warm_up(op_shape(options.op, options.min_bytes, element, transport.size()));
  std::vector<SweepRow> rows;
  std::int64_t previous_bytes = -1;
  for (std::int64_t size : sweep_sizes(options)) {
    SweepRow row;
    row.shape = op_shape(options.op, size, element, transport.size());
    if (row.shape.bytes == previous_bytes) continue;
    previous_bytes = row.shape.bytes;
    row.out_of_place = sweep.measure(row.shape, false);
    row.in_place = sweep.measure(row.shape, true);
    on_row(row);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace trellis::bench
