#include "train/trace.h"

#include <time.h>

#include <cstdio>
#include <fstream>

#include "text/quoted_string.h"
#include "trellis/error.h"

namespace trellis {

namespace {

std::string args_json(const std::map<std::string, long>& args) {
  std::string out = "{";
  for (const auto& [key, value] : args) {
    if (out.size() > 1) out += ',';
    out += quoted_string(key) + ":" + std::to_string(value);
  }
  return out + "}";
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
  events_.push_back("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" + std::to_string(rank) +
                    ",\"args\":{\"name\":" + quoted_string(label) + "}}");
  events_.push_back(
      "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":" + std::to_string(rank) +
      ",\"args\":{\"sort_index\":" + std::to_string(rank) + "}}");
  for (Track track : {Track::compute, Track::communication, Track::step}) {
    events_.push_back("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" + std::to_string(rank) +
                      ",\"tid\":" + std::to_string(static_cast<int>(track)) +
                      ",\"args\":{\"name\":\"" + track_name(track) + "\"}}");
  }
}

double TraceRecorder::now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

void TraceRecorder::slice(const std::string& name, Track track, double start_us, double end_us,
                          const std::map<std::string, long>& args) {
  char times[96];
  std::snprintf(times, sizeof(times), "\"ts\":%.3f,\"dur\":%.3f", start_us, end_us - start_us);
  events_.push_back("{\"name\":" + quoted_string(name) + ",\"cat\":\"" + track_name(track) +
                    "\",\"ph\":\"X\"," + times + ",\"pid\":" + std::to_string(rank_) + ",\"tid\":" +
                    std::to_string(static_cast<int>(track)) + ",\"args\":" + args_json(args) + "}");
}

void TraceRecorder::instant(const std::string& name, Track track, double at_us,
                            const std::map<std::string, long>& args) {
  char time[48];
  std::snprintf(time, sizeof(time), "\"ts\":%.3f", at_us);
  events_.push_back("{\"name\":" + quoted_string(name) + ",\"cat\":\"" + track_name(track) +
                    "\",\"ph\":\"i\",\"s\":\"t\"," + time + ",\"pid\":" + std::to_string(rank_) +
                    ",\"tid\":" + std::to_string(static_cast<int>(track)) +
                    ",\"args\":" + args_json(args) + "}");
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
