// Communicator: collective and point-to-point communication within a group of ranks.
//
// A Communicator is one group (the world, or a tensor/data/pipeline group made with split()).
// Every operation is asynchronous: it returns a Work, and the caller waits on it (or tests it).
// Tensors passed to an operation are kept alive by the Work until it completes; the caller must
// not touch the output before then. Every rank of the group must call the same collectives in
// the same order with matching sizes.
//
// Arguments. The public operations are not virtual: each checks its arguments here, once, for
// every backend, and only then calls the backend's protected do_* function. A wrong argument is
// trellis::Error naming the backend, the operation, the group, the tensor ("input", "output",
// "buffer") and what was expected; nothing has been sent when it is thrown, so every rank of a
// group that makes the same mistake fails alike and the group stays usable. The rules:
//   - tensors are defined, contiguous, and on device() (all of one operation on the same device
//     where device() is "any");
//   - input and output have the same dtype, and the element counts each operation states below;
//   - the backend moves the dtype (moves()) and reduces it with the op (reduces()); otherwise
//     UnsupportedError "backend X does not support bf16 all_reduce". avg over an integer dtype
//     would be truncated: the default reduces() refuses it (a group of one takes it: exact);
//   - input and output are separate memory, or in place: the same tensor where the sizes are
//     equal (all_reduce, reduce, all_to_all), and where they differ, this rank's chunk of the
//     bigger one (all_gather's input as chunk rank() of the output, reduce_scatter's output as
//     chunk rank() of the input). Any other overlap is refused; a backend may still decline an
//     in-place form it cannot do with UnsupportedError;
//   - roots and peers are ranks of the group (a rank may send to itself); tags are 0..max_tag().
//
// An operation a backend lacks keeps the default do_* here, which throws
// UnsupportedError("backend X does not support Y"). Nothing waits forever: Work::wait() uses the
// communicator's timeout and throws TimeoutError naming the operation, the group and the peer(s)
// still outstanding.
#pragma once

#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <span>
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
  // The device whose memory the operations take: cpu for host backends (the default), cuda:N for
  // a GPU backend. nullopt: any device, as long as one operation's tensors share it.
  virtual std::optional<Device> device() const { return Device::cpu(); }
  // The largest tag send() and recv() accept.
  virtual int max_tag() const { return std::numeric_limits<int>::max(); }

  // A human-readable name of the group for error messages, e.g. "tensor group [2, 3]".
  const std::string& name() const noexcept { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // Timeout of every wait on operations of this communicator.
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  void set_timeout(std::chrono::milliseconds timeout) noexcept { timeout_ = timeout; }

  // output = op over ranks of input. Same shape and dtype on every rank; as many elements.
  WorkPtr all_reduce(const Tensor& input, const Tensor& output, ReduceOp op);
  // output (size() x input.numel() elements) = the ranks' inputs, concatenated in rank order.
  WorkPtr all_gather(const Tensor& input, const Tensor& output);
  // output = chunk rank() of (op over ranks of input); input has size() x output.numel() elements.
  WorkPtr reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op);
  // Every rank's buffer = root's buffer.
  WorkPtr broadcast(const Tensor& buffer, int root);
  // On root, output = op over ranks of input; other ranks' output is neither checked nor written
  // (it may be an undefined Tensor).
  WorkPtr reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root);
  // input and output hold size() equal chunks; chunk j of rank i's input goes to chunk i of rank j.
  WorkPtr all_to_all(const Tensor& input, const Tensor& output);
  // all_to_all with a count per peer, in elements of the (contiguous) tensors' flat storage, so
  // any shape works (a [tokens, hidden] block: counts of tokens x hidden); send_counts[j]
  // elements of this rank's input, starting at sum(send_counts[0..j)), go to rank j, where they
  // land at sum(recv_counts[0..i)) of its output (i = this rank). Both spans have size() entries,
  // none negative, and their sums fit in input and output (the rest is neither read nor written);
  // rank j's recv_counts[i] must equal rank i's send_counts[j] (not checked: each rank sees only
  // its own counts). input and output are separate memory.
  WorkPtr all_to_all_v(const Tensor& input, std::span<const std::int64_t> send_counts,
                       const Tensor& output, std::span<const std::int64_t> recv_counts);
  WorkPtr barrier();
  // Point-to-point. `tag` separates concurrent messages between the same two ranks; a receive
  // matches the send with the same peer and tag.
  WorkPtr send(const Tensor& input, int peer, int tag);
  WorkPtr recv(const Tensor& output, int peer, int tag);

  // Collective over this group: ranks passing the same `color` form a new communicator, ordered
  // by `key` (ties by rank). A negative color returns nullptr for that rank.
  std::unique_ptr<Communicator> split(int color, int key);

 protected:
  Communicator() = default;

  // What the backend implements: called by the public operation of the same name once its
  // arguments have passed the checks above, so an implementation relies on them and checks only
  // what is its own (a count limit, an in-place form it cannot do). The defaults throw
  // UnsupportedError.
  virtual WorkPtr do_all_reduce(const Tensor& input, const Tensor& output, ReduceOp op);
  virtual WorkPtr do_all_gather(const Tensor& input, const Tensor& output);
  virtual WorkPtr do_reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op);
  virtual WorkPtr do_broadcast(const Tensor& buffer, int root);
  virtual WorkPtr do_reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root);
  virtual WorkPtr do_all_to_all(const Tensor& input, const Tensor& output);
  virtual WorkPtr do_barrier();
  virtual WorkPtr do_send(const Tensor& input, int peer, int tag);
  virtual WorkPtr do_recv(const Tensor& output, int peer, int tag);
  virtual std::unique_ptr<Communicator> do_split(int color, int key);

  // Whether the backend moves tensors of `dtype` at all. Default: every dtype.
  virtual bool moves(DType dtype) const;
  // Whether it reduces `dtype` with `op`. Default: f32 with every op, i32 with all but avg.
  virtual bool reduces(DType dtype, ReduceOp op) const;

  // ---- ABI 2.3: appended after every older virtual, so a 2.2 backend's table is a prefix of
  // this one; core never calls it on a backend built against an older minor (plugin.h) ----
  virtual WorkPtr do_all_to_all_v(const Tensor& input, std::span<const std::int64_t> send_counts,
                                  const Tensor& output, std::span<const std::int64_t> recv_counts);

  // Throws UnsupportedError("backend <backend()> does not support <operation>").
  [[noreturn]] void unsupported(const char* operation) const;

 private:
  // Core's wrappers around a communicator (the plugin guard, the flight record) pass an operation
  // on to the wrapped one's do_* through it: the wrapper's public operation has made the checks
  // above, with the wrapped communicator's device, tags, moves() and reduces(), so they run once
  // a call, not once a layer. Nothing a backend writes changes with it.
  friend class UncheckedCalls;

  // The checks that need the backend's answers (communicator.cpp): `tensor` of `operation`, in
  // the role `role`, is usable; `other` (or null) is a tensor of the same call it must share a
  // device with.
  void check_tensor(const char* operation, const char* role, const Tensor& tensor,
                    const Tensor* other) const;
  void check_reduction(const char* operation, DType dtype, ReduceOp op) const;

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
