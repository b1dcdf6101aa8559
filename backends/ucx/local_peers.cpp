#include "local_peers.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "endpoint_map.h"

namespace trellis::ucx {

namespace {

std::string read_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// State and start time of process `pid` from /proc/<pid>/stat; false if there is no such process.
bool read_stat(long pid, char& state, unsigned long long& start_time) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return false;
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(text.substr(close + 1));
  std::string field;
  fields >> state;  // field 3
  for (int i = 4; i < 22 && fields >> field; ++i) {
  }
  return static_cast<bool>(fields >> start_time);  // field 22
}

}  // namespace

ProcessIdentity ProcessIdentity::of_this_process() {
  ProcessIdentity id;
  char link[128] = {};
  const ssize_t n = readlink("/proc/self/ns/pid", link, sizeof(link) - 1);
  id.machine = read_line("/proc/sys/kernel/random/boot_id") + "/" +
               std::string(link, n > 0 ? static_cast<std::size_t>(n) : 0);
  id.pid = static_cast<long>(getpid());
  char state = 0;
  if (!read_stat(id.pid, state, id.start_time)) id.machine.clear();  // no /proc: never "local"
  return id;
}

std::string ProcessIdentity::encode() const {
  return machine + " " + std::to_string(pid) + " " + std::to_string(start_time);
}

ProcessIdentity ProcessIdentity::decode(const std::string& text) {
  ProcessIdentity id;
  std::istringstream in(text);
  in >> id.machine >> id.pid >> id.start_time;
  if (!in) id = {};
  return id;
}

LocalPeers::LocalPeers(std::vector<ProcessIdentity> peers, int my_rank,
                       std::chrono::milliseconds interval)
    : peers_(std::move(peers)),
      interval_(interval),
      next_check_(std::chrono::steady_clock::now() + interval) {
  const std::string& here = peers_[static_cast<std::size_t>(my_rank)].machine;
  for (std::size_t rank = 0; rank < peers_.size(); ++rank) {
    if (static_cast<int>(rank) != my_rank && !here.empty() && peers_[rank].machine == here) {
      local_.push_back(static_cast<int>(rank));
    }
  }
}

void LocalPeers::check(EndpointMap& endpoints) {
  if (local_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return;
  next_check_ = now + interval_;
  for (int rank : local_) {
    if (!endpoints.failure(rank).empty()) continue;
    const ProcessIdentity& peer = peers_[static_cast<std::size_t>(rank)];
    char state = 0;
    unsigned long long start_time = 0;
    if (!read_stat(peer.pid, state, start_time) || start_time != peer.start_time) {
      endpoints.mark_failed(rank, "its process " + std::to_string(peer.pid) + " has exited");
    } else if (state == 'Z' || state == 'X') {
      endpoints.mark_failed(rank, "its process " + std::to_string(peer.pid) + " has exited");
    }
  }
}

}  // namespace trellis::ucx
