#include "engine.h"

#include <algorithm>

#include "address_exchange.h"
#include "operation.h"
#include "trellis/error.h"

namespace trellis::ucx {

Engine::Engine(const UcxOptions& options, int rank, int world_size, Store* store,
               std::chrono::milliseconds timeout)
    : options_(options), world_rank_(rank), worker_(options, rank, world_size) {
  // What a rank publishes: who it is (a line, for LocalPeers), then its worker address.
  const std::string mine = ProcessIdentity::of_this_process().encode() + "\n" + worker_.address();
  std::vector<std::string> published;
  if (world_size == 1) {
    published.push_back(mine);
  } else {
    if (store == nullptr) {
      throw InputError("backend ucx: a world of " + std::to_string(world_size) +
                       " ranks needs a rendezvous store (TRELLIS_STORE), and none was given");
    }
    published = exchange_addresses(*store, rank, world_size, mine, timeout);
  }
  std::vector<ProcessIdentity> identities;
  std::vector<std::string> addresses;
  for (const std::string& entry : published) {
    const auto newline = entry.find('\n');
    if (newline == std::string::npos) {
      throw CommError(
          "backend ucx: a peer published a malformed address; do all ranks run the "
          "same Trellis?");
    }
    identities.push_back(ProcessIdentity::decode(entry.substr(0, newline)));
    addresses.push_back(entry.substr(newline + 1));
  }
  endpoints_ = std::make_unique<EndpointMap>(worker_.get(), rank, addresses);
  local_peers_ = std::make_unique<LocalPeers>(std::move(identities), rank,
                                              std::chrono::milliseconds(options.keepalive_ms));
}

Engine::~Engine() {
  // Operations still in flight here were abandoned (a peer died or hung, a Work was dropped on a
  // timeout). Their receives are cancelled, and the endpoints dropped rather than flushed, which
  // cancels their sends: UCX must be done with every request before the worker goes, and with
  // every buffer before the operations free them. A clean world has nothing in flight and
  // flushes its endpoints, so the last messages it sent still arrive.
  bool abandoned = false;
  for (auto& op : in_flight_) {
    if (op->drained()) continue;
    op->abandon();
    abandoned = true;
  }
  endpoints_->close(abandoned || endpoints_->any_failure());
  worker_.progress();  // let cancelled requests complete
  for (auto& op : in_flight_) op->advance();
  endpoints_.reset();
  in_flight_.clear();
}

void Engine::add(std::shared_ptr<Operation> operation) {
  in_flight_.push_back(std::move(operation));
}

bool Engine::progress() {
  const bool moved = worker_.progress();
  local_peers_->check(*endpoints_);
  for (std::size_t i = 0; i < in_flight_.size(); ++i) in_flight_[i]->advance();
  std::erase_if(in_flight_, [](const std::shared_ptr<Operation>& op) {
    return op->finished() && op->drained();
  });
  return moved;
}

void Engine::use_contexts_through(std::uint32_t id) noexcept {
  next_context_ = std::max(next_context_, id + 1);
}

}  // namespace trellis::ucx
