// Communicator: collective and point-to-point communication within a group of ranks.
//
// A Communicator is one group (the world, or a tensor/data/pipeline group made with split()).
// Every operation is asynchronous: it returns a Work, and the caller waits on it (or tests it).
// Tensors passed to an operation are kept alive by the Work until it completes; the caller must
// not touch the output before then. Unless an operation says otherwise, tensors must be contiguous
// and on the communicator's device, and every rank of the group must call the same collectives in
// the same order with matching sizes.
//
// In-place operation: pass the same tensor as input and output.
//
// Backends implement the operations they support; the others keep the default here, which throws
// UnsupportedError("backend X does not support Y"). Nothing waits forever: Work::wait() uses the
// communicator's timeout and throws TimeoutError naming the operation, the group and the peer(s)
// still outstanding.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "trellis/config.h"
#include "trellis/store.h"
#include "trellis/tensor.h"

namespace trellis {

enum class ReduceOp : std::uint8_t { sum, avg, max, min };
const char* reduce_op_name(ReduceOp op) noexcept;

// An operation in flight.
class Work {
 public:
  explicit Work(std::chrono::milliseconds default_timeout) : default_timeout_(default_timeout) {}
  virtual ~Work() = default;
  Work(const Work&) = delete;
  Work& operator=(const Work&) = delete;

  // Makes progress without blocking; true once the operation has completed.
  // Throws CommError if it failed.
  virtual bool test() = 0;
  // Blocks until the operation completes; throws TimeoutError after `timeout`, CommError on
  // failure.
  virtual void wait_for(std::chrono::milliseconds timeout) = 0;
  // wait_for() with the timeout of the communicator that started the operation.
  void wait() { wait_for(default_timeout_); }

 private:
  std::chrono::milliseconds default_timeout_;
};
using WorkPtr = std::unique_ptr<Work>;

// A Work that is already complete, for operations a backend finishes synchronously.
WorkPtr completed_work();

class Communicator {
 public:
  virtual ~Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // The backend's plugin name, e.g. "mpi", used in messages.
  virtual const char* backend() const = 0;

  // A human-readable name of the group for error messages, e.g. "tensor group [2, 3]".
  const std::string& name() const noexcept { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // Timeout of every wait on operations of this communicator.
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  void set_timeout(std::chrono::milliseconds timeout) noexcept { timeout_ = timeout; }

  // output = op over ranks of input. Same shape and dtype on every rank.
  virtual WorkPtr all_reduce(const Tensor& input, const Tensor& output, ReduceOp op);
  // output (size() x input.numel() elements) = the ranks' inputs, concatenated in rank order.
  virtual WorkPtr all_gather(const Tensor& input, const Tensor& output);
  // output = chunk rank() of (op over ranks of input); input has size() x output.numel() elements.
  virtual WorkPtr reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op);
  // Every rank's buffer = root's buffer.
  virtual WorkPtr broadcast(const Tensor& buffer, int root);
  // On root, output = op over ranks of input; other ranks' output is not written.
  virtual WorkPtr reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root);
  // input and output hold size() equal chunks; chunk j of rank i's input goes to chunk i of rank j.
  virtual WorkPtr all_to_all(const Tensor& input, const Tensor& output);
  virtual WorkPtr barrier();
  // Point-to-point. `tag` separates concurrent messages between the same two ranks; a receive
  // matches the send with the same peer and tag.
  virtual WorkPtr send(const Tensor& input, int peer, int tag);
  virtual WorkPtr recv(const Tensor& output, int peer, int tag);

  // Collective over this group: ranks passing the same `color` form a new communicator, ordered
  // by `key` (ties by rank). A negative color returns nullptr for that rank.
  virtual std::unique_ptr<Communicator> split(int color, int key);

 protected:
  Communicator() = default;
  // Throws UnsupportedError("backend <backend()> does not support <operation>").
  [[noreturn]] void unsupported(const char* operation) const;

 private:
  std::string name_ = "world";
  std::chrono::milliseconds timeout_{std::chrono::minutes(5)};
};

// What a comm plugin's factory receives to make the world communicator of one rank.
struct CommInit {
  int rank = 0;
  int world_size = 1;
  Store* store = nullptr;  // the run's rendezvous store; null when world_size is 1
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  Device device = Device::cpu();
  const Options* options = nullptr;  // the backend's [comm.<name>] table
};

}  // namespace trellis
