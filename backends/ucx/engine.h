// Engine: the UCX state of one world, shared by the world communicator and every communicator
// split from it.
//
// It owns the worker, the endpoints to every world rank, the operations in flight and the
// scratch buffers. progress() is the backend's only progress loop: it polls the worker, then
// advances every operation in flight (not only the one being waited on), so collectives on
// several communicators, and several on one, all move whichever Work the caller waits on.
//
// The Engine lives as long as any communicator or Work of the world (they hold it by
// shared_ptr); operations refer to it, and never outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "endpoint_map.h"
#include "local_peers.h"
#include "scratch_pool.h"
#include "trellis/store.h"
#include "trellis/tensor.h"
#include "ucx_options.h"
#include "ucx_worker.h"

namespace trellis::ucx {

class Operation;

class Engine {
 public:
  // Creates the worker, exchanges addresses through `store` (may be null for a world of one)
  // and connects to every rank. Waits at most `timeout` for the other ranks.
  Engine(const UcxOptions& options, int rank, int world_size, Store* store,
         std::chrono::milliseconds timeout);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const UcxOptions& options() const noexcept { return options_; }
  ucp_worker_h worker() const noexcept { return worker_.get(); }
  const EndpointMap& endpoints() const noexcept { return *endpoints_; }
  ScratchPool& scratch() noexcept { return scratch_; }
  // Host memory for the backend's own small tensors (split's exchange).
  const std::shared_ptr<Allocator>& allocator() const noexcept { return allocator_; }
  int world_rank() const noexcept { return world_rank_; }

  // Hands a started operation to the progress loop until it has finished and drained.
  void add(std::shared_ptr<Operation> operation);
  // Polls UCX and advances every operation in flight. Returns whether anything happened.
  bool progress();

  // Context ids (tag_layout.h): the lowest id no communicator of this process has used yet, and
  // marking ids up to `id` as used.
  std::uint32_t next_context() const noexcept { return next_context_; }
  void use_contexts_through(std::uint32_t id) noexcept;

 private:
  UcxOptions options_;
  int world_rank_;
  UcxWorker worker_;
  std::unique_ptr<EndpointMap> endpoints_;
  std::unique_ptr<LocalPeers> local_peers_;
  ScratchPool scratch_;
  std::shared_ptr<Allocator> allocator_ = make_cpu_allocator();
  std::vector<std::shared_ptr<Operation>> in_flight_;
  std::uint32_t next_context_ = 1;  // the world is 0
};

}  // namespace trellis::ucx
