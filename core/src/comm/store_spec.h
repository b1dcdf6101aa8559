// Store specs: how ranks are told where their rendezvous store is (TRELLIS_STORE, --store).
//
//   tcp:HOST:PORT   the TCP store trellis-run serves (or rank 0 under mpirun/srun); HOST may be a
//                   name, an IPv4 address or a bracketed IPv6 address ([::1])
//   file:DIR        a FileStore in DIR, which every rank must see (one node's /tmp, or a shared
//                   filesystem)
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "trellis/store.h"

namespace trellis {

struct StoreSpec {
  enum class Kind : unsigned char { tcp, file };
  Kind kind = Kind::tcp;
  std::string host;        // tcp
  std::uint16_t port = 0;  // tcp
  std::string dir;         // file

  std::string str() const;  // back to the spec's text
};

// Throws InputError naming the spec and listing the valid forms.
StoreSpec parse_store_spec(const std::string& spec);

// Connects to (tcp) or opens (file) the store `spec` names; a TCP store is retried until
// `timeout` has passed. Throws InputError for a bad spec, CommError/TimeoutError when the store
// cannot be reached.
std::unique_ptr<Store> connect_store(const std::string& spec, std::chrono::milliseconds timeout);

}  // namespace trellis
