#include "ring_hop.h"

namespace trellis::context {

RingHop::RingHop(const ContextGroup& group, const Tensor& outgoing, const Tensor& incoming, int tag,
                 std::string_view what, int step, int steps)
    : trace_(group.trace()),
      what_(what),
      step_(step),
      steps_(steps),
      bytes_sent_(static_cast<std::int64_t>(outgoing.nbytes())),
      posted_(trace_.now()) {
  const int c = group.size(), r = group.rank();
  // The receive first: a backend that can match an arriving message to a posted receive avoids
  // an unexpected-message copy.
  recv_ = group.comm().recv(incoming, (r + c - 1) % c, tag);
  send_ = group.comm().send(outgoing, (r + 1) % c, tag);
}

void RingHop::wait() {
  send_->wait();
  recv_->wait();
  trace_.communication(what_, step_, steps_, posted_, bytes_sent_);
}

}  // namespace trellis::context
