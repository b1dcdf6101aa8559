// A TokenDispatcher whose dispatches and combines show on the run's trace: a slice on the rank's
// communication track per call ("expert dispatch", "expert combine"), with the bytes this rank
// sent, so the dispatcher's share of the step can be read off the trace.
#pragma once

#include <memory>

#include "trace/trace.h"
#include "trellis/token_dispatcher.h"

namespace trellis {

std::shared_ptr<TokenDispatcher> traced_token_dispatcher(std::shared_ptr<TokenDispatcher> inner,
                                                         TraceRecorder& recorder);

}  // namespace trellis
