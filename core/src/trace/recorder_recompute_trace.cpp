#include "trace/recorder_recompute_trace.h"

#include "trellis/error.h"

namespace trellis {

void RecorderRecomputeTrace::begin(std::string_view what, int microbatch) {
  if (wait_for_compute_) wait_for_compute_();
  open_.push_back({"recompute " + std::string(what), microbatch, TraceRecorder::now_us()});
}

void RecorderRecomputeTrace::end() {
  if (open_.empty()) throw Error("recompute trace: end() without begin()");
  if (wait_for_compute_) wait_for_compute_();
  const Open o = std::move(open_.back());
  open_.pop_back();
  recorder_.slice(o.name, TraceRecorder::Track::compute, o.start_us, TraceRecorder::now_us(),
                  {{"microbatch", o.microbatch}});
}

}  // namespace trellis
