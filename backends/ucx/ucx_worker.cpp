#include "ucx_worker.h"

#include <cstdlib>

#include "trellis/error.h"

namespace trellis::ucx {

void throw_ucx_error(const std::string& what, ucs_status_t status) {
  throw CommError("backend ucx: " + what + " failed: " + ucs_status_string(status));
}

namespace {

// ucp_config_t, released at scope exit.
class UcpConfig {
 public:
  UcpConfig() {
    if (ucs_status_t s = ucp_config_read(nullptr, nullptr, &config_); s != UCS_OK) {
      throw_ucx_error("reading the UCX configuration (ucp_config_read)", s);
    }
  }
  ~UcpConfig() { ucp_config_release(config_); }
  UcpConfig(const UcpConfig&) = delete;
  UcpConfig& operator=(const UcpConfig&) = delete;

  ucp_config_t* get() const noexcept { return config_; }

  // Sets UCX variable `name` (without the UCX_ prefix).
  void set(const std::string& name, const std::string& value) {
    if (ucs_status_t s = ucp_config_modify(config_, name.c_str(), value.c_str()); s != UCS_OK) {
      throw_ucx_error("setting UCX_" + name + "=" + value, s);
    }
  }
  // Sets `name` unless the environment already does: the user's UCX_* variables win over our
  // defaults. Versions of UCX without the variable are left as they are.
  void set_default(const std::string& name, const std::string& value) {
    if (std::getenv(("UCX_" + name).c_str()) != nullptr) return;
    ucp_config_modify(config_, name.c_str(), value.c_str());
  }

 private:
  ucp_config_t* config_ = nullptr;
};

}  // namespace

UcxWorker::UcxWorker(const UcxOptions& options, int rank, int world_size) {
  UcpConfig config;
  if (!options.tls.empty()) config.set("TLS", options.tls);
  const std::string keepalive = std::to_string(options.keepalive_ms) + "ms";
  if (options.keepalive_from_config) {
    config.set("KEEPALIVE_INTERVAL", keepalive);
  } else {
    config.set_default("KEEPALIVE_INTERVAL", keepalive);
  }
  // Endpoints are created with peer error handling (a dead peer must be an error, not a hang).
  // UCX 1.13 then drops the shared-memory transports unless they check their peers, and would
  // run a single machine over TCP loopback at a tenth of the bandwidth; with these set, the
  // shared-memory transports detect a dead peer through keepalive instead.
  config.set_default("MM_ERROR_HANDLING", "y");
  // Likewise it drops CMA (single-copy transfers between processes) from the rendezvous lanes,
  // because CMA cannot revoke a peer's access to memory after a failure; large messages then
  // take two copies through the shared-memory queues and run at half the speed. CMA's setting
  // is read by its memory domain straight from the environment (ucp_config_modify does not
  // reach it), hence setenv, before UCX is initialised and only where the user has not set it.
  setenv("UCX_CMA_MEMORY_INVALIDATE", "y", /*overwrite=*/0);

  const std::string name = "trellis-rank-" + std::to_string(rank);
  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_MT_WORKERS_SHARED |
                      UCP_PARAM_FIELD_ESTIMATED_NUM_EPS | UCP_PARAM_FIELD_NAME;
  params.features = UCP_FEATURE_TAG;
  params.mt_workers_shared = 0;
  params.estimated_num_eps = static_cast<std::size_t>(world_size);
  params.name = name.c_str();
  if (ucs_status_t s = ucp_init(&params, config.get(), &context_); s != UCS_OK) {
    throw_ucx_error("creating the UCP context (ucp_init" +
                        (options.tls.empty() ? std::string() : ", tls \"" + options.tls + "\"") +
                        ")",
                    s);
  }

  ucp_worker_params_t worker_params{};
  worker_params.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  worker_params.thread_mode = UCS_THREAD_MODE_SINGLE;
  if (ucs_status_t s = ucp_worker_create(context_, &worker_params, &worker_); s != UCS_OK) {
    ucp_cleanup(context_);
    throw_ucx_error("creating the UCP worker (ucp_worker_create)", s);
  }
}

UcxWorker::~UcxWorker() {
  ucp_worker_destroy(worker_);
  ucp_cleanup(context_);
}

std::string UcxWorker::address() const {
  ucp_address_t* address = nullptr;
  std::size_t length = 0;
  if (ucs_status_t s = ucp_worker_get_address(worker_, &address, &length); s != UCS_OK) {
    throw_ucx_error("reading the worker address (ucp_worker_get_address)", s);
  }
  std::string bytes(reinterpret_cast<const char*>(address), length);
  ucp_worker_release_address(worker_, address);
  return bytes;
}

bool UcxWorker::progress() {
  // A few rounds drain what arrived together (a rendezvous handshake takes several) without
  // letting one call spin for long.
  bool any = false;
  for (int round = 0; round < 16 && ucp_worker_progress(worker_) != 0; ++round) any = true;
  return any;
}

}  // namespace trellis::ucx
