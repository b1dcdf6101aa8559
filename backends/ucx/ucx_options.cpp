#include "ucx_options.h"

#include <cstdint>

#include "trellis/error.h"

namespace trellis::ucx {

namespace {

const OptionSpec kSpecs[] = {
    {"tls", OptionType::string, "\"\"",
     "UCX transports (UCX_TLS syntax, e.g. \"sm,self\", \"tcp\"); empty: UCX_TLS or UCX's choice"},
    {"all_reduce_ring_bytes", OptionType::integer, "65536",
     "all_reduce from this size (bytes) uses the pipelined ring, below recursive doubling"},
    {"all_gather_ring_bytes", OptionType::integer, "65536",
     "all_gather with an output from this size (bytes) uses the ring, below Bruck"},
    {"broadcast_chain_bytes", OptionType::integer, "1048576",
     "broadcast from this size (bytes) on 3+ ranks uses a pipelined chain, below a binomial tree"},
    {"chunk_bytes", OptionType::integer, "262144",
     "pipeline chunk (bytes) of rings, chains and trees"},
    {"chunks_in_flight", OptionType::integer, "4",
     "chunks received ahead of the one being reduced"},
    {"spin_polls", OptionType::integer, "16",
     "idle polls a wait spins (and 200 us) before napping; raise on dedicated cores"},
    {"keepalive_ms", OptionType::integer, "1000",
     "how often UCX checks that peers are alive; a dead peer is reported within about this"},
};

// Reads integer `key` into `out` when it lies in [min, max]; otherwise records a problem.
template <class T>
void read_int(const Options& options, const char* key, std::int64_t min, std::int64_t max, T& out,
              std::vector<ConfigProblem>& problems) {
  if (!options.has(key)) return;
  const std::int64_t value = options.get_int(key, static_cast<std::int64_t>(out));
  if (value < min || value > max) {
    problems.push_back({std::string("comm.ucx.") + key,
                        std::string(key) + " is " + std::to_string(value) + "; it takes " +
                            std::to_string(min) + " to " + std::to_string(max)});
    return;
  }
  out = static_cast<T>(value);
}

}  // namespace

std::span<const OptionSpec> option_specs() {
  return kSpecs;
}

UcxOptions read_options(const Options* options, std::vector<ConfigProblem>& problems) {
  UcxOptions out;
  if (options == nullptr) return out;
  constexpr std::int64_t kMaxBytes = std::int64_t{1} << 40;
  out.tls = options->get_string("tls", out.tls);
  read_int(*options, "all_reduce_ring_bytes", 0, kMaxBytes, out.all_reduce_ring_bytes, problems);
  read_int(*options, "all_gather_ring_bytes", 0, kMaxBytes, out.all_gather_ring_bytes, problems);
  read_int(*options, "broadcast_chain_bytes", 0, kMaxBytes, out.broadcast_chain_bytes, problems);
  // A chunk holds at least one element of every dtype; above 1 GiB pipelining means nothing.
  read_int(*options, "chunk_bytes", 8, std::int64_t{1} << 30, out.chunk_bytes, problems);
  read_int(*options, "chunks_in_flight", 1, 1024, out.chunks_in_flight, problems);
  read_int(*options, "spin_polls", 0, std::int64_t{1} << 30, out.spin_polls, problems);
  read_int(*options, "keepalive_ms", 10, 3600 * 1000, out.keepalive_ms, problems);
  out.keepalive_from_config = options->has("keepalive_ms");
  return out;
}

UcxOptions read_options_or_throw(const Options* options) {
  std::vector<ConfigProblem> problems;
  UcxOptions out = read_options(options, problems);
  if (!problems.empty()) {
    std::string message = "backend ucx: bad options:";
    for (const auto& p : problems) message += "\n  " + p.key + ": " + p.message;
    throw InputError(message);
  }
  return out;
}

}  // namespace trellis::ucx
