// UcxCommunicator: the Communicator of the ucx backend, for the world or a split group.
//
// Communicator's public operations have checked the arguments (comm.h); each do_* here picks the
// algorithm for the message size (README.md, "Algorithms"), numbers collectives (the sequence
// number in the tag), and starts an Operation that the Engine progresses. Calls return at once; the
// Work they return is where waiting (and all progress) happens.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "algorithms.h"
#include "group.h"
#include "trellis/comm.h"

namespace trellis::ucx {

class Engine;
class Operation;
struct OpInfo;

class UcxCommunicator final : public Communicator {
 public:
  UcxCommunicator(std::shared_ptr<Engine> engine, std::shared_ptr<const Group> group,
                  std::string name, std::chrono::milliseconds timeout);
  ~UcxCommunicator() override;

  int rank() const override { return group_->rank; }
  int size() const override { return group_->size(); }
  const char* backend() const override { return "ucx"; }
  // Host memory only (the default device, cpu); tags below the user range of tag_layout.h.
  int max_tag() const override;

 protected:
  WorkPtr do_all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) override;
  WorkPtr do_all_gather(const Tensor& input, const Tensor& output) override;
  WorkPtr do_reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) override;
  WorkPtr do_broadcast(const Tensor& buffer, int root) override;
  WorkPtr do_reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root) override;
  WorkPtr do_all_to_all(const Tensor& input, const Tensor& output) override;
  WorkPtr do_all_to_all_v(const Tensor& input, std::span<const std::int64_t> send_counts,
                          const Tensor& output, std::span<const std::int64_t> recv_counts) override;
  WorkPtr do_barrier() override;
  WorkPtr do_send(const Tensor& input, int peer, int tag) override;
  WorkPtr do_recv(const Tensor& output, int peer, int tag) override;
  std::unique_ptr<Communicator> do_split(int color, int key) override;

 private:
  // Makes the Operation for a collective (numbered) or a send/recv (not numbered).
  std::shared_ptr<Operation> make_operation(const OpInfo& info);
  // Starts `task` on `operation` and hands it to the Engine while it is in flight; the Work
  // takes `operation` over.
  WorkPtr launch(std::shared_ptr<Operation>&& operation, OpTask task);
  // all_gather under another name in messages: split's exchange of colors and keys is one.
  WorkPtr all_gather_as(const char* operation, const Tensor& input, const Tensor& output);

  std::shared_ptr<Engine> engine_;
  std::shared_ptr<const Group> group_;
  std::uint64_t sequence_ = 0;
};

}  // namespace trellis::ucx
