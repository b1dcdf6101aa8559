// A Chrome trace of a run ([logging] trace): each rank records what it did and when — every
// forward and backward, every send, every wait for a receive, the gradient reductions — and the
// ranks' events are merged into one JSON file that Perfetto (ui.perfetto.dev) or
// chrome://tracing opens, one process per rank, compute and communication on separate tracks.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace trellis {

class TraceRecorder {
 public:
  enum class Track : int { compute = 0, communication = 1, step = 2 };

  // `label` names the rank's process in the viewer, e.g. "rank 3 (tp 1, pp 0, dp 1)".
  TraceRecorder(int rank, std::string label);

  // Microseconds on a clock shared by every process of one machine (CLOCK_MONOTONIC).
  static double now_us();

  void slice(const std::string& name, Track track, double start_us, double end_us,
             const std::map<std::string, long>& args = {});
  void instant(const std::string& name, Track track, double at_us,
               const std::map<std::string, long>& args = {});

  // This rank's events as comma-separated JSON objects (the inside of the trace's array).
  std::string events_json() const;
  std::size_t event_count() const noexcept { return events_.size(); }

  // Writes a complete trace from the ranks' events_json() parts.
  static void write_file(const std::filesystem::path& file, const std::vector<std::string>& parts);

 private:
  int rank_;
  std::vector<std::string> events_;
};

}  // namespace trellis
