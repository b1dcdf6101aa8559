#include "trace/trace.h"

#include <time.h>

#include <cmath>
#include <fstream>

#include "json/readable_json.h"
#include "trellis/error.h"

namespace trellis {

namespace {

json::Document args_json(const std::map<std::string, long>& args) {
  json::Document out = json::Document::object();
  for (const auto& [key, value] : args) out[key] = value;
  return out;
}

// Microseconds to the nanosecond: the clock's resolution, and short numbers in the file.
double rounded_to_ns(double us) {
  return std::round(us * 1e3) / 1e3;
}

const char* track_name(TraceRecorder::Track track) {
  switch (track) {
    case TraceRecorder::Track::compute:
      return "compute";
    case TraceRecorder::Track::communication:
      return "communication";
    case TraceRecorder::Track::step:
      return "step";
  }
  return "?";
}

}  // namespace

TraceRecorder::TraceRecorder(int rank, std::string label) : rank_(rank) {
  events_.push_back(json::line_text({{"name", "process_name"},
                                     {"ph", "M"},
                                     {"pid", rank},
                                     {"args", {{"name", std::move(label)}}}}));
  events_.push_back(json::line_text({{"name", "process_sort_index"},
                                     {"ph", "M"},
                                     {"pid", rank},
                                     {"args", {{"sort_index", rank}}}}));
  for (Track track : {Track::compute, Track::communication, Track::step}) {
    events_.push_back(json::line_text({{"name", "thread_name"},
                                       {"ph", "M"},
                                       {"pid", rank},
                                       {"tid", static_cast<int>(track)},
                                       {"args", {{"name", track_name(track)}}}}));
  }
}

double TraceRecorder::now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

void TraceRecorder::slice(const std::string& name, Track track, double start_us, double end_us,
                          const std::map<std::string, long>& args) {
  events_.push_back(json::line_text({{"name", name},
                                     {"cat", track_name(track)},
                                     {"ph", "X"},
                                     {"ts", rounded_to_ns(start_us)},
                                     {"dur", rounded_to_ns(end_us - start_us)},
                                     {"pid", rank_},
                                     {"tid", static_cast<int>(track)},
                                     {"args", args_json(args)}}));
}

void TraceRecorder::instant(const std::string& name, Track track, double at_us,
                            const std::map<std::string, long>& args) {
  events_.push_back(json::line_text({{"name", name},
                                     {"cat", track_name(track)},
                                     {"ph", "i"},
                                     {"s", "t"},
                                     {"ts", rounded_to_ns(at_us)},
                                     {"pid", rank_},
                                     {"tid", static_cast<int>(track)},
                                     {"args", args_json(args)}}));
}

std::string TraceRecorder::events_json() const {
  std::string out;
  for (const std::string& e : events_) {
    if (!out.empty()) out += ",\n";
    out += e;
  }
  return out;
}

void TraceRecorder::write_file(const std::filesystem::path& file,
                               const std::vector<std::string>& parts) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  std::ofstream out(file, std::ios::trunc);
  out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  bool first = true;
  for (const std::string& part : parts) {
    if (part.empty()) continue;
    if (!first) out << ",\n";
    out << part;
    first = false;
  }
  out << "\n]}\n";
  if (!out) throw Error("cannot write the trace " + file.string() + "; check [logging] trace");
}

}  // namespace trellis
