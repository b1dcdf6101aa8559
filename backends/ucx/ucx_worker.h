// UcxWorker: one UCP context and its one worker, for the whole world of one process.
//
// The worker is created for single-threaded use: every UCX call of the backend happens on the
// thread that calls into the communicators (progress is driven by Work::test()/wait_for()), so
// UCX needs no locks. Communicators made by split() share the world's worker.
//
// Configuration, in order of precedence: the [comm.ucx] options, then UCX_* variables from the
// environment, then the backend's defaults (README.md, "UCX settings").
#pragma once

#include <ucp/api/ucp.h>

#include <string>

#include "ucx_options.h"

namespace trellis::ucx {

class UcxWorker {
 public:
  // `rank` and `world_size` name the worker in UCX's logs and size its endpoint tables.
  UcxWorker(const UcxOptions& options, int rank, int world_size);
  ~UcxWorker();
  UcxWorker(const UcxWorker&) = delete;
  UcxWorker& operator=(const UcxWorker&) = delete;

  ucp_worker_h get() const noexcept { return worker_; }
  // This worker's address, as opaque bytes for the store.
  std::string address() const;
  // Polls the transports until they report nothing more to do (a bounded number of rounds, so
  // one call never spins for long). Returns whether anything happened.
  bool progress();

 private:
  ucp_context_h context_ = nullptr;
  ucp_worker_h worker_ = nullptr;
};

// "UCX call X failed: <UCX's reason>", as a CommError.
[[noreturn]] void throw_ucx_error(const std::string& what, ucs_status_t status);

}  // namespace trellis::ucx
