#include "plugin/guarded_communicator.h"

#include <string>

#include "communicator/forwarding_communicator.h"
#include "trellis/error.h"

namespace trellis::plugin_detail {

namespace {

// The ABI minor whose Communicator first has do_all_to_all_v.
constexpr std::uint32_t kAllToAllVMinor = 3;

// "comm backend 'mpi' (libtrellis_comm_mpi.so): wait for all_reduce on tensor group [0, 1]"
std::string where(const PluginOwner& owner, const char* call, const char* operation,
                  const std::weak_ptr<Communicator>& comm) {
  const std::shared_ptr<Communicator> group = comm.lock();
  return owner.label + ": " + call + operation + " on " +
         (group ? group->name() : std::string("a communicator since destroyed"));
}

// An operation in flight. Its completion is the backend's code too: a backend that progresses by
// polling does all its work in test() and wait_for().
class GuardedWork final : public Work {
 public:
  GuardedWork(WorkPtr inner, std::chrono::milliseconds timeout, PluginOwnerPtr owner,
              std::weak_ptr<Communicator> comm, const char* operation)
      : Work(timeout),
        owner_(std::move(owner)),
        comm_(std::move(comm)),
        inner_(std::move(inner)),
        operation_(operation) {}

  bool test() override {
    return plugin_call([&] { return where(*owner_, "test of ", operation_, comm_); },
                       [&] { return inner_->test(); });
  }
  void wait_for(std::chrono::milliseconds timeout) override {
    plugin_call([&] { return where(*owner_, "wait for ", operation_, comm_); },
                [&] { inner_->wait_for(timeout); });
  }

 private:
  PluginOwnerPtr owner_;  // declared first: the library outlives the operation's destructor
  std::weak_ptr<Communicator> comm_;  // for the group's name in messages only
  WorkPtr inner_;
  const char* operation_;  // a literal
};

class GuardedCommunicator final : public ForwardingCommunicator {
 public:
  GuardedCommunicator(std::shared_ptr<Communicator> inner, PluginOwnerPtr owner)
      : ForwardingCommunicator(std::move(inner)), owner_(std::move(owner)) {}
  // The backend's communicator goes before the library holding its code (owner_).
  ~GuardedCommunicator() override { release_inner(); }

 protected:
  WorkPtr do_all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) override {
    return operation("all_reduce",
                     [&](UncheckedCalls c) { return c.all_reduce(input, output, op); });
  }
  WorkPtr do_all_gather(const Tensor& input, const Tensor& output) override {
    return operation("all_gather", [&](UncheckedCalls c) { return c.all_gather(input, output); });
  }
  WorkPtr do_reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) override {
    return operation("reduce_scatter",
                     [&](UncheckedCalls c) { return c.reduce_scatter(input, output, op); });
  }
  WorkPtr do_broadcast(const Tensor& buffer, int root) override {
    return operation("broadcast", [&](UncheckedCalls c) { return c.broadcast(buffer, root); });
  }
  WorkPtr do_reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root) override {
    return operation("reduce", [&](UncheckedCalls c) { return c.reduce(input, output, op, root); });
  }
  WorkPtr do_all_to_all(const Tensor& input, const Tensor& output) override {
    return operation("all_to_all", [&](UncheckedCalls c) { return c.all_to_all(input, output); });
  }
  WorkPtr do_all_to_all_v(const Tensor& input, std::span<const std::int64_t> send_counts,
                          const Tensor& output,
                          std::span<const std::int64_t> recv_counts) override {
    // An older backend's virtual table ends before do_all_to_all_v: calling it would jump past
    // the table's end.
    if (owner_->abi_minor < kAllToAllVMinor) {
      throw UnsupportedError(owner_->label + " does not support all_to_all_v on group '" + name() +
                             "': it was built against plugin ABI 2." +
                             std::to_string(owner_->abi_minor) +
                             ", which has no all_to_all_v (2.3 added it); rebuild it against "
                             "this Trellis");
    }
    return operation("all_to_all_v", [&](UncheckedCalls c) {
      return c.all_to_all_v(input, send_counts, output, recv_counts);
    });
  }
  WorkPtr do_barrier() override {
    return operation("barrier", [&](UncheckedCalls c) { return c.barrier(); });
  }
  WorkPtr do_send(const Tensor& input, int peer, int tag) override {
    return operation("send", [&](UncheckedCalls c) { return c.send(input, peer, tag); });
  }
  WorkPtr do_recv(const Tensor& output, int peer, int tag) override {
    return operation("recv", [&](UncheckedCalls c) { return c.recv(output, peer, tag); });
  }
  std::unique_ptr<Communicator> do_split(int color, int key) override {
    Communicator& inner = synced();
    std::unique_ptr<Communicator> part =
        plugin_call([&] { return where(*owner_, "", "split", this->inner()); },
                    [&] { return inner.split(color, key); });
    if (!part) return part;  // a negative color: this rank is in no group
    return guard_communicator(std::shared_ptr<Communicator>(std::move(part)), owner_);
  }
  // The backend's answers, which our public operations' checks ask for, are its code too.
  bool moves(DType dtype) const override {
    return plugin_call([&] { return where(*owner_, "", "moves", inner()); },
                       [&] { return ForwardingCommunicator::moves(dtype); });
  }
  bool reduces(DType dtype, ReduceOp op) const override {
    return plugin_call([&] { return where(*owner_, "", "reduces", inner()); },
                       [&] { return ForwardingCommunicator::reduces(dtype, op); });
  }

 private:
  template <class Start>
  WorkPtr operation(const char* op, Start&& start) {
    const UncheckedCalls inner = synced_calls();
    WorkPtr work = plugin_call([&] { return where(*owner_, "", op, this->inner()); },
                               [&] { return start(inner); });
    if (!work) return work;
    return std::make_unique<GuardedWork>(std::move(work), timeout(), owner_, this->inner(), op);
  }

  PluginOwnerPtr owner_;  // outlives the backend's communicator (see the destructor)
};

}  // namespace

std::unique_ptr<Communicator> guard_communicator(std::shared_ptr<Communicator> comm,
                                                 PluginOwnerPtr owner) {
  return std::make_unique<GuardedCommunicator>(std::move(comm), std::move(owner));
}

}  // namespace trellis::plugin_detail
