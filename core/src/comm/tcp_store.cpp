#include "comm/tcp_store.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "comm/store_protocol.h"
#include "trellis/error.h"

namespace trellis {

namespace sp = store_protocol;

namespace {

// How long after a get()/wait() timeout the client still waits for the server's own answer (which
// names the missing keys) before giving up by itself.
constexpr std::chrono::milliseconds kAnswerSlack{1000};

std::string duration_text(std::chrono::milliseconds d) {
  if (d.count() >= 1000 && d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

int milliseconds_until(std::chrono::steady_clock::time_point deadline) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 3'600'000));
}

// One attempt to connect to `address`, bounded by `deadline`; returns the socket or sets `error`.
UniqueFd try_connect(const addrinfo& address, std::chrono::steady_clock::time_point deadline,
                     std::string& error) {
  UniqueFd fd(::socket(address.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    error = std::string("socket: ") + std::strerror(errno);
    return {};
  }
  if (::connect(fd.get(), address.ai_addr, address.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      error = std::strerror(errno);
      return {};
    }
    pollfd p{fd.get(), POLLOUT, 0};
    int ready = 0;
    do {
      ready = ::poll(&p, 1, milliseconds_until(deadline));
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
      error = "connection attempt timed out";
      return {};
    }
    int so_error = 0;
    socklen_t length = sizeof so_error;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &length);
    if (so_error != 0) {
      error = std::strerror(so_error);
      return {};
    }
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::string describe(sp::Op op, const std::vector<std::string>& keys) {
  return std::string(sp::op_name(op)) + " " + sp::quote_keys(keys);
}

}  // namespace

TcpStore::TcpStore(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : host_(std::move(host)),
      port_(port),
      timeout_(timeout),
      address_("tcp:" + (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) + ":" +
               std::to_string(port_)) {
  std::lock_guard lock(mutex_);
  connect(Clock::now() + timeout_);
}

void TcpStore::connect(Clock::time_point deadline) {
  const auto started = Clock::now();
  auto pause = std::chrono::milliseconds(10);
  std::string error;
  for (;;) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port_);
    const int rc = ::getaddrinfo(host_.c_str(), service.c_str(), &hints, &found);
    if (rc != 0) {
      error = "cannot resolve " + host_ + ": " + ::gai_strerror(rc);
    } else {
      for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
        fd_ = try_connect(*a, deadline, error);
        if (fd_.valid()) break;
      }
      ::freeaddrinfo(found);
      if (fd_.valid()) return;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - started);
      throw TimeoutError("store " + address_ + " not reachable after " + duration_text(waited) +
                         ": " + error + "; is trellis-run running on rank 0's node (or rank 0, " +
                         "which serves TRELLIS_STORE under mpirun/srun)?");
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(500));
  }
}

void TcpStore::send_all(const std::string& bytes, const std::string& what,
                        Clock::time_point deadline) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n =
        ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_.get(), POLLOUT, 0};
      if (::poll(&p, 1, milliseconds_until(deadline)) == 0) {
        fd_.reset();
        throw TimeoutError("store " + address_ + ": " + what + ": could not send within " +
                           duration_text(timeout_) + "; is the store's host overloaded?");
      }
      continue;
    }
    const std::string reason = std::strerror(errno);
    fd_.reset();
    throw CommError("store " + address_ + ": " + what + ": the connection failed (" + reason +
                    "); has trellis-run (or rank 0), which serves the store, stopped?");
  }
}

