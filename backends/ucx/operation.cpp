#include "operation.h"

#include <algorithm>

#include "endpoint_map.h"
#include "engine.h"
#include "tag_layout.h"
#include "trellis/error.h"

namespace trellis::ucx {

Operation::Operation(Engine& engine, std::shared_ptr<const Group> group, std::string group_name,
                     OpInfo info, std::uint64_t sequence)
    : engine_(engine),
      group_(std::move(group)),
      group_name_(std::move(group_name)),
      info_(info),
      sequence_(sequence) {}

Operation::~Operation() = default;

const UcxOptions& Operation::options() const noexcept {
  return engine_.options();
}

ScratchBuffer Operation::scratch(std::size_t bytes) {
  return engine_.scratch().get(bytes);
}

std::uint64_t Operation::tag_for(int sender, std::uint64_t slot) const {
  if (info_.tag >= 0) {
    return tag_layout::user(group_->context, static_cast<std::uint32_t>(sender),
                            static_cast<std::uint32_t>(slot));
  }
  return tag_layout::collective(group_->context, sequence_, slot);
}

void Operation::keep_alive(const Tensor& tensor) {
  if (tensor_count_ < kInlineTensors) {
    tensors_[tensor_count_++] = tensor;
  } else {
    more_tensors_.push_back(tensor);
  }
}

Transfer& Operation::new_transfer(Transfer::Kind kind, int peer, std::size_t bytes) {
  if (transfer_count_ < kInlineTransfers) {
    return transfers_[transfer_count_++].emplace(kind, peer, bytes);
  }
  return more_transfers_.emplace_back(kind, peer, bytes);
}

Transfer* Operation::send(int peer, const void* data, std::size_t bytes, std::uint64_t slot) {
  Transfer& t = new_transfer(Transfer::Kind::send, peer, bytes);
  t.post_send(engine_.endpoints().endpoint(group_->world_rank(peer)), data,
              tag_for(group_->rank, slot));
  if (!t.done()) pending_.push_back(&t);
  if (t.status() != UCS_OK && t.status() != UCS_INPROGRESS) {
    fail("sending to " + group_->describe_rank(peer) + " failed: " + ucs_status_string(t.status()));
  }
  return &t;
}

Transfer* Operation::recv(int peer, void* data, std::size_t bytes, std::uint64_t slot) {
  Transfer& t = new_transfer(Transfer::Kind::recv, peer, bytes);
  t.post_recv(engine_.worker(), data, tag_for(peer, slot));
  // A message that had already arrived completed the receive as it was posted: finding that out
  // now lets the algorithm go on at once, and the caller's wait return without polling the
  // worker (which would pull later messages into UCX's unexpected queue, README "Progress").
  t.poll();
  if (!t.done()) pending_.push_back(&t);
  if (t.done()) {
    if (t.status() != UCS_OK) {
      fail("receiving from " + group_->describe_rank(peer) +
           " failed: " + ucs_status_string(t.status()));
    }
    if (t.received_bytes() != bytes) {
      fail(group_->describe_rank(peer) + " sent " + std::to_string(t.received_bytes()) +
           " bytes where " + std::to_string(bytes) +
           " were expected; do all ranks pass the same sizes?");
    }
  }
  return &t;
}

void Operation::start(OpTask task) {
  task_ = std::move(task);
  resume_task();
}

void Operation::resume_task() {
  waiting_all_.clear();
  waiting_any_ = false;
  try {
    task_.resume();
  } catch (...) {
    end_with_error(std::current_exception());
    return;
  }
  if (task_.finished()) state_ = State::done;
}

void Operation::poll_transfers() {
  // Every transfer is polled, even after a failure is found, so the ones still in flight stay
  // tracked (and are cancelled and drained) rather than forgotten.
  const Transfer* failed = nullptr;
  std::size_t kept = 0;
  for (Transfer* t : pending_) {
    if (!t->poll()) {
      pending_[kept++] = t;
      continue;
    }
    ++completions_;
    const bool wrong_size = t->kind() == Transfer::Kind::recv && t->status() == UCS_OK &&
                            t->received_bytes() != t->bytes();
    if (failed == nullptr && (t->status() != UCS_OK || wrong_size)) failed = t;
  }
  pending_.resize(kept);
  // Draining after a failure: outcomes no longer matter.
  if (failed == nullptr || state_ != State::running) return;

  const std::string who = group_->describe_rank(failed->peer());
  const bool sending = failed->kind() == Transfer::Kind::send;
  if (failed->status() == UCS_ERR_MESSAGE_TRUNCATED) {
    fail(who + " sent more than the " + std::to_string(failed->bytes()) +
         " bytes expected; do all ranks pass the same sizes?");
  }
  if (failed->status() == UCS_OK) {
    fail(who + " sent " + std::to_string(failed->received_bytes()) + " bytes where " +
         std::to_string(failed->bytes()) + " were expected; do all ranks pass the same sizes?");
  }
  const std::string& gone = engine_.endpoints().failure(group_->world_rank(failed->peer()));
  if (!gone.empty()) {
    fail(who + " failed (" + gone + ") while this rank was " +
         (sending ? "sending to it" : "receiving from it"));
  }
  fail((sending ? "sending to " : "receiving from ") + who +
       " failed: " + ucs_status_string(failed->status()));
}

void Operation::check_failed_peers() const {
  const EndpointMap& endpoints = engine_.endpoints();
  if (!endpoints.any_failure()) return;
  // The peers it waits on first: the most telling name.
  for (const Transfer* t : pending_) {
    const std::string& gone = endpoints.failure(group_->world_rank(t->peer()));
    if (gone.empty()) continue;
    fail(group_->describe_rank(t->peer()) + " failed (" + gone + ") while this rank " +
         (t->kind() == Transfer::Kind::recv ? "waited for its data" : "was sending to it"));
  }
  // A collective cannot complete without every member, even one it is not waiting on yet.
  if (info_.tag >= 0) return;
  for (int member = 0; member < group_->size(); ++member) {
    const std::string& gone = endpoints.failure(group_->world_rank(member));
    if (gone.empty() || member == group_->rank) continue;
    fail(group_->describe_rank(member) + " of this group failed (" + gone +
         "), so the collective cannot complete");
  }
}

bool Operation::can_resume() const noexcept {
  if (waiting_any_) return completions_ != completions_at_suspend_;
  return std::all_of(waiting_all_.begin(), waiting_all_.end(),
                     [](const Transfer* t) { return t->done(); });
}

void Operation::advance() noexcept {
  if (state_ != State::running) {
    // Draining: only wait for the transfers to let go of their buffers.
    try {
      poll_transfers();
    } catch (...) {
    }
    return;
  }
  try {
    poll_transfers();
    check_failed_peers();
  } catch (...) {
    end_with_error(std::current_exception());
    return;
  }
  if (can_resume()) resume_task();
}

void Operation::end_with_error(std::exception_ptr error) noexcept {
  state_ = State::failed;
  error_ = std::move(error);
  abandon();
}

void Operation::abandon() noexcept {
  for (Transfer* t : pending_) t->cancel(engine_.worker());
}

void Operation::rethrow_if_failed() const {
  if (error_) std::rethrow_exception(error_);
}

bool Operation::AllDone::await_ready() const noexcept {
  return std::all_of(transfers.begin(), transfers.end(),
                     [](const Transfer* t) { return t->done(); });
}

void Operation::AllDone::await_suspend(std::coroutine_handle<>) noexcept {
  op.waiting_all_ = std::move(transfers);
  op.waiting_any_ = false;
}

void Operation::AnyDone::await_suspend(std::coroutine_handle<>) noexcept {
  op.waiting_any_ = true;
  op.completions_at_suspend_ = op.completions_;
}

std::string Operation::describe() const {
  std::string out = info_.operation;
  std::string details;
  auto add = [&details](const std::string& part) {
    details += (details.empty() ? "" : ", ") + part;
  };
  if (*info_.algorithm != '\0') add(info_.algorithm);
  if (info_.peer >= 0)
    add((info_.operation == std::string("send") ? "to " : "from ") +
        group_->describe_rank(info_.peer));
  if (info_.tag >= 0) add("tag " + std::to_string(info_.tag));
  if (info_.root >= 0) add("root " + std::to_string(info_.root));
  std::string size = std::to_string(info_.bytes) + " bytes";
  if (info_.dtype) size += " of " + std::string(dtype_name(*info_.dtype));
  add(size);
  if (info_.reduce) add(reduce_op_name(*info_.reduce));
  out += " (" + details + ") on " + group_name_ + " (" + group_->describe_members() +
         "; this is rank " + std::to_string(group_->rank) + ")";
  return out;
}

void Operation::fail(const std::string& message) const {
  throw CommError("backend ucx: " + describe() + ": " + message);
}

std::string Operation::timeout_message(std::chrono::milliseconds waited) const {
  std::string recvs;
  std::string sends;
  for (const Transfer* t : pending_) {
    const std::string who = group_->describe_rank(t->peer());
    std::string& list = t->kind() == Transfer::Kind::recv ? recvs : sends;
    if (list.find(who) != std::string::npos) continue;
    list += (list.empty() ? "" : ", ") + who;
  }
  std::string still;
  if (!recvs.empty()) still += "data from " + recvs;
  if (!sends.empty())
    still += std::string(still.empty() ? "" : "; and ") + sends + " to take its data";
  if (still.empty()) still = "nothing in flight (the operation was never completed)";
  return "backend ucx: " + describe() + ": timed out after " + std::to_string(waited.count()) +
         " ms, still waiting for " + still +
         ". Did every rank of the group issue the same collectives in the same order?";
}

}  // namespace trellis::ucx
