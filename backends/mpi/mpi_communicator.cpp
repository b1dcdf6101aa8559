#include "mpi_communicator.h"

#include <algorithm>
#include <climits>
#include <iostream>
#include <utility>

#include "direct_all_gather.h"
#include "mpi_call.h"
#include "mpi_types.h"
#include "polling_work.h"
#include "request_work.h"
#include "ring_collective.h"
#include "small_collective.h"
#include "trellis/error.h"

namespace trellis::mpi {

namespace {

// "[0, 1, 2, 3]"; long groups shortened to their first and last ranks and a count.
std::string format_ranks(const std::vector<int>& ranks) {
  constexpr std::size_t kHead = 8;
  constexpr std::size_t kTail = 2;
  std::string text = "[";
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    if (ranks.size() > kHead + kTail && i == kHead) {
      text += "..., ";
      i = ranks.size() - kTail;
    }
    text += std::to_string(ranks[i]);
    if (i + 1 < ranks.size()) text += ", ";
  }
  text += "]";
  if (ranks.size() > kHead + kTail) text += " (" + std::to_string(ranks.size()) + " ranks)";
  return text;
}

// Polls `request` until it completes; past `timeout`, hands it and `memory` (what MPI writes
// into) to the world and throws the TimeoutError of `what`.
void wait_or_abandon(MpiWorld& world, MPI_Request* request, std::shared_ptr<void> memory,
                     std::chrono::milliseconds timeout, const std::string& what) {
  std::string failure;
  const bool done = poll_until(
      [&] {
        world.progress().run();  // a peer may be waiting for one of ours to move on first
        int flag = 0;
        const int code = MPI_Test(request, &flag, MPI_STATUS_IGNORE);
        if (code != MPI_SUCCESS) {
          failure = mpi_error_text(code);
          return true;
        }
        return flag != 0;
      },
      timeout, spin_time(0));
  if (!failure.empty()) throw CommError("backend mpi: " + what + " failed: " + failure);
  if (done) return;
  AbandonedOp op;
  op.requests[0] = *request;
  op.memory = std::move(memory);
  world.abandon(std::move(op));
  throw TimeoutError("backend mpi: timed out after " + std::to_string(timeout.count()) +
                     " ms waiting for " + what +
                     ": not every rank of the group has called it. The run must stop.");
}

// A duplicate of `parent` with MPI_ERRORS_RETURN, made with MPI_Comm_idup so that a rank that
// never arrives ends in a TimeoutError instead of a hang.
MPI_Comm duplicate(MpiWorld& world, MPI_Comm parent, std::chrono::milliseconds timeout,
                   const std::string& what) {
  // On the heap: if the wait times out, MPI may still write the new handle here.
  auto result = std::make_shared<MPI_Comm>(MPI_COMM_NULL);
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Comm_idup(parent, result.get(), &request), "MPI_Comm_idup", [&] { return what; });
  wait_or_abandon(world, &request, result, timeout, what + " (MPI_Comm_idup)");
  check_mpi(MPI_Comm_set_errhandler(*result, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler",
            [&] { return what; });
  return *result;
}

}  // namespace

std::size_t small_all_reduce_limit(const MpiSettings& settings, int group_size) noexcept {
  if (settings.small_all_reduce_bytes >= 0) {
    return static_cast<std::size_t>(settings.small_all_reduce_bytes);
  }
  constexpr std::size_t kAnyGroup = std::size_t{64} << 10;
  constexpr std::size_t kSmallGroup = std::size_t{1} << 20;
  return group_size < 4 ? kSmallGroup : kAnyGroup;
}

namespace {

// `setting` where it is set (not -1), else the default for a group of `group_size` ranks: `two`
// for 2 ranks, `three` for 3, `more` beyond.
std::size_t ring_limit(std::int64_t setting, int group_size, std::size_t two, std::size_t three,
                       std::size_t more) noexcept {
  if (setting >= 0) return static_cast<std::size_t>(setting);
  return group_size <= 2 ? two : group_size == 3 ? three : more;
}

constexpr std::size_t kEverySize = 1;
constexpr std::size_t k64KiB = std::size_t{64} << 10;
constexpr std::size_t k1MiB = std::size_t{1} << 20;
constexpr std::size_t k8MiB = std::size_t{8} << 20;

}  // namespace

