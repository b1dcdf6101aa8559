#include "nccl_communicator.h"

#include <cstring>

#include "nccl_work.h"
#include "trellis/error.h"

namespace trellis::nccl {

namespace {

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return ncclFloat32;
    case DType::i32:
      return ncclInt32;
    case DType::bf16:
      return ncclBfloat16;
  }
  return ncclFloat32;
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return ncclSum;
    case ReduceOp::avg:
      return ncclAvg;
    case ReduceOp::max:
      return ncclMax;
    case ReduceOp::min:
      return ncclMin;
  }
  return ncclSum;
}

std::size_t count_of(const Tensor& t) {
  return static_cast<std::size_t>(t.numel());
}

const char* begin_of(const Tensor& t) {
  return static_cast<const char*>(t.data_ptr());
}

// The process's world communicators so far: each world's unique id has its own store key, so a
// program may make several worlds in turn (trellis-bench does, one per backend).
int next_world_number() {
  static int worlds = 0;
  return worlds++;
}

ncclConfig_t nonblocking_config() {
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  return config;
}

}  // namespace

std::unique_ptr<NcclCommunicator> NcclCommunicator::make_world(const CommInit& init) {
  if (init.device.kind != DeviceKind::cuda) {
    throw InputError("backend nccl moves GPU memory only, but the run's device is " +
                     init.device.str() + ": use [device] kind = \"cuda\", or backend mpi or ucx");
  }
  if (init.store == nullptr) throw CommError("backend nccl: no store to exchange the NCCL id");
  const std::string what = "making the world communicator (rank " + std::to_string(init.rank) +
                           " of " + std::to_string(init.world_size) + ", " + init.device.str() +
                           ")";
  check_cuda(cudaSetDevice(init.device.index), "cudaSetDevice", what);

  const std::string key = "nccl/world/" + std::to_string(next_world_number()) + "/unique_id";
  ncclUniqueId id{};
  if (init.rank == 0) {
    const ncclResult_t result = ncclGetUniqueId(&id);
    if (result != ncclSuccess) {
      throw CommError("backend nccl: " + nccl::describe(result, nullptr, "ncclGetUniqueId") +
                      " in " + what);
    }
    init.store->set(key, std::string(reinterpret_cast<const char*>(&id), sizeof id));
  } else {
    const std::string bytes = init.store->get(key, init.timeout);
    if (bytes.size() != sizeof id) {
      throw CommError("backend nccl: the NCCL unique id in the store has " +
                      std::to_string(bytes.size()) + " bytes, expected " +
                      std::to_string(sizeof id));
    }
    std::memcpy(&id, bytes.data(), sizeof id);
  }

  ncclComm_t comm = nullptr;
  ncclConfig_t config = nonblocking_config();
  const ncclResult_t started =
      ncclCommInitRankConfig(&comm, init.world_size, id, init.rank, &config);
  try {
    if (comm == nullptr) {
      throw CommError("backend nccl: " +
                      nccl::describe(started, nullptr, "ncclCommInitRankConfig") + " in " + what);
    }
    settle(comm, started, "ncclCommInitRankConfig", what, Clock::now() + init.timeout);
  } catch (...) {
    if (comm) ncclCommAbort(comm);
    throw;
  }
  auto group = std::make_shared<NcclGroup>(comm, init.device.index, init.timeout);
  std::unique_ptr<NcclCommunicator> world(new NcclCommunicator(std::move(group), init.device));
  world->set_timeout(init.timeout);
  return world;
}

NcclCommunicator::NcclCommunicator(std::shared_ptr<NcclGroup> group, Device device)
    : group_(std::move(group)), device_(device) {}

std::string NcclCommunicator::describe_group() const {
  return "group '" + name() + "' (" + std::to_string(size()) + " ranks)";
}

std::string NcclCommunicator::describe(const std::string& op, const Tensor& tensor) const {
  return op + " of " + std::to_string(tensor.numel()) + " " + dtype_name(tensor.dtype()) +
         " elements in " + describe_group();
}

WorkPtr NcclCommunicator::start(const char* call, const std::string& what, const Tensor& a,
                                const Tensor& b,
                                const std::function<ncclResult_t(ncclComm_t, cudaStream_t)>& body) {
  sync_timeout();
  std::shared_ptr<Completion> completion = group_->enqueue(call, what, body);
  return std::make_unique<NcclWork>(group_, std::move(completion), nullptr,
                                    std::vector<Tensor>{a, b}, what,
                                    "Some rank of the group has not started it, or is stuck "
                                    "before it (or a peer died).");
}

WorkPtr NcclCommunicator::do_all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) {
  const std::string name = std::string("all_reduce (") + reduce_op_name(op) + ")";
  if (input.numel() == 0) return completed_work();
  return start("ncclAllReduce", describe(name, input), input, output,
               [&](ncclComm_t comm, cudaStream_t stream) {
                 return ncclAllReduce(input.data_ptr(), output.data_ptr(), count_of(input),
                                      nccl_type(input.dtype()), nccl_op(op), comm, stream);
               });
}

