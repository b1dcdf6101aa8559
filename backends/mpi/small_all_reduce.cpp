#include "small_all_reduce.h"

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
// a slot: 0 for folding an extra rank in, 1 + k for exchange round k, 31 for sending back.
constexpr int kTagsPerOperation = 32;
constexpr int kFoldTag = 0;
constexpr int kResultTag = 31;

}  // namespace

SmallAllReduceWork::SmallAllReduceWork(MpiCommunicator& comm, const OpInfo& info,
                                       const Tensor& input, const Tensor& output, bool in_place,
                                       std::uint32_t sequence, std::unique_ptr<std::byte[]> scratch)
    : SteppedWork(comm, info),
      input_(input),
      output_(output),
      scratch_(std::move(scratch)),
      in_output_(in_place) {
  plan(sequence);
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

void SmallAllReduceWork::plan(std::uint32_t sequence) {
  const int size = comm_.size();
  const int rank = comm_.rank();
  // The small all_reduces' range of the channel's tags (channel_tags.h).
  const int base =
      small_all_reduce_tags(comm_.world().tag_upper_bound()).block(sequence, kTagsPerOperation);
  const int power = static_cast<int>(std::bit_floor(static_cast<unsigned>(size)));
  const int extras = size - power;
  auto add = [this](StepKind kind, int partner, int tag) {
    steps_[step_count_++] = Step{kind, partner, tag};
  };
  if (rank >= power) {
    add(StepKind::send_input, rank - power, base + kFoldTag);
    add(StepKind::receive_result, rank - power, base + kResultTag);
    return;
  }
  if (rank < extras) add(StepKind::fold_in, rank + power, base + kFoldTag);
  for (int round = 0; (1 << round) < power; ++round) {
    add(StepKind::exchange, rank ^ (1 << round), base + 1 + round);
  }
  if (rank < extras) add(StepKind::send_result, rank + power, base + kResultTag);
}

SmallAllReduceWork::~SmallAllReduceWork() {
  if (done_) return;
  comm_.world().progress().remove(this);
  hand_over_to_world();
}

void SmallAllReduceWork::hand_over_to_world() noexcept {
  int flag = 0;
  if (MPI_Testall(2, requests_.data(), &flag, MPI_STATUSES_IGNORE) != MPI_SUCCESS || flag) return;
  // Its messages may still arrive into the output and the scratch block: keep both for MPI.
  AbandonedOp op;
  op.requests.assign(requests_.begin(), requests_.end());
  op.tensors = {input_, output_};
  op.memory = std::shared_ptr<std::byte[]>(std::move(scratch_));
  comm_.world().abandon(std::move(op));
}

const void* SmallAllReduceWork::partial() const noexcept {
  return in_output_ ? output_.data_ptr() : input_.data_ptr();
}

bool SmallAllReduceWork::advance() noexcept {
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

void SmallAllReduceWork::post(const Step& step) {
  const int count = static_cast<int>(info_.count);
  const MPI_Datatype type = mpi_datatype(info_.dtype);
  const MPI_Comm channel = comm_.channel();
  auto describe_step = [this] { return describe(); };
  // Requests are stored only once posted: a failed call leaves its request undefined.
  MPI_Request request = MPI_REQUEST_NULL;
  switch (step.kind) {
    case StepKind::send_input:
      check_mpi(
          MPI_Isend(input_.data_ptr(), count, type, step.partner, step.tag, channel, &request),
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
    case StepKind::send_result:
      check_mpi(
          MPI_Isend(output_.data_ptr(), count, type, step.partner, step.tag, channel, &request),
          "MPI_Isend", describe_step);
      requests_[0] = request;
      return;
    case StepKind::receive_result:
      check_mpi(
          MPI_Irecv(output_.data_ptr(), count, type, step.partner, step.tag, channel, &request),
          "MPI_Irecv", describe_step);
      requests_[0] = request;
      return;
  }
}

void SmallAllReduceWork::finish_step(const Step& step) {
  if (step.kind == StepKind::fold_in || step.kind == StepKind::exchange) {
    reduce_elements(info_.reduce_op, info_.dtype, output_.data_ptr(), partial(), scratch_.get(),
                    info_.count);
    in_output_ = true;
  } else if (step.kind == StepKind::receive_result) {
    in_output_ = true;
  }
}

void SmallAllReduceWork::finish() noexcept {
  if (!in_output_) {
    // No step combined anything: only possible in a group of one.
    std::memcpy(output_.data_ptr(), input_.data_ptr(), info_.bytes());
  }
  if (info_.reduce_op == ReduceOp::avg) {
    divide_elements(static_cast<float*>(output_.data_ptr()), info_.count, comm_.size());
  }
  done_ = true;
  comm_.scratch().give(std::move(scratch_));
  input_ = Tensor();
  output_ = Tensor();
}

}  // namespace trellis::mpi
