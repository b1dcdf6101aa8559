#include "plugin/guarded_communicator.h"

#include "plugin/plugin_call.h"

namespace trellis::plugin_detail {

namespace {

// The backend's communicator and the plugin's label, shared by the proxy and the operations in
// flight, which may outlive it. A communicator split from another keeps that one (and so the
// plugin's library, which the world's deleter holds) alive until it is gone.
struct Backend {
  std::shared_ptr<Communicator> comm;
  std::string plugin;
  std::shared_ptr<const Backend> split_from;

  // "comm backend 'mpi' (libtrellis_comm_mpi.so): all_reduce on tensor group [0, 1]"
  std::string where(const char* call, const char* operation) const {
    return plugin + ": " + call + operation + " on " + comm->name();
  }
};

// An operation in flight. Its completion is the backend's code too: a backend that progresses by
// polling does all its work in test() and wait_for().
class GuardedWork final : public Work {
 public:
  GuardedWork(WorkPtr inner, std::chrono::milliseconds timeout,
              std::shared_ptr<const Backend> backend, const char* operation)
      : Work(timeout),
        backend_(std::move(backend)),
        inner_(std::move(inner)),
        operation_(operation) {}

  bool test() override {
    return plugin_call([&] { return backend_->where("test of ", operation_); },
                       [&] { return inner_->test(); });
  }
  void wait_for(std::chrono::milliseconds timeout) override {
    plugin_call([&] { return backend_->where("wait for ", operation_); },
                [&] { inner_->wait_for(timeout); });
  }

 private:
  std::shared_ptr<const Backend> backend_;  // declared first: destroyed after the operation
  WorkPtr inner_;
  const char* operation_;  // a literal
};

class GuardedCommunicator final : public Communicator {
 public:
  explicit GuardedCommunicator(std::shared_ptr<Backend> backend) : backend_(std::move(backend)) {
    set_name(backend_->comm->name());
    set_timeout(backend_->comm->timeout());
  }

  int rank() const override { return backend_->comm->rank(); }
  int size() const override { return backend_->comm->size(); }
  const char* backend() const override { return backend_->comm->backend(); }

  WorkPtr all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) override {
    return operation("all_reduce",
                     [&](Communicator& c) { return c.all_reduce(input, output, op); });
  }
  WorkPtr all_gather(const Tensor& input, const Tensor& output) override {
    return operation("all_gather", [&](Communicator& c) { return c.all_gather(input, output); });
  }
  WorkPtr reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) override {
    return operation("reduce_scatter",
                     [&](Communicator& c) { return c.reduce_scatter(input, output, op); });
  }
  WorkPtr broadcast(const Tensor& buffer, int root) override {
    return operation("broadcast", [&](Communicator& c) { return c.broadcast(buffer, root); });
  }
  WorkPtr reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root) override {
    return operation("reduce", [&](Communicator& c) { return c.reduce(input, output, op, root); });
  }
  WorkPtr all_to_all(const Tensor& input, const Tensor& output) override {
    return operation("all_to_all", [&](Communicator& c) { return c.all_to_all(input, output); });
  }
  WorkPtr barrier() override {
    return operation("barrier", [&](Communicator& c) { return c.barrier(); });
  }
  WorkPtr send(const Tensor& input, int peer, int tag) override {
    return operation("send", [&](Communicator& c) { return c.send(input, peer, tag); });
  }
  WorkPtr recv(const Tensor& output, int peer, int tag) override {
    return operation("recv", [&](Communicator& c) { return c.recv(output, peer, tag); });
  }
  std::unique_ptr<Communicator> split(int color, int key) override {
    Communicator& inner = synced();
    std::unique_ptr<Communicator> part = plugin_call([&] { return backend_->where("", "split"); },
                                                     [&] { return inner.split(color, key); });
    if (!part) return part;  // a negative color: this rank is in no group
    return std::make_unique<GuardedCommunicator>(std::make_shared<Backend>(
        Backend{std::shared_ptr<Communicator>(std::move(part)), backend_->plugin, backend_}));
  }

 private:
  // Core names the group and sets its timeout on this proxy; the backend's messages and waits
  // use its own, so they follow before each call.
  Communicator& synced() {
    Communicator& inner = *backend_->comm;
    if (inner.name() != name()) inner.set_name(name());
    if (inner.timeout() != timeout()) inner.set_timeout(timeout());
    return inner;
  }

  template <class Start>
  WorkPtr operation(const char* op, Start&& start) {
    Communicator& inner = synced();
    WorkPtr work =
        plugin_call([&] { return backend_->where("", op); }, [&] { return start(inner); });
    if (!work) return work;
    return std::make_unique<GuardedWork>(std::move(work), timeout(), backend_, op);
  }

  std::shared_ptr<Backend> backend_;
};

}  // namespace

std::unique_ptr<Communicator> guard_communicator(std::shared_ptr<Communicator> comm,
                                                 std::string plugin) {
  return std::make_unique<GuardedCommunicator>(
      std::make_shared<Backend>(Backend{std::move(comm), std::move(plugin), nullptr}));
}

}  // namespace trellis::plugin_detail
