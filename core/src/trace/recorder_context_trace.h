// The ContextTrace a context plugin records into (trellis/context_attention.h), over the run's
// TraceRecorder: its slices land on the rank's compute and communication tracks.
#pragma once

#include "trace/trace.h"
#include "trellis/context_attention.h"

namespace trellis {

class RecorderContextTrace final : public ContextTrace {
 public:
  explicit RecorderContextTrace(TraceRecorder& recorder) : recorder_(recorder) {}

  double now_us() const override { return TraceRecorder::now_us(); }
  void compute(std::string_view name, double start_us, double end_us) override;
  void communication(std::string_view name, double start_us, double end_us,
                     std::int64_t bytes_sent) override;

 private:
  TraceRecorder& recorder_;
};

}  // namespace trellis
