#include "comm/flight_recording_communicator.h"

#include "communicator/forwarding_communicator.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// The operation's Work, which marks the record's entry when it sees the operation end.
class RecordedWork final : public Work {
 public:
  RecordedWork(WorkPtr inner, std::chrono::milliseconds timeout, std::shared_ptr<FlightLog> log,
               std::shared_ptr<FlightGroupRecord> record, std::int64_t seq)
      : Work(timeout),
        inner_(std::move(inner)),
        log_(std::move(log)),
        record_(std::move(record)),
        seq_(seq) {}

  bool test() override {
    log_->note_activity();
    bool done = false;
    try {
      done = inner_->test();
    } catch (...) {
      record_->set_state(seq_, FlightState::failed);
      throw;
    }
    if (done && !marked_) mark(FlightState::completed);
    return done;
  }
  void wait_for(std::chrono::milliseconds timeout) override {
    // The rank stays "in the wait" when it times out: the record is written while it is.
    log_->enter_wait(*record_, seq_);
    try {
      inner_->wait_for(timeout);
    } catch (const TimeoutError&) {
      throw;  // still in flight: the record says "started", which is the truth
    } catch (...) {
      log_->leave_wait();
      mark(FlightState::failed);
      throw;
    }
    log_->leave_wait();
    if (!marked_) mark(FlightState::completed);
  }

 private:
  void mark(FlightState state) {
    marked_ = true;
    record_->set_state(seq_, state);
  }

  WorkPtr inner_;
  std::shared_ptr<FlightLog> log_;
  std::shared_ptr<FlightGroupRecord> record_;
  std::int64_t seq_;
  bool marked_ = false;
};

class FlightRecordingCommunicator final : public ForwardingCommunicator {
 public:
  FlightRecordingCommunicator(std::shared_ptr<Communicator> inner, std::shared_ptr<FlightLog> log)
      : ForwardingCommunicator(std::move(inner)),
        log_(std::move(log)),
        record_(log_->add_group(backend(), rank(), size())) {}

 protected:
  WorkPtr do_all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) override {
    return operation("all_reduce", input, input.nbytes(), -1, -1,
                     [&](UncheckedCalls c) { return c.all_reduce(input, output, op); });
  }
  WorkPtr do_all_gather(const Tensor& input, const Tensor& output) override {
    return operation("all_gather", input, output.nbytes(), -1, -1,
                     [&](UncheckedCalls c) { return c.all_gather(input, output); });
  }
  WorkPtr do_reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) override {
    return operation("reduce_scatter", input, input.nbytes(), -1, -1,
                     [&](UncheckedCalls c) { return c.reduce_scatter(input, output, op); });
  }
  WorkPtr do_broadcast(const Tensor& buffer, int root) override {
    return operation("broadcast", buffer, buffer.nbytes(), root, -1,
                     [&](UncheckedCalls c) { return c.broadcast(buffer, root); });
  }
  WorkPtr do_reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root) override {
    return operation("reduce", input, input.nbytes(), root, -1,
                     [&](UncheckedCalls c) { return c.reduce(input, output, op, root); });
  }
  WorkPtr do_all_to_all(const Tensor& input, const Tensor& output) override {
    return operation("all_to_all", input, input.nbytes(), -1, -1,
                     [&](UncheckedCalls c) { return c.all_to_all(input, output); });
  }
  WorkPtr do_all_to_all_v(const Tensor& input, std::span<const std::int64_t> send_counts,
                          const Tensor& output,
                          std::span<const std::int64_t> recv_counts) override {
    std::int64_t sent = 0;
    for (std::int64_t count : send_counts) sent += count;
    const auto bytes = sent * static_cast<std::int64_t>(dtype_size(input.dtype()));
    return operation(
        "all_to_all_v", input, static_cast<std::size_t>(bytes), -1, -1,
        [&](UncheckedCalls c) { return c.all_to_all_v(input, send_counts, output, recv_counts); });
  }
  WorkPtr do_barrier() override {
    return operation("barrier", Tensor(), 0, -1, -1, [&](UncheckedCalls c) { return c.barrier(); });
  }
  WorkPtr do_send(const Tensor& input, int peer, int tag) override {
    return operation("send", input, input.nbytes(), peer, tag,
                     [&](UncheckedCalls c) { return c.send(input, peer, tag); });
  }
  WorkPtr do_recv(const Tensor& output, int peer, int tag) override {
    return operation("recv", output, output.nbytes(), peer, tag,
                     [&](UncheckedCalls c) { return c.recv(output, peer, tag); });
  }
  std::unique_ptr<Communicator> do_split(int color, int key) override {
    std::unique_ptr<Communicator> part = synced().split(color, key);
    if (!part) return part;
    return std::make_unique<FlightRecordingCommunicator>(
        std::shared_ptr<Communicator>(std::move(part)), log_);
  }

 private:
  template <class Start>
  WorkPtr operation(const char* op, const Tensor& tensor, std::size_t bytes, int peer, int tag,
                    Start&& start) {
    const UncheckedCalls inner = synced_calls();
    const FlightLog::IssueContext context = log_->note_issue();
    const DType dtype = tensor.defined() ? tensor.dtype() : DType::f32;
    const std::int64_t seq = record_->record(name(), op, dtype, static_cast<std::int64_t>(bytes),
                                             peer, tag, context.step, context.activity);
    WorkPtr work;
    try {
      work = start(inner);
    } catch (...) {
      record_->set_state(seq, FlightState::failed);
      throw;
    }
    record_->set_state(seq, FlightState::started);
    if (!work) return work;
    return std::make_unique<RecordedWork>(std::move(work), timeout(), log_, record_, seq);
  }

  std::shared_ptr<FlightLog> log_;
  std::shared_ptr<FlightGroupRecord> record_;
};

}  // namespace

std::shared_ptr<Communicator> record_flights(std::shared_ptr<Communicator> inner,
                                             std::shared_ptr<FlightLog> log) {
  return std::make_shared<FlightRecordingCommunicator>(std::move(inner), std::move(log));
}

}  // namespace trellis
