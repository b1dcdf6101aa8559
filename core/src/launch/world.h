// create_world: the world communicator of this rank.
//
// A world of one rank is a SelfCommunicator, whatever the backend (no plugin, no store). Otherwise
// the store the rank environment names is connected (served first, when this rank is the one that
// serves it: rank 0 under mpirun/srun with TRELLIS_STORE=tcp:...), and the backend plugin makes the
// communicator from a CommInit holding rank, world size, store, timeout, device and options.
//
// Lifetime: CommInit hands the backend a plain Store*, so the store (and the server, where this
// rank serves it) must outlive the communicator. The returned shared_ptr owns all three: it is an
// aliasing shared_ptr into one holder that destroys the communicator first, then the store, then
// the server. Communicators made from it by split() may use the same store, so they must not
// outlive the world either. A rank that serves the store keeps serving, when its world goes, until
// the other ranks have closed their connections (at most `timeout`): they may still be reading
// the answer to the last barrier.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "launch/rank_environment.h"
#include "trellis/comm.h"
#include "trellis/config.h"
#include "trellis/plugin_registry.h"

namespace trellis {

// Throws PluginError for an unknown backend, InputError for a bad store spec, CommError or
// TimeoutError when the store cannot be reached within `timeout`, and whatever the backend throws
// while connecting the ranks.
std::shared_ptr<Communicator> create_world(const PluginRegistry& registry,
                                           const std::string& backend,
                                           const Options& backend_options,
                                           const RankEnvironment& environment,
                                           std::chrono::milliseconds timeout,
                                           Device device = Device::cpu());

// A backend and its options, for create_worlds.
struct WorldBackend {
  std::string name;
  const Options* options = nullptr;  // null: none
};

// The world communicator of each of `backends` ([comm.groups] may name several), in that order,
// made in that order on every rank over one store: as create_world makes one, with one holder
// that destroys them in the reverse order, then the store, then the server. A world of one rank
// is one SelfCommunicator, returned for every backend.
std::vector<std::shared_ptr<Communicator>> create_worlds(const PluginRegistry& registry,
                                                         const std::vector<WorldBackend>& backends,
                                                         const RankEnvironment& environment,
                                                         std::chrono::milliseconds timeout,
                                                         Device device = Device::cpu());

}  // namespace trellis
