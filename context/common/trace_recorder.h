// Records a context plugin's slices on the run's trace, when there is one (ContextInit::trace
// may be null: then nothing is timed and every call is a no-op). Slice names carry the step, e.g.
// "ring attention 2/4", so the trace shows which block each slice was.
#pragma once

#include <cstdint>
#include <string_view>

#include "trellis/context_attention.h"

namespace trellis::context {

class TraceRecorder {
 public:
  explicit TraceRecorder(ContextTrace* trace) : trace_(trace) {}

  // The time now (0 without a trace).
  double now() const { return trace_ != nullptr ? trace_->now_us() : 0.0; }
  // A compute slice from `start` until now; `step` of `steps` (1-based) ends its name.
  void compute(std::string_view what, int step, int steps, double start) const;
  // A communication slice from `start` until now, with the bytes this rank sent in it.
  void communication(std::string_view what, int step, int steps, double start,
                     std::int64_t bytes_sent) const;

 private:
  ContextTrace* trace_;
};

}  // namespace trellis::context
