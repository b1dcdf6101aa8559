// Store: the key-value rendezvous through which ranks find each other.
//
// Backends publish what peers need to connect (UCX worker addresses, the NCCL unique id) with set()
// and read it with get(), which waits until the key appears. add() is an atomic counter, used for
// barriers and for handing out ids. Nothing waits forever: every wait takes a timeout and fails
// with a TimeoutError naming the key(s) still missing.
//
// Implementations live in core (a TCP store hosted by the launcher, a file store for shared
// filesystems); backends only use this interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace trellis {

class Store {
 public:
  virtual ~Store() = default;

  // Sets `key` to `value` (any bytes), replacing an earlier value.
  virtual void set(const std::string& key, const std::string& value) = 0;
  // The value of `key`, waiting up to `timeout` for it to be set.
  virtual std::string get(const std::string& key, std::chrono::milliseconds timeout) = 0;
  // Adds `delta` to the integer stored at `key` (0 when absent) and returns the new value.
  virtual std::int64_t add(const std::string& key, std::int64_t delta) = 0;
  // Waits until every key in `keys` is set.
  virtual void wait(const std::vector<std::string>& keys, std::chrono::milliseconds timeout) = 0;
};

}  // namespace trellis
