// Test plugin "test-store-barrier": a communicator whose only collective, barrier(), goes through
// the run's store. It proves what create_world hands a backend (rank, world size, a live store)
// without a real transport: each barrier adds to a counter, the last rank in sets a key, and
// everyone waits for that key.
//
// Built a second time with TEST_NEEDS_MPIRUN as "test-mpirun-only", a backend whose descriptor
// says its ranks must be started by mpirun (PluginDescriptor::launch), for the launch tests.
#include <string>

#include "trellis/error.h"
#include "trellis/plugin.h"

#ifdef TEST_NEEDS_MPIRUN
#define TEST_BACKEND_NAME "test-mpirun-only"
#define TEST_LAUNCH_NEED trellis::LaunchNeed::mpirun
#else
#define TEST_BACKEND_NAME "test-store-barrier"
#define TEST_LAUNCH_NEED trellis::LaunchNeed::any
#endif

namespace {

class StoreBarrierCommunicator final : public trellis::Communicator {
 public:
  explicit StoreBarrierCommunicator(const trellis::CommInit& init)
      : rank_(init.rank), size_(init.world_size), store_(init.store), timeout_(init.timeout) {}

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return TEST_BACKEND_NAME; }

 protected:
  trellis::WorkPtr do_barrier() override {
    const std::string key = "barrier/" + std::to_string(generation_++);
    if (store_->add(key + "/arrived", 1) == size_) store_->set(key + "/done", "1");
    store_->wait({key + "/done"}, timeout_);
    return trellis::completed_work();
  }

 private:
  int rank_;
  int size_;
  trellis::Store* store_;
  std::chrono::milliseconds timeout_;
  int generation_ = 0;
};

std::unique_ptr<trellis::Communicator> make(const trellis::CommInit& init) {
  if (init.store == nullptr) throw trellis::CommError("test-store-barrier: no store");
  return std::make_unique<StoreBarrierCommunicator>(init);
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::comm,
    .name = TEST_BACKEND_NAME,
    .version = "0.0.1",
    .summary = "comm tests: a barrier through the store",
    .make_comm = &make,
    .launch = TEST_LAUNCH_NEED,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