std::size_t ring_all_reduce_limit(const MpiSettings& settings, int group_size) noexcept {
  return ring_limit(settings.ring_all_reduce_bytes, group_size, kEverySize, kEverySize, k8MiB);
}

std::size_t ring_reduce_scatter_limit(const MpiSettings& settings, int group_size) noexcept {
  return ring_limit(settings.ring_reduce_scatter_bytes, group_size, kEverySize, k64KiB, k1MiB);
}

std::size_t ring_reduce_limit(const MpiSettings& settings, int group_size) noexcept {
  return ring_limit(settings.ring_reduce_bytes, group_size, kEverySize, k64KiB, k64KiB);
}

std::unique_ptr<MpiCommunicator> MpiCommunicator::make_world(const CommInit& init,
                                                             const MpiSettings& settings) {
  std::shared_ptr<MpiWorld> world = MpiWorld::acquire(init.rank, init.world_size);
  const std::string what =
      "making the world communicator of " + std::to_string(init.world_size) + " ranks";
  MPI_Comm comm = duplicate(*world, MPI_COMM_WORLD, init.timeout, what);
  MPI_Comm channel = MPI_COMM_NULL;
  try {
    channel = duplicate(*world, comm, init.timeout, what);
  } catch (...) {
    MPI_Comm_free(&comm);
    throw;
  }
  std::vector<int> world_ranks(static_cast<std::size_t>(init.world_size));
  for (int r = 0; r < init.world_size; ++r) world_ranks[static_cast<std::size_t>(r)] = r;
  std::unique_ptr<MpiCommunicator> communicator(
      new MpiCommunicator(std::move(world), std::make_shared<Lineage>(), comm, channel,
                          std::move(world_ranks), true, settings, init.device));
  communicator->set_timeout(init.timeout);
  return communicator;
}

MpiCommunicator::MpiCommunicator(std::shared_ptr<MpiWorld> world, std::shared_ptr<Lineage> lineage,
                                 MPI_Comm comm, MPI_Comm channel, std::vector<int> world_ranks,
                                 bool is_world, const MpiSettings& settings, Device device)
    : world_(std::move(world)),
      lineage_(std::move(lineage)),
      comm_(comm),
      channel_(channel),
      world_ranks_(std::move(world_ranks)),
      is_world_(is_world),
      settings_(settings),
      small_all_reduce_limit_(
          small_all_reduce_limit(settings, static_cast<int>(world_ranks_.size()))),
      ring_all_reduce_limit_(
          ring_all_reduce_limit(settings, static_cast<int>(world_ranks_.size()))),
      ring_reduce_scatter_limit_(
          ring_reduce_scatter_limit(settings, static_cast<int>(world_ranks_.size()))),
      ring_reduce_limit_(ring_reduce_limit(settings, static_cast<int>(world_ranks_.size()))),
      small_rooted_limit_(std::min(small_all_reduce_limit_, kSmallRootedBytes)),
      device_(device),
      scratch_(small_all_reduce_limit_),
      ring_scratch_(RingWork::kWindow * static_cast<std::size_t>(settings.ring_segment_bytes)) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiCommunicator::~MpiCommunicator() {
  if (is_world_) {
    lineage_->world_alive = false;
    if (lineage_->live_splits > 0) {
      std::cerr << "backend mpi: error: the world communicator was destroyed while "
                << lineage_->live_splits
                << " communicator(s) split from it are alive; destroy those first. Their "
                   "operations now fail, and MPI is finalised when the last of them is gone.\n";
    }
  } else {
    --lineage_->live_splits;
  }
  MPI_Comm_free(&channel_);
  MPI_Comm_free(&comm_);
}

std::string MpiCommunicator::describe_group() const {
  return "group '" + name() + "' (world ranks " + format_ranks(world_ranks_) + ")";
}

