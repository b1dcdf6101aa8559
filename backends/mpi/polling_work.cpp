#include "polling_work.h"

#include "mpi_communicator.h"
#include "trellis/error.h"

namespace trellis::mpi {

std::chrono::nanoseconds spin_time(std::size_t bytes) noexcept {
  // 200 us covers a small message's round trip with room for a late peer. On top, 4 ns a byte
  // (250 MB/s: slower than shared memory or any network an all_reduce should run on) for the
  // data to move: napping while data still flows would slow transports that move only inside
  // MPI calls (TCP, pipelined copies), and an all_reduce moves about twice its bytes.
  constexpr std::chrono::nanoseconds kBase = std::chrono::microseconds(200);
  constexpr std::int64_t kNanosecondsPerByte = 4;
  constexpr std::chrono::nanoseconds kCap = std::chrono::seconds(1);
  const auto per_byte =
      std::chrono::nanoseconds(static_cast<std::int64_t>(bytes) * kNanosecondsPerByte);
  return std::min(kBase + per_byte, kCap);
}

PollingWork::PollingWork(MpiCommunicator& comm, const OpInfo& info)
    : Work(comm.timeout()), comm_(comm), info_(info) {}

std::string PollingWork::describe() const {
  return comm_.describe(info_);
}

void PollingWork::wait_for(std::chrono::milliseconds timeout) {
  if (!poll_until([this] { return test(); }, timeout, spin_time(info_.bytes()))) {
    throw TimeoutError(timeout_message(comm_, info_, timeout, outstanding()));
  }
}

std::string timeout_message(const MpiCommunicator& comm, const OpInfo& info,
                            std::chrono::milliseconds timeout, const std::string& outstanding) {
  std::string text = "backend mpi: timed out after " + std::to_string(timeout.count()) +
                     " ms waiting for " + comm.describe(info) + outstanding + ". ";
  switch (info.kind) {
    case OpKind::recv:
      return text +
             "The peer has not sent a matching message (same group, same tag), or is "
             "stuck before sending it. The receive stays posted: waiting again can still "
             "complete it.";
    case OpKind::send:
      return text +
             "The peer has not posted a matching receive (same group, same tag); messages "
             "beyond MPI's eager size wait for it. Waiting again can still complete the send.";
    default:
      return text +
             "At least one rank of this group has not called it, or has not finished it: "
             "every rank of a group must call the same collectives in the same order. An MPI "
             "collective cannot be cancelled: the run must stop.";
  }
}

}  // namespace trellis::mpi
