#include "comm/flight_log.h"

#include <time.h>
#include <unistd.h>

#include <fstream>

#include "json/readable_json.h"
#include "os/host_name.h"
#include "trellis/error.h"

namespace trellis {

const char* flight_state_name(FlightState state) noexcept {
  switch (state) {
    case FlightState::enqueued:
      return "enqueued";
    case FlightState::started:
      return "started";
    case FlightState::completed:
      return "completed";
    case FlightState::failed:
      return "failed";
  }
  return "?";
}

double flight_clock_us() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) * 1e-3;
}

FlightGroupRecord::FlightGroupRecord(std::string backend, int rank, int size, std::size_t capacity)
    : backend_(std::move(backend)), rank_(rank), size_(size), ring_(capacity) {}

std::int64_t FlightGroupRecord::record(const std::string& name, const char* op, DType dtype,
                                       std::int64_t bytes, int peer, int tag, std::int64_t step,
                                       std::shared_ptr<const std::string> where) {
  const double now = flight_clock_us();
  std::lock_guard lock(*mutex_);
  if (name_ != name) name_ = name;
  const std::int64_t seq = next_seq_++;
  FlightEntry& entry = ring_[static_cast<std::size_t>(seq) % ring_.size()];
  entry.seq = seq;
  entry.op = op;
  entry.dtype = dtype;
  entry.bytes = bytes;
  entry.peer = peer;
  entry.tag = tag;
  entry.state = FlightState::enqueued;
  entry.step = step;
  entry.where = std::move(where);
  entry.enqueued_us = now;
  entry.completed_us = 0;
  return seq;
}

void FlightGroupRecord::set_state(std::int64_t seq, FlightState state) {
  const double now = state == FlightState::completed ? flight_clock_us() : 0;
  std::lock_guard lock(*mutex_);
  FlightEntry& entry = ring_[static_cast<std::size_t>(seq) % ring_.size()];
  if (entry.seq != seq) return;  // overwritten since: the ring has moved on
  entry.state = state;
  if (state == FlightState::completed) entry.completed_us = now;
}

FlightLog::FlightLog(int world_rank, int world_size, std::size_t capacity)
    : world_rank_(world_rank), world_size_(world_size), capacity_(capacity == 0 ? 1 : capacity) {}

std::shared_ptr<FlightGroupRecord> FlightLog::add_group(std::string backend, int rank, int size) {
  auto group = std::make_shared<FlightGroupRecord>(std::move(backend), rank, size, capacity_);
  group->mutex_ = &mutex_;
  std::lock_guard lock(mutex_);
  groups_.push_back(group);
  return group;
}

void FlightLog::set_activity(const std::string& activity) {
  auto text = activity.empty() ? nullptr : std::make_shared<const std::string>(activity);
  std::lock_guard lock(mutex_);
  activity_ = std::move(text);
}

void FlightLog::enter_wait(const FlightGroupRecord& group, std::int64_t seq) {
  const double now = flight_clock_us();
  std::lock_guard lock(mutex_);
  waiting_group_ = &group;
  waiting_seq_ = seq;
  waiting_since_us_ = now;
  last_activity_us_ = now;
}

void FlightLog::leave_wait() {
  const double now = flight_clock_us();
  std::lock_guard lock(mutex_);
  waiting_group_ = nullptr;
  waiting_seq_ = -1;
  last_activity_us_ = now;
}

void FlightLog::note_activity() {
  const double now = flight_clock_us();
  std::lock_guard lock(mutex_);
  last_activity_us_ = now;
}

void FlightLog::note_continued() {
  const double now = flight_clock_us();
  std::lock_guard lock(mutex_);
  continued_us_ = now;
  quiet_before_us_ = last_activity_us_;
}

void FlightLog::set_step(std::int64_t step) {
  std::lock_guard lock(mutex_);
  step_ = step;
}

FlightLog::IssueContext FlightLog::note_issue() {
  const double now = flight_clock_us();
  std::lock_guard lock(mutex_);
  last_activity_us_ = now;
  return {step_, activity_};
}

std::string FlightLog::to_json(const std::string& reason) const {
  json::Document doc;
  doc["rank"] = world_rank_;
  doc["world_size"] = world_size_;
  doc["pid"] = static_cast<std::int64_t>(::getpid());
  doc["host"] = host_name();
  doc["reason"] = reason;
  doc["written_us"] = flight_clock_us();
  json::Document groups = json::Document::array();
  std::lock_guard lock(mutex_);
  doc["last_activity_us"] = last_activity_us_;
  if (waiting_group_) {
    json::Document waiting;
    waiting["group"] = waiting_group_->name_;
    waiting["seq"] = waiting_seq_;
    waiting["since_us"] = waiting_since_us_;
    doc["waiting"] = std::move(waiting);
  } else {
    doc["waiting"] = nullptr;
  }
  if (continued_us_ > 0) {
    json::Document continued;
    continued["at_us"] = continued_us_;
    continued["quiet_since_us"] = quiet_before_us_;
    doc["continued"] = std::move(continued);
  } else {
    doc["continued"] = nullptr;
  }
  for (const auto& group : groups_) {
    // A group with no operation yet has no name here (core names groups after making them);
    // the reader takes a member without the group as one that never entered its first.
    if (group->next_seq_ == 0) continue;
    json::Document g;
    g["name"] = group->name_;
    g["backend"] = group->backend_;
    g["rank"] = group->rank_;
    g["size"] = group->size_;
    g["members"] = json::Document::array();  // the reader takes them from the name
    g["next_seq"] = group->next_seq_;
    json::Document ops = json::Document::array();
    // Oldest first: the ring from the slot after the newest.
    const auto n = static_cast<std::int64_t>(group->ring_.size());
    for (std::int64_t seq = std::max<std::int64_t>(0, group->next_seq_ - n); seq < group->next_seq_;
         ++seq) {
      const FlightEntry& e = group->ring_[static_cast<std::size_t>(seq % n)];
      json::Document op;
      op["seq"] = e.seq;
      op["op"] = e.op;
      op["dtype"] = dtype_name(e.dtype);
      op["bytes"] = e.bytes;
      op["peer"] = e.peer;
      op["tag"] = e.tag;
      op["state"] = flight_state_name(e.state);
      std::string where = e.step > 0 ? "step " + std::to_string(e.step) : std::string();
      if (e.where) where += (where.empty() ? "" : ", ") + *e.where;
      op["where"] = where;
      op["enqueued_us"] = e.enqueued_us;
      if (e.state == FlightState::completed) {
        op["completed_us"] = e.completed_us;
      } else {
        op["completed_us"] = nullptr;
      }
      ops.push_back(std::move(op));
    }
    g["ops"] = std::move(ops);
    groups.push_back(std::move(g));
  }
  doc["groups"] = std::move(groups);
  return json::readable_text(doc);
}

std::filesystem::path FlightLog::write(const std::filesystem::path& dir,
                                       const std::string& reason) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::filesystem::path file = dir / ("rank-" + std::to_string(world_rank_) + ".json");
  const std::filesystem::path partial = file.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << to_json(reason);
    if (!out.flush()) throw Error("could not write the flight record " + partial.string());
  }
  std::filesystem::rename(partial, file, ec);
  if (ec) throw Error("could not write the flight record " + file.string() + ": " + ec.message());
  return file;
}

}  // namespace trellis