std::string MpiCommunicator::describe(const OpInfo& info) const {
  const bool has_peer = info.has_root() || info.is_point_to_point();
  const int peer_world_rank =
      has_peer && info.peer >= 0 && info.peer < size_ ? world_ranks_[info.peer] : -1;
  return describe_operation(info, peer_world_rank) + " in " + describe_group();
}

void MpiCommunicator::check_usable(OpKind op) const {
  if (lineage_->world_alive) return;
  throw CommError(std::string("backend mpi: ") + op_kind_name(op) + " on " + describe_group() +
                  ": the world communicator it was split from has been destroyed. Destroy "
                  "communicators made by split() before the world communicator.");
}

int MpiCommunicator::max_tag() const {
  return world_->tag_upper_bound();
}

template <class Call>
WorkPtr MpiCommunicator::start(const OpInfo& info, const Tensor& first, const Tensor& second,
                               const char* mpi_call, float* average, std::int64_t average_count,
                               const Call& call) {
  auto work = std::make_unique<RequestWork>(*this, info, first, second);
  if (average && size_ > 1) work->average_on_completion(average, average_count);
  check_mpi(call(work->request()), mpi_call, [&] { return describe(info); });
  return work;
}

WorkPtr MpiCommunicator::do_all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) {
  constexpr OpKind kind = OpKind::all_reduce;
  check_usable(kind);
  check_mpi_count(kind, "input", input);
  // The same tensor twice is the only overlap comm.h lets by.
  const bool in_place = input.data_ptr() == output.data_ptr();
  const OpInfo info{kind, input.dtype(), input.numel(), op};
  const std::size_t bytes = info.bytes();
  if (size_ > 1 && bytes > 0 && bytes <= small_all_reduce_limit_) {
    return std::make_unique<SmallCollectiveWork>(*this, info, input, output, in_place, small_ops_++,
                                                 scratch_.take());
  }
  if (size_ > 1 && bytes > 0 && ring_all_reduce_limit_ > 0 && bytes >= ring_all_reduce_limit_) {
    return start_ring(info, input, output);
  }
  float* average = op == ReduceOp::avg ? static_cast<float*>(output.data_ptr()) : nullptr;
  return start(
      info, input, output, "MPI_Iallreduce", average, input.numel(), [&](MPI_Request* request) {
        return MPI_Iallreduce(in_place ? MPI_IN_PLACE : input.data_ptr(), output.data_ptr(),
                              static_cast<int>(input.numel()), mpi_datatype(info.dtype),
                              mpi_reduce_op(op, info.dtype, *world_), comm_, request);
      });
}

WorkPtr MpiCommunicator::start_ring(const OpInfo& info, const Tensor& input, const Tensor& output) {
  // A reduce in a group of 2 runs as a chain (the root's chunk the whole buffer): the root pulls
  // the other rank's input and reduces it all, never waiting for the other rank to reduce half
  // of it first. On the loaded 2-core VM (best of 2 to 5 runs) 1.2x to 2.8x the even split's
  // speed from 32 KiB to 16 MiB; equal at 64 MiB. In groups of 3 the two were even, in groups of
  // 4 the chain's 3 hops lost (0.4x to 0.8x).
  const bool chain = info.kind == OpKind::reduce && size_ == 2;
  // Ranks other than a reduce's root keep their partial results in a chunk of their own.
  SizedBlock partials;
  if (info.kind == OpKind::reduce && rank_ != info.peer) {
    partials = ring_partials_.take(
        static_cast<std::size_t>(RingWork::partial_elements(info.count, size_, chain)) *
        dtype_size(info.dtype));
  }
  return std::make_unique<RingWork>(*this, info, input, output, rings_++,
                                    static_cast<std::size_t>(settings_.ring_segment_bytes),
                                    ring_scratch_.take(), std::move(partials), chain);
}

