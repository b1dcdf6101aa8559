// One hop around the ring: a tensor sent to the next rank of the context group while another is
// received from the previous one, both under one tag. Posted before the compute it overlaps and
// waited after it; the trace shows it from post to completion.
#pragma once

#include <string_view>

#include "context_group.h"
#include "trace_recorder.h"

namespace trellis::context {

class RingHop {
 public:
  // Posts send(`outgoing`, rank + 1) and recv(`incoming`, rank - 1) with `tag`; the slice is
  // named `what` `step`/`steps` (`what` is kept by reference: a string literal).
  RingHop(const ContextGroup& group, const Tensor& outgoing, const Tensor& incoming, int tag,
          std::string_view what, int step, int steps);
  RingHop(const RingHop&) = delete;
  RingHop& operator=(const RingHop&) = delete;

  // Waits for both (each with the communicator's timeout) and records the slice.
  void wait();

 private:
  TraceRecorder trace_;
  std::string_view what_;
  int step_, steps_;
  std::int64_t bytes_sent_;
  double posted_;
  WorkPtr send_, recv_;
};

}  // namespace trellis::context
