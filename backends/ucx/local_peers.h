// LocalPeers: noticing that a rank on this machine has died, without relying on the network.
//
// UCX reports dead peers through keepalive, but over shared memory (UCX 1.13) a rank can miss a
// neighbour's death for as long as it keeps waiting: a send to a dead process just sits in its
// queue. Ranks on one machine can check each other directly, cheaply and with certainty: each
// rank publishes who it is (boot id, pid namespace, pid and start time) with its address, and a
// rank looks, at most once per keepalive interval, whether each peer that shares its machine and
// pid namespace still runs (/proc/<pid>/stat: present, not a zombie, same start time, so a
// recycled pid is not mistaken for the rank). A dead one is recorded as an endpoint failure, and
// operations waiting on it fail at once, naming it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace trellis::ucx {

class EndpointMap;

struct ProcessIdentity {
  std::string machine;  // boot id and pid namespace: equal only within one pid namespace
  long pid = 0;
  unsigned long long start_time = 0;  // clock ticks after boot, from /proc/<pid>/stat

  static ProcessIdentity of_this_process();
  std::string encode() const;  // one line, no '\n'
  static ProcessIdentity decode(const std::string& text);
};

class LocalPeers {
 public:
  // `peers` indexed by world rank (this rank's own entry included, and skipped).
  LocalPeers(std::vector<ProcessIdentity> peers, int my_rank, std::chrono::milliseconds interval);

  // Marks the local peers that are gone as failed in `endpoints`. Does nothing until `interval`
  // has passed since the last look, so it can be called on every progress round.
  void check(EndpointMap& endpoints);

 private:
  std::vector<ProcessIdentity> peers_;
  std::vector<int> local_;  // world ranks sharing this machine and pid namespace
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point next_check_;
};

}  // namespace trellis::ucx
