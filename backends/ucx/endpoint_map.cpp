#include "endpoint_map.h"

#include <chrono>

#include "ucx_worker.h"

namespace trellis::ucx {

EndpointMap::EndpointMap(ucp_worker_h worker, int my_rank,
                         const std::vector<std::string>& addresses)
    : worker_(worker) {
  peers_.reserve(addresses.size());
  for (std::size_t rank = 0; rank < addresses.size(); ++rank) {
    auto peer = std::make_unique<Peer>();
    peer->map = this;
    peer->world_rank = static_cast<int>(rank);
    const std::string name =
        "trellis rank " + std::to_string(my_rank) + " -> " + std::to_string(rank);
    ucp_ep_params_t params{};
    params.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                        UCP_EP_PARAM_FIELD_ERR_HANDLER | UCP_EP_PARAM_FIELD_NAME;
    params.address = reinterpret_cast<const ucp_address_t*>(addresses[rank].data());
    params.err_mode = UCP_ERR_HANDLING_MODE_PEER;
    params.err_handler.cb = &EndpointMap::on_error;
    params.err_handler.arg = peer.get();
    params.name = name.c_str();
    if (ucs_status_t s = ucp_ep_create(worker, &params, &peer->ep); s != UCS_OK) {
      throw_ucx_error("connecting to rank " + std::to_string(rank) + " (ucp_ep_create)", s);
    }
    peers_.push_back(std::move(peer));
  }
}

void EndpointMap::on_error(void* arg, ucp_ep_h, ucs_status_t status) {
  auto* peer = static_cast<Peer*>(arg);
  if (peer->failure.empty()) peer->failure = std::string("UCX: ") + ucs_status_string(status);
  peer->map->any_failure_ = true;
}

void EndpointMap::mark_failed(int world_rank, const std::string& reason) {
  Peer& peer = *peers_[static_cast<std::size_t>(world_rank)];
  if (peer.failure.empty()) peer.failure = reason;
  any_failure_ = true;
}

EndpointMap::~EndpointMap() {
  close(false);
}

void EndpointMap::close(bool force) noexcept {
  if (closed_) return;
  closed_ = true;
  constexpr auto kCloseLimit = std::chrono::seconds(2);
  std::vector<void*> pending;
  for (auto& peer : peers_) {
    if (peer->ep == nullptr) continue;
    ucp_request_param_t param{};
    param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    param.flags = force || !peer->failure.empty() ? UCP_EP_CLOSE_FLAG_FORCE : 0;
    ucs_status_ptr_t request = ucp_ep_close_nbx(peer->ep, &param);
    peer->ep = nullptr;
    if (UCS_PTR_IS_PTR(request)) pending.push_back(request);
  }
  const auto deadline = std::chrono::steady_clock::now() + kCloseLimit;
  while (!pending.empty() && std::chrono::steady_clock::now() < deadline) {
    ucp_worker_progress(worker_);
    std::erase_if(pending, [](void* request) {
      if (ucp_request_check_status(request) == UCS_INPROGRESS) return false;
      ucp_request_free(request);
      return true;
    });
  }
  // A flush a peer never answers: the worker releases the endpoint when it is destroyed.
  for (void* request : pending) ucp_request_free(request);
}

}  // namespace trellis::ucx
