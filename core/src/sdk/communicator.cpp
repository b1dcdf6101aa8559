#include <string>

#include "trellis/comm.h"
#include "trellis/error.h"

namespace trellis {

const char* reduce_op_name(ReduceOp op) noexcept {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::avg:
      return "avg";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
  }
  return "?";
}

namespace {

class CompletedWork final : public Work {
 public:
  CompletedWork() : Work(std::chrono::milliseconds(0)) {}
  bool test() override { return true; }
  void wait_for(std::chrono::milliseconds) override {}
};

}  // namespace

WorkPtr completed_work() {
  return std::make_unique<CompletedWork>();
}

void Communicator::unsupported(const char* operation) const {
  throw UnsupportedError(std::string("backend ") + backend() + " does not support " + operation);
}

WorkPtr Communicator::all_reduce(const Tensor&, const Tensor&, ReduceOp) {
  unsupported("all_reduce");
}
WorkPtr Communicator::all_gather(const Tensor&, const Tensor&) {
  unsupported("all_gather");
}
WorkPtr Communicator::reduce_scatter(const Tensor&, const Tensor&, ReduceOp) {
  unsupported("reduce_scatter");
}
WorkPtr Communicator::broadcast(const Tensor&, int) {
  unsupported("broadcast");
}
WorkPtr Communicator::reduce(const Tensor&, const Tensor&, ReduceOp, int) {
  unsupported("reduce");
}
WorkPtr Communicator::all_to_all(const Tensor&, const Tensor&) {
  unsupported("all_to_all");
}
WorkPtr Communicator::barrier() {
  unsupported("barrier");
}
WorkPtr Communicator::send(const Tensor&, int, int) {
  unsupported("send");
}
WorkPtr Communicator::recv(const Tensor&, int, int) {
  unsupported("recv");
}
std::unique_ptr<Communicator> Communicator::split(int, int) {
  unsupported("split");
}

}  // namespace trellis
