#include "comm/store_service.h"

#include <algorithm>

#include "comm/store_counter.h"

namespace trellis {

namespace sp = store_protocol;

namespace {

// A timeout in ms from the wire as a deadline; absurd values are capped rather than overflowing.
StoreService::Clock::time_point deadline_after(std::int64_t timeout_ms) {
  constexpr std::int64_t kYear = 365LL * 24 * 3600 * 1000;
  return StoreService::Clock::now() +
         std::chrono::milliseconds(std::clamp<std::int64_t>(timeout_ms, 0, kYear));
}

std::string status_frame(sp::Status status) {
  return sp::FrameWriter().u8(static_cast<std::uint8_t>(status)).finish();
}

std::string error_frame(const std::string& message) {
  return sp::FrameWriter().u8(static_cast<std::uint8_t>(sp::Status::error)).str(message).finish();
}

}  // namespace

bool StoreService::request_ready(const StoreConnection& c) {
  return !c.closed && !c.pending && c.in.size() >= sp::kLengthBytes &&
         c.in.size() - sp::kLengthBytes >= sp::frame_length(c.in);
}

void StoreService::handle_requests(StoreConnection& connection,
                                   const std::vector<StoreConnection*>& all) {
  while (!connection.closed && !connection.pending && connection.in.size() >= sp::kLengthBytes) {
    const std::uint32_t length = sp::frame_length(connection.in);
    if (length > sp::kMaxFrameBytes) {
      connection.closed = true;
      return;
    }
    if (connection.in.size() - sp::kLengthBytes < length) return;
    const std::string body = connection.in.substr(sp::kLengthBytes, length);
    connection.in.erase(0, sp::kLengthBytes + length);
    try {
      handle(connection, body, all);
    } catch (const sp::ProtocolError&) {
      connection.closed = true;
    }
  }
}

void StoreService::handle(StoreConnection& connection, std::string_view body,
                          const std::vector<StoreConnection*>& all) {
  sp::FrameReader in(body);
  const auto op = static_cast<sp::Op>(in.u8());
  switch (op) {
    case sp::Op::set: {
      std::string key = in.str();
      values_[std::move(key)] = in.str();
      connection.out += status_frame(sp::Status::ok);
      answer_satisfied_waits(all);
      return;
    }
    case sp::Op::add: {
      const std::string key = in.str();
      const std::int64_t delta = in.i64();
      const auto it = values_.find(key);
      const CounterSum sum =
          add_to_counter(key, it == values_.end() ? nullptr : &it->second, delta);
      if (!sum.problem.empty()) {
        connection.out += error_frame(sum.problem);
        return;
      }
      values_[key] = std::to_string(sum.value);
      connection.out +=
          sp::FrameWriter().u8(static_cast<std::uint8_t>(sp::Status::ok)).i64(sum.value).finish();
      answer_satisfied_waits(all);
      return;
    }
    case sp::Op::get:
    case sp::Op::wait: {
      const std::int64_t timeout_ms = in.i64();
      std::vector<std::string> keys;
      if (op == sp::Op::get) {
        keys.push_back(in.str());
      } else {
        keys = in.strings();
      }
      PendingStoreWait wait{op, std::move(keys), deadline_after(timeout_ms)};
      if (missing(wait.keys).empty()) {
        answer(connection, wait);
      } else {
        connection.pending = std::move(wait);
      }
      return;
    }
    case sp::Op::check: {
      const bool all_set = missing(in.strings()).empty();
      connection.out += sp::FrameWriter()
                            .u8(static_cast<std::uint8_t>(sp::Status::ok))
                            .u8(all_set ? 1 : 0)
                            .finish();
      return;
    }
  }
  connection.out += error_frame("unknown operation " + std::to_string(static_cast<int>(op)));
}

void StoreService::answer(StoreConnection& connection, const PendingStoreWait& wait) const {
  const std::vector<std::string> absent = missing(wait.keys);
  sp::FrameWriter reply;
  if (!absent.empty()) {
    reply.u8(static_cast<std::uint8_t>(sp::Status::timeout)).strings(absent);
  } else if (wait.op == sp::Op::get) {
    reply.u8(static_cast<std::uint8_t>(sp::Status::ok)).str(values_.at(wait.keys[0]));
  } else {
    reply.u8(static_cast<std::uint8_t>(sp::Status::ok));
  }
  connection.out += reply.finish();
}

void StoreService::answer_satisfied_waits(const std::vector<StoreConnection*>& all) {
  for (StoreConnection* c : all) {
    if (c->pending && missing(c->pending->keys).empty()) {
      answer(*c, *c->pending);
      c->pending.reset();
    }
  }
}

void StoreService::answer_expired_waits(const std::vector<StoreConnection*>& all,
                                        Clock::time_point now) {
  for (StoreConnection* c : all) {
    if (c->pending && c->pending->deadline <= now) {
      answer(*c, *c->pending);
      c->pending.reset();
    }
  }
}

std::vector<std::string> StoreService::missing(const std::vector<std::string>& keys) const {
  std::vector<std::string> out;
  for (const std::string& k : keys)
    if (values_.count(k) == 0) out.push_back(k);
  return out;
}

}  // namespace trellis