WorkPtr MpiCommunicator::do_all_gather(const Tensor& input, const Tensor& output) {
  constexpr OpKind kind = OpKind::all_gather;
  check_usable(kind);
  check_mpi_count(kind, "output", output);
  // In place: the input is this rank's chunk of the output (the only overlap comm.h lets by).
  const bool in_place =
      input.nbytes() > 0 &&
      input.data_ptr() == static_cast<char*>(output.data_ptr()) + rank_ * input.nbytes();
  const OpInfo info{kind, input.dtype(), input.numel()};
  if (size_ > 1 && input.nbytes() > 0 && size_ <= settings_.all_gather_direct_ranks) {
    return std::make_unique<DirectAllGatherWork>(*this, info, input, output, in_place,
                                                 direct_all_gathers_++);
  }
  const int count = static_cast<int>(input.numel());
  const MPI_Datatype type = mpi_datatype(info.dtype);
  return start(info, input, output, "MPI_Iallgather", nullptr, 0, [&](MPI_Request* request) {
    return MPI_Iallgather(in_place ? MPI_IN_PLACE : input.data_ptr(), count, type,
                          output.data_ptr(), count, type, comm_, request);
  });
}

WorkPtr MpiCommunicator::do_reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) {
  constexpr OpKind kind = OpKind::reduce_scatter;
  check_usable(kind);
  check_mpi_count(kind, "input", input);
  // comm.h's in-place form (the output is chunk rank() of the input) is the only overlap it lets
  // by. MPI's in-place form leaves the result at the start of the buffer, not at this rank's
  // chunk, so it serves only a group of one (the same tensor) and an empty output; the ring
  // serves a group of 2.
  const bool in_place = output.data_ptr() == static_cast<char*>(input.data_ptr()) +
                                                 static_cast<std::size_t>(rank_) * output.nbytes();
  const OpInfo info{kind, input.dtype(), input.numel(), op};
  const bool ring = size_ > 1 && output.nbytes() > 0 && ring_reduce_scatter_limit_ > 0 &&
                    input.nbytes() >= ring_reduce_scatter_limit_;
  // The ring writes this rank's chunk only in a group of 2; in larger groups it would keep
  // partial results in the other chunks of the input.
  if (ring && (!in_place || size_ == 2)) return start_ring(info, input, output);
  if (in_place && size_ > 1 && output.nbytes() > 0) {
    unsupported(
        "reduce_scatter in place (the output as chunk rank() of the input) in groups of more "
        "than two ranks, or with the ring off; pass a separate output");
  }
  float* average = op == ReduceOp::avg ? static_cast<float*>(output.data_ptr()) : nullptr;
  return start(info, input, output, "MPI_Ireduce_scatter_block", average, output.numel(),
               [&](MPI_Request* request) {
                 return MPI_Ireduce_scatter_block(
                     in_place ? MPI_IN_PLACE : input.data_ptr(), output.data_ptr(),
                     static_cast<int>(output.numel()), mpi_datatype(info.dtype),
                     mpi_reduce_op(op, info.dtype, *world_), comm_, request);
               });
}

WorkPtr MpiCommunicator::do_broadcast(const Tensor& buffer, int root) {
  constexpr OpKind kind = OpKind::broadcast;
  check_usable(kind);
  check_mpi_count(kind, "buffer", buffer);
  const OpInfo info{kind, buffer.dtype(), buffer.numel(), ReduceOp::sum, root};
  if (size_ > 1 && buffer.nbytes() > 0 && buffer.nbytes() <= small_rooted_limit_) {
    return std::make_unique<SmallCollectiveWork>(*this, info, buffer, buffer, /*in_place=*/true,
                                                 small_ops_++, scratch_.take());
  }
  return start(info, buffer, Tensor(), "MPI_Ibcast", nullptr, 0, [&](MPI_Request* request) {
    return MPI_Ibcast(buffer.data_ptr(), static_cast<int>(buffer.numel()), mpi_datatype(info.dtype),
                      root, comm_, request);
  });
}

