#include "comm/tcp_store_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "comm/store_protocol.h"
#include "os/unique_fd.h"
#include "trellis/error.h"

namespace trellis {

namespace sp = store_protocol;
using Clock = std::chrono::steady_clock;

namespace {

// A get() or wait() the server answers later: when its keys are set, or at its deadline.
struct PendingWait {
  sp::Op op = sp::Op::wait;
  std::vector<std::string> keys;
  Clock::time_point deadline;
};

struct Client {
  UniqueFd fd;
  std::string in;   // bytes received, not yet a whole frame
  std::string out;  // replies not yet sent
  std::optional<PendingWait> pending;
  bool closed = false;
};

// A timeout in ms from the wire as a deadline; absurd values are capped rather than overflowing.
Clock::time_point deadline_after(std::int64_t timeout_ms) {
  constexpr std::int64_t kYear = 365LL * 24 * 3600 * 1000;
  return Clock::now() + std::chrono::milliseconds(std::clamp<std::int64_t>(timeout_ms, 0, kYear));
}

std::optional<std::int64_t> parse_integer(const std::string& text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

struct TcpStoreServer::Impl {
  UniqueFd listen_fd;
  UniqueFd wake_fd;  // an eventfd: stop() writes it to end the poll loop
  std::uint16_t port = 0;
  std::atomic<int> connection_count{0};
  std::thread thread;

  // Touched by the server thread only.
  std::unordered_map<std::string, std::string> values;
  std::vector<std::unique_ptr<Client>> clients;

  void serve();
  void accept_clients();
  void read_from(Client& client);
  void flush(Client& client);
  void handle_frames(Client& client);
  void handle(Client& client, std::string_view body);
  // Answers every pending wait whose keys are all set now.
  void answer_satisfied_waits();
  void answer_expired_waits();
  void answer(Client& client, const PendingWait& wait);
  bool has(const std::string& key) const { return values.count(key) != 0; }
  std::vector<std::string> missing(const std::vector<std::string>& keys) const {
    std::vector<std::string> out;
    for (const auto& k : keys) {
      if (!has(k)) out.push_back(k);
    }
    return out;
  }
};

TcpStoreServer::TcpStoreServer(std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  const std::string where = "store server on port " + std::to_string(port);
  s.listen_fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!s.listen_fd.valid()) throw CommError(where + ": socket: " + std::strerror(errno));
  // A launcher restarted right after a run must be able to take its port again while the old
  // connections linger in TIME_WAIT.
  int one = 1;
  ::setsockopt(s.listen_fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = htons(port);
  if (::bind(s.listen_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw CommError(where + ": cannot bind 0.0.0.0:" + std::to_string(port) + ": " +
                    std::strerror(errno) +
                    (errno == EADDRINUSE ? "; pick another port, or 0 for any free one" : ""));
  }
  if (::listen(s.listen_fd.get(), SOMAXCONN) != 0) {
    throw CommError(where + ": listen: " + std::strerror(errno));
  }
  socklen_t length = sizeof address;
  ::getsockname(s.listen_fd.get(), reinterpret_cast<sockaddr*>(&address), &length);
  s.port = ntohs(address.sin_port);
  s.wake_fd.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!s.wake_fd.valid()) throw CommError(where + ": eventfd: " + std::strerror(errno));
  s.thread = std::thread([&s] { s.serve(); });
}

TcpStoreServer::~TcpStoreServer() {
  stop();
}

std::uint16_t TcpStoreServer::port() const noexcept {
  return impl_->port;
}

int TcpStoreServer::connections() const {
  return impl_->connection_count.load();
}

void TcpStoreServer::stop() {
  if (!impl_->thread.joinable()) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(impl_->wake_fd.get(), &one, sizeof one);
  impl_->thread.join();
}

void TcpStoreServer::Impl::serve() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({wake_fd.get(), POLLIN, 0});
    fds.push_back({listen_fd.get(), POLLIN, 0});
    std::optional<Clock::time_point> next_deadline;
    bool frame_ready = false;  // a whole request is buffered behind a wait answered last round
    for (const auto& c : clients) {
      frame_ready = frame_ready || (!c->pending && c->in.size() >= sp::kLengthBytes &&
                                    c->in.size() >= sp::kLengthBytes + sp::frame_length(c->in));
      fds.push_back({c->fd.get(), static_cast<short>(POLLIN | (c->out.empty() ? 0 : POLLOUT)), 0});
      if (c->pending && (!next_deadline || c->pending->deadline < *next_deadline)) {
        next_deadline = c->pending->deadline;
      }
    }
    int timeout_ms = -1;
    if (frame_ready) {
      timeout_ms = 0;
    } else if (next_deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*next_deadline - Clock::now());
      timeout_ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000));
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "trellis store server (port %u): poll failed: %s; closing the store\n",
                   static_cast<unsigned>(port), std::strerror(errno));
      break;
    }
    if (fds[0].revents != 0) break;  // stop()
    // Clients accepted below are polled from the next round on; fds[i + 2] is clients[i].
    const std::size_t polled = fds.size() - 2;
    for (std::size_t i = 0; i < polled; ++i) {
      Client& c = *clients[i];
      if (fds[i + 2].revents & (POLLIN | POLLHUP | POLLERR)) read_from(c);
      if (fds[i + 2].revents & POLLOUT) flush(c);
    }
    if (fds[1].revents & POLLIN) accept_clients();
    for (auto& c : clients) {
      if (!c->closed) handle_frames(*c);
    }
    answer_expired_waits();
    for (auto& c : clients) {
      if (!c->closed && !c->out.empty()) flush(*c);
    }
    std::erase_if(clients, [](const std::unique_ptr<Client>& c) { return c->closed; });
    connection_count.store(static_cast<int>(clients.size()));
  }
  // Closing the sockets is what tells waiting clients the store is gone.
  clients.clear();
  connection_count.store(0);
  listen_fd.reset();
}

