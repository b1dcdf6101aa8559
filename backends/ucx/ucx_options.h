// The [comm.ucx] table: what a run can tune in the ucx backend, with its defaults.
//
// The defaults were measured on one machine over shared memory (README.md, "Tuning"); every
// threshold is in bytes of the message the caller passes (all_gather: of the gathered output).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "trellis/config.h"

namespace trellis::ucx {

struct UcxOptions {
  // UCX transports (UCX_TLS syntax, e.g. "sm,self" or "tcp"); empty: UCX_TLS from the
  // environment, else UCX's own choice, which works on one machine and across nodes.
  std::string tls;
  // all_reduce of at least this many bytes uses the pipelined ring; smaller ones recursive
  // doubling.
  std::size_t all_reduce_ring_bytes = 64 * 1024;
  // all_gather whose output has at least this many bytes uses the pipelined ring; smaller ones
  // Bruck's algorithm (log2(n) rounds).
  std::size_t all_gather_ring_bytes = 64 * 1024;
  // broadcast of at least this many bytes over 3 or more ranks uses a pipelined chain; smaller
  // ones (and 2 ranks) a binomial tree.
  std::size_t broadcast_chain_bytes = 1024 * 1024;
  // Pipeline chunk: rings, chains and trees move and reduce large messages in pieces of this size.
  std::size_t chunk_bytes = 256 * 1024;
  // How many chunks a rank receives ahead of the one it is reducing.
  int chunks_in_flight = 4;
  // Polls without any event a wait spins (and for at least 200 us) before it starts napping,
  // giving the core to other processes: few, so ranks that share cores (with each other or with
  // other work) still run promptly; many (spinning like MPI) for the lowest latency on cores of
  // their own.
  int spin_polls = 16;
  // How often UCX checks that peers are alive (UCX_KEEPALIVE_INTERVAL): a peer that dies is
  // reported within about this long.
  int keepalive_ms = 1000;
  // Whether keepalive_ms was set in the table: only then does it override UCX_KEEPALIVE_INTERVAL
  // from the environment.
  bool keepalive_from_config = false;
};

// The option specs for the plugin descriptor, in the order the README documents them.
std::span<const OptionSpec> option_specs();

// Reads the table (null: all defaults). Bad values are appended to `problems` with their key
// ("comm.ucx.chunk_bytes") and left at the default.
UcxOptions read_options(const Options* options, std::vector<ConfigProblem>& problems);

// read_options() for the factory: throws InputError listing every problem.
UcxOptions read_options_or_throw(const Options* options);

}  // namespace trellis::ucx
