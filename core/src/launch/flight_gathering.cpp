#include "launch/flight_gathering.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <system_error>
#include <thread>
#include <vector>

#include "launch/flight_report.h"
#include "os/host_name.h"
#include "trellis/error.h"

namespace trellis {

namespace {

namespace fs = std::filesystem;

constexpr std::chrono::milliseconds kPollPeriod{50};
constexpr const char* kClaimFile = "report.claim";
constexpr const char* kReportFile = "report.txt";

fs::path pid_file(const fs::path& dir, int rank) {
  return dir / ("rank-" + std::to_string(rank) + ".pid");
}

fs::path record_file(const fs::path& dir, int rank) {
  return dir / ("rank-" + std::to_string(rank) + ".json");
}

// Whether `name` is something a run leaves in its flight directory.
bool left_by_a_run(const std::string& name) {
  if (name == kClaimFile || name.starts_with(kReportFile)) return true;
  if (!name.starts_with("rank-")) return false;
  return name.ends_with(".json") || name.ends_with(".json.partial") || name.ends_with(".pid");
}

// Waits until `ready()` or `limit` has passed; returns ready().
template <typename Ready>
bool wait_until(Ready ready, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return ready();
    std::this_thread::sleep_for(kPollPeriod);
  }
  return true;
}

// The state letter of /proc/<pid>/stat ('R', 'S', 'T' for stopped, ...); '?' when unreadable.
char process_state(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command in parentheses may hold spaces and parentheses: the state follows the last ')'.
  const std::size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() ? stat[paren + 2] : '?';
}

}  // namespace

void remove_earlier_flight_files(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (left_by_a_run(entry.path().filename().string())) fs::remove(entry.path(), ec);
  }
}

void FlightGathering::clear_earlier_run(const fs::path& dir, int rank) {
  if (rank == 0) remove_earlier_flight_files(dir);
}

FlightGathering::FlightGathering(fs::path dir, int rank, int world_size)
    : dir_(std::move(dir)), rank_(rank), world_size_(world_size) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  const fs::path file = pid_file(dir_, rank_);
  std::ofstream out(file, std::ios::trunc);
  out << host_name() << ' ' << ::getpid() << '\n';
  if (!out.flush()) {
    throw Error("flight record: could not write " + file.string() +
                " (the ranks find each other there when one fails)");
  }
}

std::vector<std::string> FlightGathering::ask_local_ranks() const {
  const std::string host = host_name();
  std::vector<std::string> stopped;
  for (int rank = 0; rank < world_size_; ++rank) {
    if (rank == rank_) continue;
    std::ifstream in(pid_file(dir_, rank));
    std::string their_host;
    long pid = 0;
    if (!(in >> their_host >> pid) || their_host != host || pid <= 1 || pid == ::getpid()) continue;
    ::kill(static_cast<pid_t>(pid), SIGUSR1);
    if (process_state(pid) == 'T') {
      stopped.push_back("rank " + std::to_string(rank) + " (pid " + std::to_string(pid) + " on " +
                        host + ") is stopped (SIGSTOP or a debugger): it cannot write its record");
    }
  }
  return stopped;
}

void FlightGathering::wait_for_records() const {
  wait_until(
      [this] {
        std::error_code ec;
        for (int rank = 0; rank < world_size_; ++rank) {
          if (!fs::exists(record_file(dir_, rank), ec)) return false;
        }
        return true;
      },
      kRecordWait);
}

std::optional<std::string> FlightGathering::after_failure() const {
  const fs::path report = dir_ / kReportFile;
  const int claim =
      ::open((dir_ / kClaimFile).c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (claim < 0) {
    // Another rank writes the report: stay until it has (or a rank that cannot claim at all,
    // for want of the directory, has nothing to wait for).
    if (errno == EEXIST) {
      wait_until(
          [&] {
            std::error_code ec;
            return fs::exists(report, ec);
          },
          kReportWait);
    }
    return std::nullopt;
  }
  ::close(claim);
  const std::vector<std::string> stopped = ask_local_ranks();
  wait_for_records();
  std::vector<std::string> problems;
  std::string text =
      analyze_flight_records(read_flight_records(dir_, &problems), world_size_, problems);
  // What the records cannot say: the ranks that could not answer because they are stopped,
  // listed under the report's first line (which ranks wrote a record).
  std::string notes;
  for (const std::string& line : stopped) notes += "  " + line + "\n";
  const std::size_t first_line_end = text.find('\n');
  text.insert(first_line_end == std::string::npos ? text.size() : first_line_end + 1, notes);
  // Written whole, then renamed: a waiting rank sees the report only once it is complete.
  const fs::path partial = report.string() + ".partial";
  std::ofstream(partial, std::ios::trunc) << text;
  std::error_code ec;
  fs::rename(partial, report, ec);
  return text;
}

}  // namespace trellis
