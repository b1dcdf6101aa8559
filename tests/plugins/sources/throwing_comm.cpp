// Test plugin "thrower" (comm): a one-rank communicator whose calls throw what careless backend
// code throws — std::bad_alloc, a std::runtime_error from a wait — and, for comparison, a
// trellis::CommError naming the group, which core must pass on unchanged.
#include <new>
#include <stdexcept>

#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

class FailingWork final : public trellis::Work {
 public:
  FailingWork() : Work(std::chrono::seconds(1)) {}
  bool test() override { throw std::runtime_error("the request table is corrupt"); }
  void wait_for(std::chrono::milliseconds) override {
    throw std::runtime_error("the request table is corrupt");
  }
};

class ThrowingCommunicator final : public trellis::Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* backend() const override { return "thrower"; }

 protected:
  trellis::WorkPtr do_all_reduce(const trellis::Tensor&, const trellis::Tensor&,
                                 trellis::ReduceOp) override {
    throw std::bad_alloc();
  }
  trellis::WorkPtr do_barrier() override { return std::make_unique<FailingWork>(); }
  trellis::WorkPtr do_broadcast(const trellis::Tensor&, int) override {
    // A backend's own error names the group as core named it.
    throw trellis::CommError("thrower broadcast on " + name() + ": the peer is gone");
  }
  std::unique_ptr<trellis::Communicator> do_split(int color, int) override {
    if (color < 0) return nullptr;
    return std::make_unique<ThrowingCommunicator>();
  }
};

std::unique_ptr<trellis::Communicator> make(const trellis::CommInit&) {
  return std::make_unique<ThrowingCommunicator>();
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::comm,
    .name = "thrower",
    .version = "0.0.1",
    .summary = "a communicator whose calls throw",
    .make_comm = &make,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
