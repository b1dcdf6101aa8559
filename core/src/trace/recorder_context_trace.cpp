#include "trace/recorder_context_trace.h"

#include <string>

namespace trellis {

void RecorderContextTrace::compute(std::string_view name, double start_us, double end_us) {
  recorder_.slice(std::string(name), TraceRecorder::Track::compute, start_us, end_us);
}

void RecorderContextTrace::communication(std::string_view name, double start_us, double end_us,
                                         std::int64_t bytes_sent) {
  recorder_.slice(std::string(name), TraceRecorder::Track::communication, start_us, end_us,
                  {{"bytes_sent", static_cast<long>(bytes_sent)}});
}

}  // namespace trellis
