#include "launch/world.h"

#include <thread>

#include "comm/self_communicator.h"
#include "comm/store_spec.h"
#include "comm/tcp_store_server.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// Owns what the world communicators depend on, and lets them go in order: the communicators
// (the last made first), then the store they talk through, then the server (if this rank serves
// it).
struct WorldHolder {
  std::unique_ptr<TcpStoreServer> server;
  std::unique_ptr<Store> store;
  std::vector<std::shared_ptr<Communicator>> communicators;
  std::chrono::milliseconds timeout{0};

  WorldHolder() = default;
  WorldHolder(const WorldHolder&) = delete;
  WorldHolder& operator=(const WorldHolder&) = delete;
  ~WorldHolder() {
    while (!communicators.empty()) communicators.pop_back();
    store.reset();
    if (!server) return;
    // The ranks may still be reading the answer to their last wait (the final barrier that let
    // this rank finish): stopping now would fail them. Each rank's connection closes when its
    // world goes or its process ends; wait for that, at most the run's timeout.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (server->connections() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
};

}  // namespace

std::shared_ptr<Communicator> create_world(const PluginRegistry& registry,
                                           const std::string& backend,
                                           const Options& backend_options,
                                           const RankEnvironment& environment,
                                           std::chrono::milliseconds timeout, Device device) {
  return create_worlds(registry, {{backend, &backend_options}}, environment, timeout, device)
      .front();
}

std::vector<std::shared_ptr<Communicator>> create_worlds(const PluginRegistry& registry,
                                                         const std::vector<WorldBackend>& backends,
                                                         const RankEnvironment& environment,
                                                         std::chrono::milliseconds timeout,
                                                         Device device) {
  if (backends.empty()) throw Error("create_worlds: no backend named");
  if (environment.world_size == 1) {
    auto self = std::make_shared<SelfCommunicator>(timeout);
    self->set_name("world");
    return std::vector<std::shared_ptr<Communicator>>(backends.size(), self);
  }
  if (environment.store.empty()) {
    throw InputError("a world of " + std::to_string(environment.world_size) +
                     " ranks needs a store for the ranks to find each other; set TRELLIS_STORE " +
                     "(tcp:HOST:PORT or file:DIR)");
  }
  auto holder = std::make_shared<WorldHolder>();
  holder->timeout = timeout;
  if (environment.serve_store) {
    const StoreSpec spec = parse_store_spec(environment.store);
    holder->server = std::make_unique<TcpStoreServer>(spec.port);
  }
  holder->store = connect_store(environment.store, timeout);

  static const Options no_options;
  std::vector<std::shared_ptr<Communicator>> worlds;
  for (const WorldBackend& backend : backends) {
    CommInit init;
    init.rank = environment.rank;
    init.world_size = environment.world_size;
    init.store = holder->store.get();
    init.timeout = timeout;
    init.device = device;
    init.options = backend.options ? backend.options : &no_options;
    std::shared_ptr<Communicator> communicator = registry.make_comm(backend.name, init);
    if (!communicator) {
      throw PluginError("comm backend '" + backend.name + "' made no communicator");
    }
    communicator->set_timeout(timeout);
    holder->communicators.push_back(communicator);
    worlds.emplace_back(holder, communicator.get());
  }
  return worlds;
}

}  // namespace trellis