WorkPtr NcclCommunicator::do_all_gather(const Tensor& input, const Tensor& output) {
  if (input.numel() == 0) return completed_work();
  return start("ncclAllGather", describe("all_gather", input), input, output,
               [&](ncclComm_t comm, cudaStream_t stream) {
                 return ncclAllGather(input.data_ptr(), output.data_ptr(), count_of(input),
                                      nccl_type(input.dtype()), comm, stream);
               });
}

WorkPtr NcclCommunicator::do_reduce_scatter(const Tensor& input, const Tensor& output,
                                            ReduceOp op) {
  const std::string name = std::string("reduce_scatter (") + reduce_op_name(op) + ")";
  if (output.numel() == 0) return completed_work();
  return start("ncclReduceScatter", describe(name, output), input, output,
               [&](ncclComm_t comm, cudaStream_t stream) {
                 return ncclReduceScatter(input.data_ptr(), output.data_ptr(), count_of(output),
                                          nccl_type(input.dtype()), nccl_op(op), comm, stream);
               });
}

WorkPtr NcclCommunicator::do_broadcast(const Tensor& buffer, int root) {
  const std::string name = "broadcast from rank " + std::to_string(root);
  if (buffer.numel() == 0) return completed_work();
  return start("ncclBroadcast", describe(name, buffer), buffer, Tensor(),
               [&](ncclComm_t comm, cudaStream_t stream) {
                 return ncclBroadcast(buffer.data_ptr(), buffer.data_ptr(), count_of(buffer),
                                      nccl_type(buffer.dtype()), root, comm, stream);
               });
}

WorkPtr NcclCommunicator::do_reduce(const Tensor& input, const Tensor& output, ReduceOp op,
                                    int root) {
  const std::string name =
      std::string("reduce (") + reduce_op_name(op) + ") to rank " + std::to_string(root);
  void* out = rank() == root ? output.data_ptr() : nullptr;
  if (input.numel() == 0) return completed_work();
  return start("ncclReduce", describe(name, input), input, rank() == root ? output : Tensor(),
               [&](ncclComm_t comm, cudaStream_t stream) {
                 return ncclReduce(input.data_ptr(), out, count_of(input), nccl_type(input.dtype()),
                                   nccl_op(op), root, comm, stream);
               });
}

WorkPtr NcclCommunicator::do_all_to_all(const Tensor& input, const Tensor& output) {
  const bool in_place = input.data_ptr() == output.data_ptr();  // the only overlap comm.h lets by
  if (input.numel() == 0) return completed_work();
  const std::size_t chunk = count_of(input) / static_cast<std::size_t>(size());
  const std::size_t chunk_bytes = chunk * dtype_size(input.dtype());
  const ncclDataType_t type = nccl_type(input.dtype());
  // In place, the chunks to send are copied aside first (stream-ordered memory on the group's
  // stream) and freed once the sends are on that stream.
  void* copy = nullptr;
  cudaStream_t copy_stream = nullptr;
  WorkPtr work =
      start("ncclSend/ncclRecv (all_to_all)", describe("all_to_all", input), input, output,
            [&](ncclComm_t comm, cudaStream_t stream) {
              const char* source = begin_of(input);
              if (in_place) {
                if (cudaMallocAsync(&copy, input.nbytes(), stream) != cudaSuccess) {
                  return ncclUnhandledCudaError;
                }
                copy_stream = stream;
                if (cudaMemcpyAsync(copy, source, input.nbytes(), cudaMemcpyDeviceToDevice,
                                    stream) != cudaSuccess) {
                  return ncclUnhandledCudaError;
                }
                source = static_cast<const char*>(copy);
              }
              ncclResult_t result = ncclGroupStart();
              char* target = static_cast<char*>(output.data_ptr());
              for (int peer = 0; peer < size(); ++peer) {
                if (result != ncclSuccess && result != ncclInProgress) break;
                result = ncclSend(source + peer * chunk_bytes, chunk, type, peer, comm, stream);
                if (result != ncclSuccess && result != ncclInProgress) break;
                result = ncclRecv(target + peer * chunk_bytes, chunk, type, peer, comm, stream);
              }
              const ncclResult_t end = ncclGroupEnd();
              return result != ncclSuccess && result != ncclInProgress ? result : end;
            });
  // Not inside the call: the communicator is non-blocking, so ncclGroupEnd returns ncclInProgress
  // and NCCL puts the sends on the stream later, from a thread of its own. A cudaFreeAsync there
  // would come before the sends in stream order, and they would read freed memory. start() has
  // settled the call (the sends are on the stream now), so the free goes after them. When start()
  // throws, the communicator is aborted and the copy is left alone (NCCL may still have held it).
  if (copy) check_cuda(cudaFreeAsync(copy, copy_stream), "cudaFreeAsync", "all_to_all");
  return work;
}