WorkPtr MpiCommunicator::do_reduce(const Tensor& input, const Tensor& output, ReduceOp op,
                                   int root) {
  constexpr OpKind kind = OpKind::reduce;
  check_usable(kind);
  check_mpi_count(kind, "input", input);
  const bool is_root = rank_ == root;
  // Other ranks' output is not written, so not looked at.
  const bool in_place = is_root && input.data_ptr() == output.data_ptr();
  const OpInfo info{kind, input.dtype(), input.numel(), op, root};
  if (size_ > 1 && input.nbytes() > 0 && input.nbytes() <= small_rooted_limit_) {
    // A non-root rank with children keeps its partial results in a second block: its output is
    // not written.
    std::unique_ptr<std::byte[]> scratch = scratch_.take();
    std::unique_ptr<std::byte[]> partials;
    if (SmallCollectiveWork::needs_partials(size_, rank_, root)) partials = scratch_.take();
    return std::make_unique<SmallCollectiveWork>(*this, info, input, is_root ? output : Tensor(),
                                                 in_place, small_ops_++, std::move(scratch),
                                                 std::move(partials));
  }
  if (size_ > 1 && input.nbytes() > 0 && ring_reduce_limit_ > 0 &&
      input.nbytes() >= ring_reduce_limit_) {
    return start_ring(info, input, is_root ? output : Tensor());
  }
  float* average =
      is_root && op == ReduceOp::avg ? static_cast<float*>(output.data_ptr()) : nullptr;
  return start(info, input, is_root ? output : Tensor(), "MPI_Ireduce", average, input.numel(),
               [&](MPI_Request* request) {
                 return MPI_Ireduce(in_place ? MPI_IN_PLACE : input.data_ptr(),
                                    is_root ? output.data_ptr() : nullptr,
                                    static_cast<int>(input.numel()), mpi_datatype(info.dtype),
                                    mpi_reduce_op(op, info.dtype, *world_), root, comm_, request);
               });
}

WorkPtr MpiCommunicator::do_all_to_all(const Tensor& input, const Tensor& output) {
  constexpr OpKind kind = OpKind::all_to_all;
  check_usable(kind);
  check_mpi_count(kind, "input", input);
  const bool in_place = input.data_ptr() == output.data_ptr();
  const OpInfo info{kind, input.dtype(), input.numel()};
  const int chunk = static_cast<int>(input.numel() / size_);
  const MPI_Datatype type = mpi_datatype(info.dtype);
  return start(info, input, output, "MPI_Ialltoall", nullptr, 0, [&](MPI_Request* request) {
    return MPI_Ialltoall(in_place ? MPI_IN_PLACE : input.data_ptr(), chunk, type, output.data_ptr(),
                         chunk, type, comm_, request);
  });
}

WorkPtr MpiCommunicator::do_all_to_all_v(const Tensor& input,
                                         std::span<const std::int64_t> send_counts,
                                         const Tensor& output,
                                         std::span<const std::int64_t> recv_counts) {
  constexpr OpKind kind = OpKind::all_to_all_v;
  check_usable(kind);
  // MPI's counts and displacements are ints: {send counts, send displacements, receive counts,
  // receive displacements}, read by MPI until the operation completes.
  auto layout = std::make_shared<std::vector<int>>(4 * static_cast<std::size_t>(size_));
  const auto lay_out = [&](std::span<const std::int64_t> counts, int* out_counts,
                           int* out_displacements, const char* role) {
    std::int64_t offset = 0;
    for (int peer = 0; peer < size_; ++peer) {
      const std::int64_t count = counts[static_cast<std::size_t>(peer)];
      if (count > INT_MAX - offset) {
        throw Error("backend mpi: all_to_all_v on group '" + name() + "': " + role + " reach " +
                    std::to_string(offset + count) + " elements by rank " + std::to_string(peer) +
                    "; MPI counts and displacements stop at " + std::to_string(INT_MAX) +
                    ": split the operation");
      }
      out_counts[peer] = static_cast<int>(count);
      out_displacements[peer] = static_cast<int>(offset);
      offset += count;
    }
    return offset;
  };
  int* const slots = layout->data();
  const std::int64_t sent = lay_out(send_counts, slots, slots + size_, "send_counts");
  lay_out(recv_counts, slots + 2 * size_, slots + 3 * size_, "recv_counts");
  const OpInfo info{kind, input.dtype(), sent};
  const MPI_Datatype type = mpi_datatype(info.dtype);
  auto work = std::make_unique<RequestWork>(*this, info, input, output);
  work->keep_until_completion(layout);
  check_mpi(MPI_Ialltoallv(input.data_ptr(), slots, slots + size_, type, output.data_ptr(),
                           slots + 2 * size_, slots + 3 * size_, type, comm_, work->request()),
            "MPI_Ialltoallv", [&] { return describe(info); });
  return work;
}

