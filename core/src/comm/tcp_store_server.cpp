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
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "comm/store_service.h"
#include "os/unique_fd.h"
#include "trellis/error.h"

namespace trellis {

using Clock = StoreService::Clock;

namespace {

struct Client {
  UniqueFd fd;
  StoreConnection connection;
};

}  // namespace

struct TcpStoreServer::Impl {
  UniqueFd listen_fd;
  UniqueFd wake_fd;  // an eventfd: stop() writes it to end the poll loop
  std::uint16_t port = 0;
  std::atomic<int> connection_count{0};
  std::thread thread;

  // Touched by the server thread only.
  StoreService service;
  std::vector<std::unique_ptr<Client>> clients;

  void serve();
  void accept_clients();
  void read_from(Client& client);
  void flush(Client& client);
  std::vector<StoreConnection*> open_connections();
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
    bool request_ready = false;  // a whole request is buffered behind a wait answered last round
    for (const auto& c : clients) {
      const StoreConnection& s = c->connection;
      request_ready = request_ready || StoreService::request_ready(s);
      fds.push_back({c->fd.get(), static_cast<short>(POLLIN | (s.out.empty() ? 0 : POLLOUT)), 0});
      if (s.pending && (!next_deadline || s.pending->deadline < *next_deadline)) {
        next_deadline = s.pending->deadline;
      }
    }
    int timeout_ms = -1;
    if (request_ready) {
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
    const std::vector<StoreConnection*> open = open_connections();
    for (StoreConnection* c : open) service.handle_requests(*c, open);
    service.answer_expired_waits(open, Clock::now());
    for (auto& c : clients) {
      if (!c->connection.closed && !c->connection.out.empty()) flush(*c);
    }
    std::erase_if(clients, [](const std::unique_ptr<Client>& c) { return c->connection.closed; });
    connection_count.store(static_cast<int>(clients.size()));
  }
  // Closing the sockets is what tells waiting clients the store is gone.
  clients.clear();
  connection_count.store(0);
  listen_fd.reset();
}

std::vector<StoreConnection*> TcpStoreServer::Impl::open_connections() {
  std::vector<StoreConnection*> open;
  for (auto& c : clients)
    if (!c->connection.closed) open.push_back(&c->connection);
  return open;
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
      client.connection.in.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    client.connection.closed = true;  // end of stream or a reset: the rank is gone
    return;
  }
}

void TcpStoreServer::Impl::flush(Client& client) {
  std::string& out = client.connection.out;
  while (!out.empty()) {
    const ssize_t n = ::send(client.fd.get(), out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      out.erase(0, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) client.connection.closed = true;
      return;
    }
  }
}

}  // namespace trellis
