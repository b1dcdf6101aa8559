#include "small_collective.h"

#include <bit>
#include <cstring>

#include "channel_tags.h"
#include "mpi_call.h"
#include "mpi_communicator.h"
#include "mpi_types.h"
#include "trellis/error.h"
#include "trellis/reduce.h"

namespace trellis::mpi {

namespace {

// Tags: 32 per operation, the operation's slot chosen by its sequence number. Step tags within
// a slot: 0 for folding an extra rank in, 1 + k for exchange round k, 31 for sending back. A
// tree sends one message per edge, all with tag 0: an edge's two ranks never exchange a second
// message in one operation.
constexpr int kTagsPerOperation = 32;
constexpr int kFoldTag = 0;
constexpr int kResultTag = 31;

// Rank `rank` counted from `root` in a group of `size`, and back.
int from_root(int rank, int root, int size) noexcept {
  return (rank - root + size) % size;
}
int to_group(int relative, int root, int size) noexcept {
  return (relative + root) % size;
}

}  // namespace

SmallCollectiveWork::SmallCollectiveWork(MpiCommunicator& comm, const OpInfo& info,
                                         const Tensor& input, const Tensor& output, bool in_place,
                                         std::uint32_t sequence,
                                         std::unique_ptr<std::byte[]> scratch,
                                         std::unique_ptr<std::byte[]> partials)
    : SteppedWork(comm, info),
      input_(input),
      output_(output),
      scratch_(std::move(scratch)),
      partials_(std::move(partials)),
      result_(partials_ ? partials_.get() : output.data_ptr()),
      in_result_(in_place) {
  // The small all_reduces' range of the channel's tags (channel_tags.h).
  const int base =
      small_all_reduce_tags(comm_.world().tag_upper_bound()).block(sequence, kTagsPerOperation);
  if (info.kind == OpKind::all_reduce) {
    plan_all_reduce(base);
  } else {
    plan_tree(base);
  }
  // Listed before anything is posted: should the list fail to grow, nothing is in flight yet.
  comm_.world().progress().add(this);
  // The first step is posted, not tested: its partner has rarely answered yet, and the first
  // test() comes with the caller's wait.
  try {
    post(steps_[0]);
    posted_ = true;
  } catch (...) {
    comm_.world().progress().remove(this);
    hand_over_to_world();
    throw;
  }
}

bool SmallCollectiveWork::needs_partials(int size, int rank, int root) noexcept {
  const int relative = from_root(rank, root, size);
  // A non-root rank's first child is relative + 1 when its lowest set bit is above bit 0.
  return relative != 0 && (relative & 1) == 0 && relative + 1 < size;
}

void SmallCollectiveWork::plan_all_reduce(int base) {
  const int size = comm_.size();
  const int rank = comm_.rank();
  const int power = static_cast<int>(std::bit_floor(static_cast<unsigned>(size)));
  const int extras = size - power;
  auto add = [this](StepKind kind, int partner, int tag) {
    steps_[step_count_++] = Step{kind, partner, tag};
  };
  if (rank >= power) {
    add(StepKind::send, rank - power, base + kFoldTag);
    add(StepKind::receive, rank - power, base + kResultTag);
    return;
  }
  if (rank < extras) add(StepKind::fold_in, rank + power, base + kFoldTag);
  for (int round = 0; (1 << round) < power; ++round) {
    add(StepKind::exchange, rank ^ (1 << round), base + 1 + round);
  }
  if (rank < extras) add(StepKind::send, rank + power, base + kResultTag);
}

void SmallCollectiveWork::plan_tree(int base) {
  const int size = comm_.size();
  const int root = info_.peer;
  const int relative = from_root(comm_.rank(), root, size);
  // Children are relative + mask for each mask below the lowest set bit of `relative` (every
  // mask for the root); the parent is `relative` without that bit.
  unsigned top = 1;  // one past the largest child mask
  while (top < static_cast<unsigned>(size) && (relative & top) == 0) top <<= 1;
  auto add = [this, root, size, base](StepKind kind, int partner) {
    steps_[step_count_++] = Step{kind, to_group(partner, root, size), base};
  };
  if (info_.kind == OpKind::broadcast) {
    if (relative != 0) add(StepKind::receive, relative - static_cast<int>(top));
    // Largest subtree first: it has the most steps still to go.
    for (unsigned mask = top >> 1; mask > 0; mask >>= 1) {
      if (relative + static_cast<int>(mask) < size)
        add(StepKind::send, relative + static_cast<int>(mask));
    }
    return;
  }
  // reduce. Smallest subtree first: it arrives first; the order is fixed, so are the bits.
  for (unsigned mask = 1; mask < top; mask <<= 1) {
    if (relative + static_cast<int>(mask) < size)
      add(StepKind::fold_in, relative + static_cast<int>(mask));
  }
  if (relative != 0) add(StepKind::send, relative - static_cast<int>(top));
}

SmallCollectiveWork::~SmallCollectiveWork() {
  if (done_) return;
  comm_.world().progress().remove(this);
  hand_over_to_world();
}

void SmallCollectiveWork::hand_over_to_world() noexcept {
  int flag = 0;
  if (MPI_Testall(2, requests_.data(), &flag, MPI_STATUSES_IGNORE) != MPI_SUCCESS || flag) return;
  // Its messages may still arrive into the output and the scratch blocks: keep them for MPI.
  AbandonedOp op;
  op.requests.assign(requests_.begin(), requests_.end());
  op.tensors = {input_, output_};
  if (partials_) {
    using Blocks = std::array<std::unique_ptr<std::byte[]>, 2>;
    op.memory = std::make_shared<Blocks>(Blocks{std::move(scratch_), std::move(partials_)});
  } else {
    op.memory = std::shared_ptr<std::byte[]>(std::move(scratch_));
  }
  comm_.world().abandon(std::move(op));
}

const void* SmallCollectiveWork::partial() const noexcept {
  return in_result_ ? result_ : input_.data_ptr();
}

bool SmallCollectiveWork::advance() noexcept {
  if (done_ || !failure_.empty()) return true;
  try {
    while (current_ < step_count_) {
      const Step& step = steps_[current_];
      if (!posted_) {
        post(step);
        posted_ = true;
      }
      int flag = 0;
      check_mpi(MPI_Testall(2, requests_.data(), &flag, MPI_STATUSES_IGNORE), "MPI_Testall",
                [this] { return describe(); });
      if (!flag) return false;
      finish_step(step);
      ++current_;
      posted_ = false;
    }
    finish();
  } catch (const std::exception& error) {
    // Finished, as far as progress goes. A request still in flight keeps the scratch block
    // with this Work, and the destructor hands both to the world.
    failure_ = error.what();
  }
  return true;
}

void SmallCollectiveWork::post(const Step& step) {
  const int count = static_cast<int>(info_.count);
  const MPI_Datatype type = mpi_datatype(info_.dtype);
  const MPI_Comm channel = comm_.channel();
  auto describe_step = [this] { return describe(); };
  // Requests are stored only once posted: a failed call leaves its request undefined.
  MPI_Request request = MPI_REQUEST_NULL;
  switch (step.kind) {
    case StepKind::send:
      check_mpi(MPI_Isend(partial(), count, type, step.partner, step.tag, channel, &request),
                "MPI_Isend", describe_step);
      requests_[0] = request;
      return;
    case StepKind::fold_in:
      check_mpi(MPI_Irecv(scratch_.get(), count, type, step.partner, step.tag, channel, &request),
                "MPI_Irecv", describe_step);
      requests_[0] = request;
      return;
    case StepKind::exchange:
      // The send goes first: the partner may be waiting for it already, and a message that
      // arrives before its receive is posted is simply matched when it is.
      check_mpi(MPI_Isend(partial(), count, type, step.partner, step.tag, channel, &request),
                "MPI_Isend", describe_step);
      requests_[1] = request;
      check_mpi(MPI_Irecv(scratch_.get(), count, type, step.partner, step.tag, channel, &request),
                "MPI_Irecv", describe_step);
      requests_[0] = request;
      return;
    case StepKind::receive:
      check_mpi(MPI_Irecv(result_, count, type, step.partner, step.tag, channel, &request),
                "MPI_Irecv", describe_step);
      requests_[0] = request;
      return;
  }
}

void SmallCollectiveWork::finish_step(const Step& step) {
  if (step.kind == StepKind::fold_in || step.kind == StepKind::exchange) {
    // `mine op theirs`: both ranks of an exchange get the same bits (trellis/reduce.h).
    reduce_elements(info_.reduce_op, info_.dtype, result_, partial(), scratch_.get(), info_.count);
    in_result_ = true;
  } else if (step.kind == StepKind::receive) {
    in_result_ = true;
  }
}

void SmallCollectiveWork::finish() noexcept {
  // A reduce writes the root's output only; a broadcast's buffer is its input and output.
  const bool reduces_into_output = info_.kind == OpKind::all_reduce ||
                                   (info_.kind == OpKind::reduce && comm_.rank() == info_.peer);
  if (reduces_into_output) {
    if (!in_result_) {
      // No step combined anything: only possible in a group of one.
      std::memcpy(output_.data_ptr(), input_.data_ptr(), info_.bytes());
    }
    if (info_.reduce_op == ReduceOp::avg) {
      divide_elements(static_cast<float*>(output_.data_ptr()), info_.count, comm_.size());
    }
  }
  done_ = true;
  comm_.scratch().give(std::move(scratch_));
  if (partials_) comm_.scratch().give(std::move(partials_));
  input_ = Tensor();
  output_ = Tensor();
}

}  // namespace trellis::mpi
