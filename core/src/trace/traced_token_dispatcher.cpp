#include "trace/traced_token_dispatcher.h"

namespace trellis {

namespace {

class TracedTokenDispatcher final : public TokenDispatcher {
 public:
  TracedTokenDispatcher(std::shared_ptr<TokenDispatcher> inner, TraceRecorder& recorder)
      : inner_(std::move(inner)), recorder_(recorder) {}

  DispatchCounts exchange_counts(std::span<const std::int64_t> rows_per_expert) override {
    const double start = TraceRecorder::now_us();
    DispatchCounts counts = inner_->exchange_counts(rows_per_expert);
    record("expert counts", start, static_cast<std::int64_t>(rows_per_expert.size_bytes()));
    return counts;
  }
  Tensor dispatch(const DispatchCounts& counts, const Tensor& rows) override {
    const double start = TraceRecorder::now_us();
    Tensor out = inner_->dispatch(counts, rows);
    record("expert dispatch", start, static_cast<std::int64_t>(rows.nbytes()));
    return out;
  }
  Tensor combine(const DispatchCounts& counts, const Tensor& expert_rows) override {
    const double start = TraceRecorder::now_us();
    Tensor out = inner_->combine(counts, expert_rows);
    record("expert combine", start, static_cast<std::int64_t>(expert_rows.nbytes()));
    return out;
  }

 private:
  // The bytes are those this rank hands the dispatcher: what an all-to-all sends (an all-gather
  // dispatcher sends them to every peer).
  void record(const char* name, double start, std::int64_t bytes) {
    recorder_.slice(name, TraceRecorder::Track::communication, start, TraceRecorder::now_us(),
                    {{"bytes_sent", static_cast<long>(bytes)}});
  }

  std::shared_ptr<TokenDispatcher> inner_;
  TraceRecorder& recorder_;
};

}  // namespace

std::shared_ptr<TokenDispatcher> traced_token_dispatcher(std::shared_ptr<TokenDispatcher> inner,
                                                         TraceRecorder& recorder) {
  return std::make_shared<TracedTokenDispatcher>(std::move(inner), recorder);
}

}  // namespace trellis
