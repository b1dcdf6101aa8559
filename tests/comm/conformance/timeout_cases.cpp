// Nothing waits forever (comm.h): a recv that no rank ever sends to must end in a TimeoutError
// about the communicator's timeout after wait() started, naming the operation and the peer; an
// explicit wait_for() uses its own timeout. Dropping the Work of the timed-out recv must neither
// hang nor break anything else: the world communicator is used afterwards.
//
// The recvs are made on a communicator of their own (a split of the world), so a receive the
// backend leaves posted can never take a later message. This part runs last.
#include <chrono>
#include <functional>
#include <memory>
#include <regex>
#include <string>

#include "suite.h"
#include "tensor_check.h"
#include "trellis/error.h"
#include "values.h"

namespace trellis::conformance {

namespace {

using Clock = std::chrono::steady_clock;

// A wait on a busy machine may end somewhat after its deadline; more than this is a failure.
constexpr std::chrono::milliseconds kLateness{3000};

std::string milliseconds(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

// Waits on `work` (a recv from `peer` nobody sends) with `wait` and judges how it ended.
std::string times_out(Work& work, int peer, std::chrono::milliseconds timeout,
                      const std::function<void(Work&)>& wait) {
  const auto start = Clock::now();
  try {
    wait(work);
    return "the wait returned, but nobody sent anything";
  } catch (const TimeoutError& error) {
    const auto waited = Clock::now() - start;
    const std::string message = error.what();
    if (waited < timeout * 9 / 10) {
      return "TimeoutError after " + milliseconds(waited) + ", before the timeout of " +
             milliseconds(timeout) + ": " + message;
    }
    if (waited > timeout + kLateness) {
      return "TimeoutError only after " + milliseconds(waited) + " for a timeout of " +
             milliseconds(timeout) + ": " + message;
    }
    if (message.find("recv") == std::string::npos) {
      return "the TimeoutError does not name the operation (recv): " + message;
    }
    const std::regex names_peer("(rank|peer)s?\\s*\\[?" + std::to_string(peer) + "\\b");
    if (!std::regex_search(message, names_peer)) {
      return "the TimeoutError does not name the peer (rank " + std::to_string(peer) +
             "): " + message;
    }
    return std::string();
  } catch (const std::exception& error) {
    return std::string("threw something other than TimeoutError: ") + error.what();
  }
}

}  // namespace

void check_timeout(Suite& suite) {
  Communicator& world = suite.world;
  const int rank = world.rank(), size = world.size();
  if (size == 1) return;  // no peer to wait for
  const int peer = (rank + size - 1) % size;

  std::unique_ptr<Communicator> own;
  const CaseId made{"split for the timeout check", DType::f32, 0, Placement::single_buffer,
                    group_label(world)};
  suite.report.run(made, [&] {
    own = world.split(0, rank);
    return own ? std::string() : std::string("split(0, rank) returned nullptr");
  });
  own->set_name("timeout check");
  own->set_timeout(suite.short_timeout);

  const CaseId by_default{"recv nobody sends: wait() ends with TimeoutError", DType::f32, 7,
                          Placement::single_buffer, group_label(*own)};
  suite.report.run(by_default, [&] {
    const Tensor incoming = filled_tensor(suite.allocator, DType::f32, 7, kUntouched);
    WorkPtr work = own->recv(incoming, peer, 77);
    std::string wrong = times_out(*work, peer, suite.short_timeout, [](Work& w) { w.wait(); });
    work.reset();
    return wrong;
  });

  // A backend may abort a communicator whose wait timed out (nccl does: its receive would hold
  // the group's stream forever), so the second case has a communicator of its own.
  const CaseId made_again{"second split for the timeout check", DType::f32, 0,
                          Placement::single_buffer, group_label(world)};
  suite.report.run(made_again, [&] {
    own = world.split(0, rank);
    return own ? std::string() : std::string("split(0, rank) returned nullptr");
  });
  own->set_name("timeout check 2");
  own->set_timeout(suite.short_timeout);

  const std::chrono::milliseconds explicit_timeout{400};
  const CaseId explicitly{"recv nobody sends: wait_for(400 ms) ends with TimeoutError", DType::f32,
                          7, Placement::single_buffer, group_label(*own)};
  suite.report.run(explicitly, [&] {
    const Tensor incoming = filled_tensor(suite.allocator, DType::f32, 7, kUntouched);
    WorkPtr work = own->recv(incoming, peer, 78);
    std::string wrong =
        times_out(*work, peer, explicit_timeout, [&](Work& w) { w.wait_for(explicit_timeout); });
    work.reset();
    return wrong;
  });

  const CaseId after{"world all_reduce after timed-out recvs on another group", DType::f32, 262147,
                     Placement::in_place, group_label(world)};
  suite.report.run(after, [&] {
    world.barrier()->wait();
    Tensor buffer = Tensor::empty(Shape{262147}, DType::f32, suite.allocator);
    fill(buffer, [&](std::int64_t i) { return contribution(DType::f32, rank, i); });
    world.all_reduce(buffer, buffer, ReduceOp::sum)->wait();
    return check(buffer,
                 [&](std::int64_t i) { return reduction(ReduceOp::sum, DType::f32, size, i); });
  });
  own.reset();
}

}  // namespace trellis::conformance