std::string TcpStore::receive(std::size_t bytes, const std::string& what,
                              Clock::time_point deadline) {
  std::string out(bytes, '\0');
  std::size_t got = 0;
  while (got < bytes) {
    pollfd p{fd_.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, milliseconds_until(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      // The reply may still come: this connection is out of step now, so the next call makes a
      // new one.
      fd_.reset();
      throw TimeoutError("store " + address_ + ": " + what + ": no answer by the deadline; " +
                         "is the store's host overloaded or stopped?");
    }
    const ssize_t n = ::recv(fd_.get(), out.data() + got, bytes - got, MSG_DONTWAIT);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    const std::string reason = n == 0 ? "the store closed the connection" : std::strerror(errno);
    fd_.reset();
    throw CommError("store " + address_ + ": " + what + ": " + reason +
                    "; trellis-run (or rank 0), which serves the store, has stopped");
  }
  return out;
}

std::string TcpStore::exchange(const std::string& frame, const std::string& what,
                               Clock::time_point deadline) {
  if (!fd_.valid()) {
    // The connection was dropped (a client-side timeout, or the server went away): reconnect,
    // saying which call needed it.
    try {
      connect(Clock::now() + timeout_);
    } catch (const TimeoutError& e) {
      throw TimeoutError(what + ": " + e.what());
    }
  }
  send_all(frame, what, deadline);
  const std::uint32_t length = sp::frame_length(receive(sp::kLengthBytes, what, deadline));
  if (length > sp::kMaxFrameBytes) {
    fd_.reset();
    throw CommError("store " + address_ + ": " + what + ": a reply of " + std::to_string(length) +
                    " bytes; is this a Trellis store?");
  }
  return receive(length, what, deadline);
}

void TcpStore::set(const std::string& key, const std::string& value) {
  const std::string what = describe(sp::Op::set, {key});
  std::lock_guard lock(mutex_);
  const std::string frame =
      sp::FrameWriter().u8(static_cast<std::uint8_t>(sp::Op::set)).str(key).str(value).finish();
  const std::string body = exchange(frame, what, Clock::now() + timeout_);
  sp::FrameReader reply(body);
  if (reply.u8() != static_cast<std::uint8_t>(sp::Status::ok)) {
    throw CommError("store " + address_ + ": " + what + ": refused by the store");
  }
}

std::string TcpStore::get(const std::string& key, std::chrono::milliseconds timeout) {
  const std::string what = describe(sp::Op::get, {key});
  std::lock_guard lock(mutex_);
  const std::string frame = sp::FrameWriter()
                                .u8(static_cast<std::uint8_t>(sp::Op::get))
                                .i64(timeout.count())
                                .str(key)
                                .finish();
  try {
    const std::string body = exchange(frame, what, Clock::now() + timeout + kAnswerSlack);
    sp::FrameReader reply(body);
    const auto status = static_cast<sp::Status>(reply.u8());
    if (status == sp::Status::ok) return reply.str();
  } catch (const sp::ProtocolError& e) {
    fd_.reset();
    throw CommError("store " + address_ + ": " + what + ": " + e.what());
  }
  throw TimeoutError("store " + address_ + ": " + what + ": waited " + duration_text(timeout) +
                     " for '" + key + "', never set; is every rank running and using this store?");
}

std::int64_t TcpStore::add(const std::string& key, std::int64_t delta) {
  const std::string what = describe(sp::Op::add, {key});
  std::lock_guard lock(mutex_);
  const std::string frame =
      sp::FrameWriter().u8(static_cast<std::uint8_t>(sp::Op::add)).str(key).i64(delta).finish();
  try {
    const std::string body = exchange(frame, what, Clock::now() + timeout_);
    sp::FrameReader reply(body);
    const auto status = static_cast<sp::Status>(reply.u8());
    if (status == sp::Status::ok) return reply.i64();
    throw CommError("store " + address_ + ": " + what + ": " + reply.str());
  } catch (const sp::ProtocolError& e) {
    fd_.reset();
    throw CommError("store " + address_ + ": " + what + ": " + e.what());
  }
}

void TcpStore::wait(const std::vector<std::string>& keys, std::chrono::milliseconds timeout) {
  const std::string what = describe(sp::Op::wait, keys);
  std::lock_guard lock(mutex_);
  const std::string frame = sp::FrameWriter()
                                .u8(static_cast<std::uint8_t>(sp::Op::wait))
                                .i64(timeout.count())
                                .strings(keys)
                                .finish();
  std::vector<std::string> missing;
  try {
    const std::string body = exchange(frame, what, Clock::now() + timeout + kAnswerSlack);
    sp::FrameReader reply(body);
    if (static_cast<sp::Status>(reply.u8()) == sp::Status::ok) return;
    missing = reply.strings();
  } catch (const sp::ProtocolError& e) {
    fd_.reset();
    throw CommError("store " + address_ + ": " + what + ": " + e.what());
  }
  throw TimeoutError("store " + address_ + ": " + what + ": waited " + duration_text(timeout) +
                     " for " + sp::quote_keys(missing) +
                     ", never set; is every rank running and using this store?");
}

bool TcpStore::check(const std::vector<std::string>& keys) {
  const std::string what = describe(sp::Op::check, keys);
  std::lock_guard lock(mutex_);
  const std::string frame =
      sp::FrameWriter().u8(static_cast<std::uint8_t>(sp::Op::check)).strings(keys).finish();
  try {
    const std::string body = exchange(frame, what, Clock::now() + timeout_);
    sp::FrameReader reply(body);
    reply.u8();
    return reply.u8() != 0;
  } catch (const sp::ProtocolError& e) {
    fd_.reset();
    throw CommError("store " + address_ + ": " + what + ": " + e.what());
  }
}

}  // namespace trellis
