#include "ring_all_reduce.h"

#include <algorithm>
#include <vector>

#include "channel_tags.h"
#include "mpi_call.h"
#include "mpi_communicator.h"
#include "mpi_types.h"
#include "trellis/error.h"
#include "trellis/reduce.h"

namespace trellis::mpi {

RingAllReduceWork::RingAllReduceWork(MpiCommunicator& comm, const OpInfo& info, const Tensor& input,
                                     const Tensor& output, std::uint32_t sequence,
                                     std::size_t segment_bytes,
                                     std::unique_ptr<std::byte[]> scratch)
    : SteppedWork(comm, info),
      input_(input),
      output_(output),
      scratch_(std::move(scratch)),
      element_bytes_(dtype_size(info.dtype)),
      size_(comm.size()),
      rank_(comm.rank()),
      left_((rank_ + size_ - 1) % size_),
      right_((rank_ + 1) % size_),
      tag_(ring_all_reduce_tags(comm.world().tag_upper_bound()).block(sequence)),
      chunk_base_(info.count / size_),
      long_chunks_(info.count % size_),
      segment_count_(std::max<std::int64_t>(
          1, static_cast<std::int64_t>(segment_bytes / dtype_size(info.dtype)))),
      segments_((chunk_base_ + (long_chunks_ > 0 ? 1 : 0) + segment_count_ - 1) / segment_count_),
      units_(std::int64_t{2} * (size_ - 1) * segments_) {
  receives_.fill(MPI_REQUEST_NULL);
  sends_.fill(MPI_REQUEST_NULL);
  // Listed before anything is posted: should the list fail to grow, nothing is in flight yet.
  comm_.world().progress().add(this);
  // The first receives and sends are posted, not tested: the peers have rarely answered yet,
  // and the first test() comes with the caller's wait.
  try {
    post_ready();
  } catch (...) {
    comm_.world().progress().remove(this);
    hand_over_to_world();
    throw;
  }
}

RingAllReduceWork::~RingAllReduceWork() {
  if (done_) return;
  comm_.world().progress().remove(this);
  hand_over_to_world();
}

void RingAllReduceWork::hand_over_to_world() noexcept {
  std::vector<MPI_Request> pending;
  for (MPI_Request request : receives_) {
    if (request != MPI_REQUEST_NULL) pending.push_back(request);
  }
  for (MPI_Request request : sends_) {
    if (request != MPI_REQUEST_NULL) pending.push_back(request);
  }
  int flag = 0;
  if (pending.empty() ||
      MPI_Testall(static_cast<int>(pending.size()), pending.data(), &flag, MPI_STATUSES_IGNORE) !=
          MPI_SUCCESS ||
      flag) {
    return;
  }
  // Segments may still arrive into the output and the scratch block, and sends still read the
  // input and the output: keep all three for MPI.
  AbandonedOp op;
  op.requests = std::move(pending);
  op.tensors = {input_, output_};
  op.memory = std::shared_ptr<std::byte[]>(std::move(scratch_));
  comm_.world().abandon(std::move(op));
}

RingAllReduceWork::Span RingAllReduceWork::segment(int chunk, std::int64_t unit) const noexcept {
  const std::int64_t length = chunk_base_ + (chunk < long_chunks_ ? 1 : 0);
  const std::int64_t start = chunk * chunk_base_ + std::min<std::int64_t>(chunk, long_chunks_);
  const std::int64_t offset = (unit % segments_) * segment_count_;
  // Chunks one element short of the longest may have an empty last segment: it is still sent
  // (zero elements), so that both sides count the same messages.
  return {start + offset, std::clamp<std::int64_t>(length - offset, 0, segment_count_)};
}

void* RingAllReduceWork::output_at(const Span& span) const noexcept {
  return static_cast<std::byte*>(output_.data_ptr()) +
         static_cast<std::size_t>(span.first) * element_bytes_;
}

std::byte* RingAllReduceWork::slot(std::int64_t unit) const noexcept {
  return scratch_.get() + static_cast<std::size_t>(unit % kWindow) *
                              static_cast<std::size_t>(segment_count_) * element_bytes_;
}

bool RingAllReduceWork::advance() noexcept {
  if (done_ || !failure_.empty()) return true;
  try {
    auto check = [this](int code) { check_mpi(code, "MPI_Test", [this] { return describe(); }); };
    for (bool moved = true; moved;) {
      moved = false;
      // Oldest first: units complete in order, which the sends and the scratch slots rely on.
      while (received_ < receiving_) {
        int flag = 0;
        check(MPI_Test(&receives_[received_ % kWindow], &flag, MPI_STATUS_IGNORE));
        if (!flag) break;
        reduced(received_++);
        moved = true;
      }
      while (sent_ < sending_) {
        int flag = 0;
        check(MPI_Test(&sends_[sent_ % kSendWindow], &flag, MPI_STATUS_IGNORE));
        if (!flag) break;
        ++sent_;
        moved = true;
      }
      if (post_ready()) moved = true;
    }
    if (received_ < units_ || sent_ < units_) return false;
    finish();
  } catch (const std::exception& error) {
    // Finished, as far as progress goes. Requests still in flight keep the buffers with this
    // Work, and the destructor hands them to the world.
    failure_ = error.what();
  }
  return true;
}

bool RingAllReduceWork::post_ready() {
  const std::int64_t reduce_scatter_units = std::int64_t{size_ - 1} * segments_;
  bool posted = false;
  // Receives first, so that segments find them posted.
  while (receiving_ < units_ && receiving_ - received_ < kWindow &&
         // An all-gather receive overwrites output this rank sent from in the reduce-scatter.
         (receiving_ < reduce_scatter_units || sent_ > receiving_ - reduce_scatter_units)) {
    post_receive(receiving_);
    ++receiving_;
    posted = true;
  }
  // A segment moves on once it has arrived at the step before.
  while (sending_ < units_ && sending_ - sent_ < kSendWindow &&
         (sending_ < segments_ || received_ > sending_ - segments_)) {
    post_send(sending_);
    ++sending_;
    posted = true;
  }
  return posted;
}

void RingAllReduceWork::post_receive(std::int64_t unit) {
  const int step = step_of(unit);
  const Span span = segment(((rank_ - step - 1) % size_ + size_) % size_, unit);
  void* into = step < size_ - 1 ? static_cast<void*>(slot(unit)) : output_at(span);
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Irecv(into, static_cast<int>(span.count), mpi_datatype(info_.dtype), left_, tag_,
                      comm_.channel(), &request),
            "MPI_Irecv", [this] { return describe(); });
  receives_[unit % kWindow] = request;
}