WorkPtr MpiCommunicator::do_barrier() {
  constexpr OpKind kind = OpKind::barrier;
  check_usable(kind);
  const OpInfo info{kind};
  return start(info, Tensor(), Tensor(), "MPI_Ibarrier", nullptr, 0,
               [&](MPI_Request* request) { return MPI_Ibarrier(comm_, request); });
}

WorkPtr MpiCommunicator::do_send(const Tensor& input, int peer, int tag) {
  constexpr OpKind kind = OpKind::send;
  check_usable(kind);
  check_mpi_count(kind, "input", input);
  const OpInfo info{kind, input.dtype(), input.numel(), ReduceOp::sum, peer, tag};
  return start(info, input, Tensor(), "MPI_Isend", nullptr, 0, [&](MPI_Request* request) {
    return MPI_Isend(input.data_ptr(), static_cast<int>(input.numel()), mpi_datatype(info.dtype),
                     peer, tag, comm_, request);
  });
}

WorkPtr MpiCommunicator::do_recv(const Tensor& output, int peer, int tag) {
  constexpr OpKind kind = OpKind::recv;
  check_usable(kind);
  check_mpi_count(kind, "output", output);
  const OpInfo info{kind, output.dtype(), output.numel(), ReduceOp::sum, peer, tag};
  return start(info, output, Tensor(), "MPI_Irecv", nullptr, 0, [&](MPI_Request* request) {
    return MPI_Irecv(output.data_ptr(), static_cast<int>(output.numel()), mpi_datatype(info.dtype),
                     peer, tag, comm_, request);
  });
}

std::unique_ptr<Communicator> MpiCommunicator::do_split(int color, int key) {
  constexpr OpKind kind = OpKind::split;
  check_usable(kind);
  const OpInfo info{kind};
  // MPI_Comm_split blocks until every rank of the group calls it. A non-blocking gather of
  // every rank's (color, key) first makes sure they all have, within the timeout; it also gives
  // the new group's world ranks without asking MPI again.
  const std::size_t n = static_cast<std::size_t>(size_);
  auto table = std::make_shared<std::vector<int>>(2 * n + 2);
  int* mine = table->data() + 2 * n;
  mine[0] = color < 0 ? -1 : color;
  mine[1] = key;
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Iallgather(mine, 2, MPI_INT, table->data(), 2, MPI_INT, comm_, &request),
            "MPI_Iallgather", [&] { return describe(info); });
  wait_or_abandon(*world_, &request, table, timeout(), describe(info));

  MPI_Comm comm = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split(comm_, color < 0 ? MPI_UNDEFINED : color, key, &comm), "MPI_Comm_split",
            [&] { return describe(info); });
  if (color < 0) return nullptr;
  const std::string name = "split of " + this->name() + " (color " + std::to_string(color) + ")";
  MPI_Comm channel = MPI_COMM_NULL;
  try {
    check_mpi(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler",
              [&] { return describe(info); });
    channel = duplicate(*world_, comm, timeout(), "making " + name);
  } catch (...) {
    MPI_Comm_free(&comm);
    throw;
  }
  // MPI orders the new group by key, ties by rank here: so do we, for its world ranks.
  std::vector<std::pair<int, int>> members;  // (key, rank here) of every rank with our color
  for (std::size_t r = 0; r < n; ++r) {
    if ((*table)[2 * r] == color) members.emplace_back((*table)[2 * r + 1], static_cast<int>(r));
  }
  std::sort(members.begin(), members.end());
  std::vector<int> world_ranks;
  world_ranks.reserve(members.size());
  for (const auto& member : members) world_ranks.push_back(world_ranks_[member.second]);

  std::unique_ptr<MpiCommunicator> child(new MpiCommunicator(
      world_, lineage_, comm, channel, std::move(world_ranks), false, settings_, device_));
  ++lineage_->live_splits;
  child->set_name(name);
  child->set_timeout(timeout());
  return child;
}

}  // namespace trellis::mpi