WorkPtr NcclCommunicator::do_all_to_all_v(const Tensor& input,
                                          std::span<const std::int64_t> send_counts,
                                          const Tensor& output,
                                          std::span<const std::int64_t> recv_counts) {
  // core refuses overlapping tensors here: no in-place form. Every rank calls the group even when
  // its counts are all zero (ncclSend/ncclRecv of 0 elements are no-ops on both sides).
  const std::size_t element_bytes = dtype_size(input.dtype());
  const ncclDataType_t type = nccl_type(input.dtype());
  return start("ncclSend/ncclRecv (all_to_all_v)", describe("all_to_all_v", input), input, output,
               [&](ncclComm_t comm, cudaStream_t stream) {
                 const char* source = begin_of(input);
                 char* target = static_cast<char*>(output.data_ptr());
                 ncclResult_t result = ncclGroupStart();
                 for (int peer = 0; peer < size(); ++peer) {
                   const auto send = static_cast<std::size_t>(send_counts[peer]);
                   const auto recv = static_cast<std::size_t>(recv_counts[peer]);
                   if (result != ncclSuccess && result != ncclInProgress) break;
                   result = ncclSend(source, send, type, peer, comm, stream);
                   if (result != ncclSuccess && result != ncclInProgress) break;
                   result = ncclRecv(target, recv, type, peer, comm, stream);
                   source += send * element_bytes;
                   target += recv * element_bytes;
                 }
                 const ncclResult_t end = ncclGroupEnd();
                 return result != ncclSuccess && result != ncclInProgress ? result : end;
               });
}

WorkPtr NcclCommunicator::do_barrier() {
  std::int32_t* word = group_->barrier_word();
  sync_timeout();
  const std::string what = "barrier in " + describe_group();
  std::shared_ptr<Completion> completion =
      group_->enqueue("ncclAllReduce (barrier)", what, [&](ncclComm_t comm, cudaStream_t stream) {
        return ncclAllReduce(word, word, 1, ncclInt32, ncclSum, comm, stream);
      });
  return std::make_unique<NcclWork>(group_, std::move(completion), nullptr, std::vector<Tensor>{},
                                    what, "Some rank of the group has not entered the barrier.");
}

WorkPtr NcclCommunicator::do_send(const Tensor& input, int peer, int tag) {
  return post_message(true, input, peer, tag);
}

WorkPtr NcclCommunicator::do_recv(const Tensor& output, int peer, int tag) {
  return post_message(false, output, peer, tag);
}

WorkPtr NcclCommunicator::post_message(bool is_send, const Tensor& tensor, int peer, int tag) {
  const std::string name = std::string(is_send ? "send to" : "recv from") + " rank " +
                           std::to_string(peer) + " (tag " + std::to_string(tag) + ")";
  group_->check_usable(name);
  if (tensor.numel() == 0) return completed_work();
  sync_timeout();
  auto slot = std::make_shared<MessageSlot>();
  group_->hold(
      {.is_send = is_send, .tensor = tensor, .peer = peer, .tag = tag, .order = 0, .slot = slot});
  const std::string peer_name = "rank " + std::to_string(peer);
  return std::make_unique<NcclWork>(
      group_, nullptr, std::move(slot), std::vector<Tensor>{tensor}, describe(name, tensor),
      is_send
          ? "The peer, " + peer_name + ", has not posted the matching recv (same group, same tag)."
          : "The peer, " + peer_name +
                ", has not sent a matching message (same group, same tag), or is stuck before it.");
}

std::unique_ptr<Communicator> NcclCommunicator::do_split(int color, int key) {
  const std::string what = "split (color " + std::to_string(color) + ") of " + describe_group();
  group_->check_usable(what);
  group_->flush_messages();
  check_cuda(cudaSetDevice(device_.index), "cudaSetDevice", what);
  ncclComm_t child = nullptr;
  ncclConfig_t config = nonblocking_config();
  const auto deadline = std::chrono::steady_clock::now() + timeout();
  const ncclResult_t started =
      ncclCommSplit(group_->comm(), color < 0 ? NCCL_SPLIT_NOCOLOR : color, key, &child, &config);
  try {
    // The split is done when both the parent and the new communicator say so.
    settle(group_->comm(), started, "ncclCommSplit", what, deadline);
    if (child) settle(child, ncclInProgress, "ncclCommSplit", what, deadline);
  } catch (const std::exception& error) {
    if (child) ncclCommAbort(child);
    group_->abort(error.what());
    throw;
  }
  const int number = ++splits_;
  if (child == nullptr) return nullptr;
  auto group = std::make_shared<NcclGroup>(child, device_.index, timeout());
  std::unique_ptr<NcclCommunicator> made(new NcclCommunicator(std::move(group), device_));
  made->set_name("split " + std::to_string(number) + " of " + name() + " (color " +
                 std::to_string(color) + ")");
  made->set_timeout(timeout());
  return made;
}

}  // namespace trellis::nccl
