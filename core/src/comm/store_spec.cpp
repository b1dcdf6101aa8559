#include "comm/store_spec.h"

#include <charconv>

#include "comm/file_store.h"
#include "comm/tcp_store.h"
#include "trellis/error.h"

namespace trellis {

namespace {

[[noreturn]] void bad_spec(const std::string& spec, const std::string& why) {
  throw InputError("store '" + spec + "': " + why +
                   "; valid forms: tcp:HOST:PORT (the TCP store trellis-run serves, e.g. "
                   "tcp:node001:29500) or file:DIR (a directory every rank sees)");
}

}  // namespace

std::string StoreSpec::str() const {
  if (kind == Kind::file) return "file:" + dir;
  const bool ipv6 = host.find(':') != std::string::npos;
  return "tcp:" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

StoreSpec parse_store_spec(const std::string& spec) {
  StoreSpec out;
  if (spec.starts_with("file:")) {
    out.kind = StoreSpec::Kind::file;
    out.dir = spec.substr(5);
    if (out.dir.empty()) bad_spec(spec, "no directory after file:");
    return out;
  }
  if (!spec.starts_with("tcp:")) bad_spec(spec, "unknown kind of store");
  const std::string rest = spec.substr(4);
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string::npos) bad_spec(spec, "no :PORT after the host");
  std::string host = rest.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) bad_spec(spec, "no host");
  const std::string port_text = rest.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    bad_spec(spec, "port '" + port_text + "' is not a port number (1 to 65535)");
  }
  out.kind = StoreSpec::Kind::tcp;
  out.host = std::move(host);
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

std::unique_ptr<Store> connect_store(const std::string& spec, std::chrono::milliseconds timeout) {
  const StoreSpec parsed = parse_store_spec(spec);
  if (parsed.kind == StoreSpec::Kind::file) return std::make_unique<FileStore>(parsed.dir);
  return std::make_unique<TcpStore>(parsed.host, parsed.port, timeout);
}

}  // namespace trellis
