// Operation: one communication operation in flight, driven by its algorithm's coroutine.
//
// An Operation owns its algorithm (an OpTask), the transfers the algorithm posted, and the
// tensors it reads and writes. The Engine advances every Operation in flight whenever any Work
// of the world is tested or waited on, so operations progress together: ranks may wait on them
// in different orders without deadlock.
//
// advance() polls the transfers in flight; when what the algorithm waits for has happened, it
// resumes the coroutine, which posts the next transfers and suspends again. Failures (a transfer
// failing, a peer the operation waits on dying, a message of the wrong size) end the operation;
// the error is kept and rethrown to whoever waits on it. An operation that has ended but still
// has transfers in flight (sends a slow peer has not taken yet, receives being cancelled) stays
// with the Engine until they are done, so UCX never touches memory that has been freed.
#pragma once

#include <array>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "group.h"
#include "op_task.h"
#include "scratch_pool.h"
#include "transfer.h"
#include "trellis/comm.h"
#include "trellis/tensor.h"
#include "ucx_options.h"

namespace trellis::ucx {

class Engine;

// What an operation is, for error messages.
struct OpInfo {
  const char* operation = "";  // "all_reduce"
  const char* algorithm = "";  // "ring"; empty for send/recv
  std::size_t bytes = 0;       // of the caller's message (all_gather: of each rank's input)
  std::optional<DType> dtype = std::nullopt;
  std::optional<ReduceOp> reduce = std::nullopt;
  int root = -1;  // broadcast, reduce
  int peer = -1;  // send, recv
  int tag = -1;   // send, recv
};

class Operation {
 public:
  // `sequence` numbers collectives in the communicator (tag_layout.h); `group_name` is the
  // communicator's name() when the operation was issued.
  Operation(Engine& engine, std::shared_ptr<const Group> group, std::string group_name, OpInfo info,
            std::uint64_t sequence);
  ~Operation();
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

  // Runs `task` to its first wait. Call once, right after construction.
  void start(OpTask task);
  // Keeps `tensor`'s memory alive as long as the operation (or its transfers) may use it.
  void keep_alive(const Tensor& tensor);

  // Polls the transfers and resumes the algorithm when it can go on. Never throws.
  void advance() noexcept;
  // True once the algorithm has ended, successfully or not.
  bool finished() const noexcept { return state_ != State::running; }
  // True once no transfer is in flight: the Engine may let go of the operation.
  bool drained() const noexcept { return pending_.empty(); }
  // Cancels the receives still posted: the world is going away.
  void abandon() noexcept;
  // Rethrows the failure, if the operation failed.
  void rethrow_if_failed() const;
  // The TimeoutError message after waiting `waited`: operation, group, and the peers still
  // outstanding.
  std::string timeout_message(std::chrono::milliseconds waited) const;

  // ---- what algorithms use ----
  int rank() const noexcept { return group_->rank; }
  int size() const noexcept { return group_->size(); }
  const UcxOptions& options() const noexcept;
  ScratchBuffer scratch(std::size_t bytes);

  // Posts a send of `bytes` at `data` to group rank `peer`, tagged with `slot` of this
  // collective (or the user's tag for send/recv).
  Transfer* send(int peer, const void* data, std::size_t bytes, std::uint64_t slot);
  Transfer* recv(int peer, void* data, std::size_t bytes, std::uint64_t slot);

  // co_await all(t...): until every one of the transfers has completed.
  struct AllDone {
    Operation& op;
    std::vector<Transfer*> transfers;
    bool await_ready() const noexcept;
    void await_suspend(std::coroutine_handle<>) noexcept;
    void await_resume() const noexcept {}
  };
  // (Variadic rather than an initializer_list: GCC 12 miscompiles a braced list inside co_await.)
  template <class... T>
  AllDone all(T*... transfers) {
    return {*this, std::vector<Transfer*>{transfers...}};
  }
  AllDone all(std::vector<Transfer*> transfers) { return {*this, std::move(transfers)}; }
  // co_await any(): until some transfer of this operation completes.
  struct AnyDone {
    Operation& op;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) noexcept;
    void await_resume() const noexcept {}
  };
  AnyDone any() { return {*this}; }
  // co_await drain(): until nothing this operation posted is in flight.
  AllDone drain() { return {*this, pending_}; }

  // For algorithms' own errors ("what" on "group", with this text).
  [[noreturn]] void fail(const std::string& message) const;

 private:
  enum class State : std::uint8_t { running, done, failed };

  // Polls every transfer in flight; throws CommError for a failed one.
  void poll_transfers();
  // Throws CommError when a peer with a transfer in flight is known to have failed.
  void check_failed_peers() const;
  bool can_resume() const noexcept;
  void resume_task();
  void end_with_error(std::exception_ptr error) noexcept;
  std::string describe() const;
  std::uint64_t tag_for(int sender, std::uint64_t slot) const;
  // A new transfer whose address stays put for the operation's life.
  Transfer& new_transfer(Transfer::Kind kind, int peer, std::size_t bytes);

  Engine& engine_;
  std::shared_ptr<const Group> group_;
  std::string group_name_;
  OpInfo info_;
  std::uint64_t sequence_;

  OpTask task_;
  State state_ = State::running;
  std::exception_ptr error_;
  // What an operation holds is kept in the Operation itself up to the number most operations
  // need (a small message's whole operation is then a few allocations), the rest in lists;
  // neither moves an element once made, so the pointers algorithms keep stay valid.
  static constexpr std::size_t kInlineTensors = 2;  // input and output
  static constexpr std::size_t kInlineTransfers = 4;
  std::array<Tensor, kInlineTensors> tensors_;
  std::size_t tensor_count_ = 0;
  std::list<Tensor> more_tensors_;
  std::array<std::optional<Transfer>, kInlineTransfers> transfers_;  // every transfer posted
  std::size_t transfer_count_ = 0;
  std::list<Transfer> more_transfers_;
  std::vector<Transfer*> pending_;  // those in flight
  std::uint64_t completions_ = 0;   // how many transfers have completed, for any()
  // What the suspended algorithm waits for: every transfer in waiting_all_, or (waiting_any_)
  // one more completion than completions_at_suspend_.
  std::vector<Transfer*> waiting_all_;
  bool waiting_any_ = false;
  std::uint64_t completions_at_suspend_ = 0;
};

}  // namespace trellis::ucx
