#include "address_exchange.h"

#include "trellis/error.h"

namespace trellis::ucx {

namespace {

std::string address_key(std::int64_t generation, int world_size, int rank) {
  return "trellis/ucx/world-" + std::to_string(generation) + "-of-" + std::to_string(world_size) +
         "/address/" + std::to_string(rank);
}

}  // namespace

std::vector<std::string> exchange_addresses(Store& store, int rank, int world_size,
                                            const std::string& my_address,
                                            std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;
  const std::int64_t generation = store.add("trellis/ucx/joins/" + std::to_string(rank), 1);
  store.set(address_key(generation, world_size, rank), my_address);

  std::vector<std::string> addresses(static_cast<std::size_t>(world_size));
  addresses[static_cast<std::size_t>(rank)] = my_address;
  std::vector<int> missing;
  for (int peer = 0; peer < world_size; ++peer) {
    if (peer == rank) continue;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    try {
      // Once the deadline has passed, look once more at each remaining key (timeout 0), so the
      // error lists every rank that is missing, not only the first.
      addresses[static_cast<std::size_t>(peer)] = store.get(
          address_key(generation, world_size, peer), std::max(left, std::chrono::milliseconds{0}));
    } catch (const TimeoutError&) {
      missing.push_back(peer);
    }
  }
  if (!missing.empty()) {
    std::string ranks;
    for (int peer : missing) ranks += (ranks.empty() ? "" : ", ") + std::to_string(peer);
    throw TimeoutError("backend ucx: rank " + std::to_string(rank) + " of a world of " +
                       std::to_string(world_size) + " waited " + std::to_string(timeout.count()) +
                       " ms for the worker address of rank(s) " + ranks + " (store key '" +
                       address_key(generation, world_size, missing.front()) +
                       "'); are all ranks running, started with the same world size and store?");
  }
  return addresses;
}

}  // namespace trellis::ucx