void TcpStoreServer::Impl::accept_clients() {
  for (;;) {
    const int fd = ::accept4(listen_fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: none left; other errors: the client retries
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto client = std::make_unique<Client>();
    client->fd.reset(fd);
    clients.push_back(std::move(client));
  }
}

void TcpStoreServer::Impl::read_from(Client& client) {
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::recv(client.fd.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) {
      client.in.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    client.closed = true;  // end of stream or a reset: the rank is gone
    return;
  }
}

void TcpStoreServer::Impl::flush(Client& client) {
  while (!client.out.empty()) {
    const ssize_t n =
        ::send(client.fd.get(), client.out.data(), client.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      client.out.erase(0, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) client.closed = true;
      return;
    }
  }
}

void TcpStoreServer::Impl::handle_frames(Client& client) {
  // A client has one request outstanding at a time; while its wait is pending, later bytes stay
  // buffered.
  while (!client.closed && !client.pending && client.in.size() >= sp::kLengthBytes) {
    const std::uint32_t length = sp::frame_length(client.in);
    if (length > sp::kMaxFrameBytes) {
      client.closed = true;
      return;
    }
    if (client.in.size() < sp::kLengthBytes + length) return;
    const std::string body = client.in.substr(sp::kLengthBytes, length);
    client.in.erase(0, sp::kLengthBytes + length);
    try {
      handle(client, body);
    } catch (const sp::ProtocolError&) {
      client.closed = true;  // not our protocol: there is no frame boundary to resume at
    }
  }
}

void TcpStoreServer::Impl::handle(Client& client, std::string_view body) {
  sp::FrameReader in(body);
  const auto op = static_cast<sp::Op>(in.u8());
  switch (op) {
    case sp::Op::set: {
      std::string key = in.str();
      values[std::move(key)] = in.str();
      client.out += sp::FrameWriter().u8(static_cast<std::uint8_t>(sp::Status::ok)).finish();
      answer_satisfied_waits();
      return;
    }
    case sp::Op::add: {
      const std::string key = in.str();
      const std::int64_t delta = in.i64();
      std::int64_t value = 0;
      if (auto it = values.find(key); it != values.end()) {
        const std::optional<std::int64_t> current = parse_integer(it->second);
        if (!current) {
          client.out += sp::FrameWriter()
                            .u8(static_cast<std::uint8_t>(sp::Status::error))
                            .str("key '" + key + "' holds a value that is not an integer")
                            .finish();
          return;
        }
        value = *current;
      }
      value += delta;
      values[key] = std::to_string(value);
      client.out +=
          sp::FrameWriter().u8(static_cast<std::uint8_t>(sp::Status::ok)).i64(value).finish();
      answer_satisfied_waits();
      return;
    }
    case sp::Op::get: {
      const std::int64_t timeout_ms = in.i64();
      PendingWait wait{sp::Op::get, {in.str()}, deadline_after(timeout_ms)};
      if (has(wait.keys[0])) {
        answer(client, wait);
      } else {
        client.pending = std::move(wait);
      }
      return;
    }
    case sp::Op::wait: {
      const std::int64_t timeout_ms = in.i64();
      PendingWait wait{sp::Op::wait, in.strings(), deadline_after(timeout_ms)};
      if (missing(wait.keys).empty()) {
        answer(client, wait);
      } else {
        client.pending = std::move(wait);
      }
      return;
    }
    case sp::Op::check: {
      const bool all_set = missing(in.strings()).empty();
      client.out += sp::FrameWriter()
                        .u8(static_cast<std::uint8_t>(sp::Status::ok))
                        .u8(all_set ? 1 : 0)
                        .finish();
      return;
    }
  }
  client.out += sp::FrameWriter()
                    .u8(static_cast<std::uint8_t>(sp::Status::error))
                    .str("unknown operation " + std::to_string(static_cast<int>(op)))
                    .finish();
}

void TcpStoreServer::Impl::answer(Client& client, const PendingWait& wait) {
  const std::vector<std::string> absent = missing(wait.keys);
  sp::FrameWriter reply;
  if (!absent.empty()) {
    reply.u8(static_cast<std::uint8_t>(sp::Status::timeout)).strings(absent);
  } else if (wait.op == sp::Op::get) {
    reply.u8(static_cast<std::uint8_t>(sp::Status::ok)).str(values.at(wait.keys[0]));
  } else {
    reply.u8(static_cast<std::uint8_t>(sp::Status::ok));
  }
  client.out += reply.finish();
}

void TcpStoreServer::Impl::answer_satisfied_waits() {
  for (auto& c : clients) {
    if (c->pending && missing(c->pending->keys).empty()) {
      answer(*c, *c->pending);
      c->pending.reset();
    }
  }
}

void TcpStoreServer::Impl::answer_expired_waits() {
  const Clock::time_point now = Clock::now();
  for (auto& c : clients) {
    if (c->pending && c->pending->deadline <= now) {
      answer(*c, *c->pending);
      c->pending.reset();
    }
  }
}

}  // namespace trellis
