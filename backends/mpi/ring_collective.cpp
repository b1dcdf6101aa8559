#include "ring_collective.h"

#include <algorithm>
#include <vector>

#include "channel_tags.h"
#include "mpi_call.h"
#include "mpi_communicator.h"
#include "mpi_types.h"
#include "trellis/error.h"
#include "trellis/reduce.h"

namespace trellis::mpi {

namespace {

int wrap(int rank, int size) noexcept {
  return (rank % size + size) % size;
}

}  // namespace

RingWork::RingWork(MpiCommunicator& comm, const OpInfo& info, const Tensor& input,
                   const Tensor& output, std::uint32_t sequence, std::size_t segment_bytes,
                   std::unique_ptr<std::byte[]> scratch, SizedBlock partials, bool chain)
    : SteppedWork(comm, info),
      input_(input),
      output_(output),
      scratch_(std::move(scratch)),
      partials_(std::move(partials)),
      partial_base_(partials_.data ? partials_.data.get()
                                   : static_cast<std::byte*>(output.data_ptr())),
      chunk_sized_partials_(partials_.data || info.kind == OpKind::reduce_scatter),
      element_bytes_(dtype_size(info.dtype)),
      kind_(info.kind),
      size_(comm.size()),
      rank_(comm.rank()),
      root_(info.kind == OpKind::reduce ? info.peer : -1),
      left_(wrap(rank_ - 1, size_)),
      right_(wrap(rank_ + 1, size_)),
      shift_(info.kind == OpKind::all_reduce ? 0 : 1),
      tag_(ring_tags(comm.world().tag_upper_bound()).block(sequence)),
      chain_(chain),
      chunk_base_(chain ? 0 : info.count / size_),
      long_chunks_(chain ? 0 : info.count % size_),
      segment_count_(std::max<std::int64_t>(
          1, static_cast<std::int64_t>(segment_bytes / dtype_size(info.dtype)))),
      segments_((longest_chunk(info.count, size_, chain) + segment_count_ - 1) / segment_count_),
      reduce_scatter_units_(std::int64_t{size_ - 1} * segments_),
      receive_units_(reduce_scatter_units_),
      send_units_(reduce_scatter_units_) {
  // What follows the reduce-scatter: the all-gather's n - 1 steps both ways, or the gather of
  // every other rank's chunk to the root.
  if (kind_ == OpKind::all_reduce) {
    receive_units_ += reduce_scatter_units_;
    send_units_ += reduce_scatter_units_;
  } else if (kind_ == OpKind::reduce && rank_ == root_) {
    receive_units_ += reduce_scatter_units_;
  } else if (kind_ == OpKind::reduce) {
    send_units_ += segments_;
  }
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

RingWork::~RingWork() {
  if (done_) return;
  comm_.world().progress().remove(this);
  hand_over_to_world();
}

void RingWork::hand_over_to_world() noexcept {
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
  // input, the output and the partial results: keep them all for MPI.
  struct Buffers {
    std::unique_ptr<std::byte[]> scratch;
    SizedBlock partials;
  };
  AbandonedOp op;
  op.requests = std::move(pending);
  op.tensors = {input_, output_};
  op.memory = std::make_shared<Buffers>(Buffers{std::move(scratch_), std::move(partials_)});
  comm_.world().abandon(std::move(op));
}

int RingWork::receive_chunk(std::int64_t unit) const noexcept {
  if (unit >= reduce_scatter_units_ && kind_ == OpKind::reduce) return receive_peer(unit);
  return wrap(rank_ - step_of(unit) - 1 - shift_, size_);
}

int RingWork::send_chunk(std::int64_t unit) const noexcept {
  if (unit >= reduce_scatter_units_ && kind_ == OpKind::reduce) return rank_;
  return wrap(rank_ - step_of(unit) - shift_, size_);
}

int RingWork::receive_peer(std::int64_t unit) const noexcept {
  // The root gathers the other ranks' chunks one peer after another, from the rank after it.
  if (unit >= reduce_scatter_units_ && kind_ == OpKind::reduce) {
    return wrap(root_ + 1 + static_cast<int>((unit - reduce_scatter_units_) / segments_), size_);
  }
  return left_;
}

int RingWork::send_peer(std::int64_t unit) const noexcept {
  return unit >= reduce_scatter_units_ && kind_ == OpKind::reduce ? root_ : right_;
}

std::int64_t RingWork::longest_chunk(std::int64_t count, int size, bool chain) noexcept {
  return chain ? count : (count + size - 1) / size;
}

std::int64_t RingWork::partial_elements(std::int64_t count, int size, bool chain) noexcept {
  return chain && size == 2 ? 0 : longest_chunk(count, size, chain);
}

RingWork::Span RingWork::segment(int chunk, std::int64_t unit) const noexcept {
  // A chain's root chunk is the whole buffer, at its start; the other chunks are empty.
  const std::int64_t length =
      chain_ ? (chunk == root_ ? info_.count : 0) : chunk_base_ + (chunk < long_chunks_ ? 1 : 0);
  const std::int64_t start =
      chain_ ? 0 : chunk * chunk_base_ + std::min<std::int64_t>(chunk, long_chunks_);
  const std::int64_t offset = (unit % segments_) * segment_count_;
  // Chunks one element short of the longest may have an empty last segment: it is still sent
  // (zero elements), so that both sides count the same messages.
  return {start + offset, std::clamp<std::int64_t>(length - offset, 0, segment_count_)};
}

std::byte* RingWork::at(void* base, const Span& span) const noexcept {
  return static_cast<std::byte*>(base) + static_cast<std::size_t>(span.first) * element_bytes_;
}

std::byte* RingWork::partial_at(const Span& span, std::int64_t unit) const noexcept {
  // An empty span stays at the start: a chain's empty chunks may have no room at all.
  if (span.count == 0) return partial_base_;
  if (!chunk_sized_partials_) return at(partial_base_, span);
  return partial_base_ +
         static_cast<std::size_t>((unit % segments_) * segment_count_) * element_bytes_;
}

std::byte* RingWork::slot(std::int64_t unit) const noexcept {
  return scratch_.get() + static_cast<std::size_t>(unit % kWindow) *
                              static_cast<std::size_t>(segment_count_) * element_bytes_;
}

bool RingWork::advance() noexcept {
  if (done_ || !failure_.empty()) return true;
  try {
    auto check = [this](int code) { check_mpi(code, "MPI_Test", [this] { return describe(); }); };
    for (bool moved = true; moved;) {
      moved = false;
      // Oldest first: units complete in order, which the sends and the scratch slots rely on.
      while (received_ < receiving_ && may_reduce(received_)) {
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
    if (received_ < receive_units_ || sent_ < send_units_) return false;
    finish();
  } catch (const std::exception& error) {
    // Finished, as far as progress goes. Requests still in flight keep the buffers with this
    // Work, and the destructor hands them to the world.
    failure_ = error.what();
  }
  return true;
}

bool RingWork::may_post_receive(std::int64_t unit) const noexcept {
  if (unit < reduce_scatter_units_) return true;  // into a scratch slot
  // An all-gather receive overwrites output this rank sent from in the reduce-scatter.
  if (kind_ == OpKind::all_reduce) return sent_ > unit - reduce_scatter_units_;
  // The root's gather overwrites the partial results its reduce-scatter sends read from the
  // output (in a group of 2 they send the input only).
  return size_ == 2 || sent_ == send_units_;
}

bool RingWork::may_reduce(std::int64_t unit) const noexcept {
  // A chunk-sized partial buffer holds the step before's partial of this segment until the send
  // of this step's unit has read it.
  const int step = step_of(unit);
  return !chunk_sized_partials_ || step == 0 || step >= size_ - 1 || sent_ > unit;
}

bool RingWork::post_ready() {
  bool posted = false;
  // Receives first, so that segments find them posted.
  while (receiving_ < receive_units_ && receiving_ - received_ < kWindow &&
         may_post_receive(receiving_)) {
    post_receive(receiving_);
    ++receiving_;
    posted = true;
  }
  // A segment moves on once it has arrived at the step before.
  while (sending_ < send_units_ && sending_ - sent_ < kSendWindow &&
         (sending_ < segments_ || received_ > sending_ - segments_)) {
    post_send(sending_);
    ++sending_;
    posted = true;
  }
  return posted;
}

void RingWork::post_receive(std::int64_t unit) {
  const Span span = segment(receive_chunk(unit), unit);
  void* into = unit < reduce_scatter_units_ ? slot(unit) : at(output_.data_ptr(), span);
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Irecv(into, static_cast<int>(span.count), mpi_datatype(info_.dtype),
                      receive_peer(unit), tag_, comm_.channel(), &request),
            "MPI_Irecv", [this] { return describe(); });
  receives_[unit % kWindow] = request;
}

void RingWork::post_send(std::int64_t unit) {
  const Span span = segment(send_chunk(unit), unit);
  // Step 0 sends a chunk of this rank's input, untouched; later steps send what this rank
  // reduced (or received) before.
  const void* from = step_of(unit) == 0 ? at(input_.data_ptr(), span) : partial_at(span, unit);
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Isend(from, static_cast<int>(span.count), mpi_datatype(info_.dtype),
                      send_peer(unit), tag_, comm_.channel(), &request),
            "MPI_Isend", [this] { return describe(); });
  sends_[unit % kSendWindow] = request;
}

void RingWork::reduced(std::int64_t unit) noexcept {
  const int step = step_of(unit);
  if (step >= size_ - 1) return;  // after the reduce-scatter: already in place
  const Span span = segment(receive_chunk(unit), unit);
  std::byte* out = partial_at(span, unit);
  reduce_elements(info_.reduce_op, info_.dtype, out, at(input_.data_ptr(), span), slot(unit),
                  span.count);
  // The last reduce-scatter step finishes this rank's chunk: the average is taken here, once,
  // and every other rank gets this quotient.
  if (step == size_ - 2 && info_.reduce_op == ReduceOp::avg) {
    divide_elements(reinterpret_cast<float*>(out), span.count, size_);
  }
}

void RingWork::finish() noexcept {
  done_ = true;
  comm_.ring_scratch().give(std::move(scratch_));
  if (partials_.data) comm_.ring_partials().give(std::move(partials_));
  input_ = Tensor();  // the caller's handles are enough from here on
  output_ = Tensor();
}

std::string RingWork::outstanding() const {
  if (done_ || !failure_.empty()) return std::string();
  const bool receiving = received_ < receive_units_;
  const bool sending = sent_ < sending_;
  const std::int64_t unit = receiving ? received_ : sent_;
  const int step = step_of(unit);
  const int steps = step_of(std::max(receive_units_, send_units_) - 1) + 1;
  const char* phase = step < size_ - 1              ? " (reduce-scatter)"
                      : kind_ == OpKind::all_reduce ? " (all-gather)"
                                                    : " (gather to the root)";
  auto who = [this](int rank) {
    return "rank " + std::to_string(rank) + " (world rank " +
           std::to_string(comm_.world_ranks()[static_cast<std::size_t>(rank)]) + ")";
  };
  std::string text = ", at ring step " + std::to_string(step + 1) + " of " + std::to_string(steps) +
                     phase + ", segment " + std::to_string(unit % segments_ + 1) + " of " +
                     std::to_string(segments_) + ": still waiting for ";
  if (receiving) text += who(receive_peer(received_)) + " to send";
  if (receiving && sending) text += " and for ";
  if (sending) text += who(send_peer(sent_)) + " to receive";
  return text;
}

}  // namespace trellis::mpi