void RingAllReduceWork::post_send(std::int64_t unit) {
  const int step = step_of(unit);
  const Span span = segment(((rank_ - step) % size_ + size_) % size_, unit);
  // Step 0 sends this rank's own chunk, untouched, from the input; later steps send what this
  // rank reduced (or received) into the output.
  const void* from = step == 0 ? static_cast<const std::byte*>(input_.data_ptr()) +
                                     static_cast<std::size_t>(span.first) * element_bytes_
                               : output_at(span);
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Isend(from, static_cast<int>(span.count), mpi_datatype(info_.dtype), right_, tag_,
                      comm_.channel(), &request),
            "MPI_Isend", [this] { return describe(); });
  sends_[unit % kSendWindow] = request;
}

void RingAllReduceWork::reduced(std::int64_t unit) noexcept {
  const int step = step_of(unit);
  if (step >= size_ - 1) return;  // an all-gather segment: already in place
  const Span span = segment(((rank_ - step - 1) % size_ + size_) % size_, unit);
  void* out = output_at(span);
  const void* mine = static_cast<const std::byte*>(input_.data_ptr()) +
                     static_cast<std::size_t>(span.first) * element_bytes_;
  reduce_elements(info_.reduce_op, info_.dtype, out, mine, slot(unit), span.count);
  // The last reduce-scatter step finishes this rank's chunk: the average is taken here, once,
  // and the all-gather hands every rank the same quotient.
  if (step == size_ - 2 && info_.reduce_op == ReduceOp::avg) {
    divide_elements(static_cast<float*>(out), span.count, size_);
  }
}

void RingAllReduceWork::finish() noexcept {
  done_ = true;
  comm_.ring_scratch().give(std::move(scratch_));
  input_ = Tensor();  // the caller's handles are enough from here on
  output_ = Tensor();
}

std::string RingAllReduceWork::outstanding() const {
  if (done_ || !failure_.empty()) return std::string();
  const bool receiving = received_ < units_;
  const bool sending = sent_ < sending_;
  const std::int64_t unit = receiving ? received_ : sent_;
  const int step = step_of(unit);
  auto who = [this](int rank) {
    return "rank " + std::to_string(rank) + " (world rank " +
           std::to_string(comm_.world_ranks()[static_cast<std::size_t>(rank)]) + ")";
  };
  std::string text = ", at ring step " + std::to_string(step + 1) + " of " +
                     std::to_string(2 * (size_ - 1)) +
                     (step < size_ - 1 ? " (reduce-scatter)" : " (all-gather)") + ", segment " +
                     std::to_string(unit % segments_ + 1) + " of " + std::to_string(segments_) +
                     ": still waiting for ";
  if (receiving) text += who(left_) + " to send";
  if (receiving && sending) text += " and for ";
  if (sending) text += who(right_) + " to receive";
  return text;
}

}  // namespace trellis::mpi
