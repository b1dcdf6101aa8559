// What this backend does with bf16 (moves it where nothing is reduced); its options and descriptor
// as Trellis sees them. What every backend refuses, and how, is the conformance suite's
// (tests/comm/conformance: argument_cases.cpp, refusal_cases.cpp).
#include "rank_world.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

namespace trellis::ucx_test {

TEST_CASE("bf16 moves unchanged through operations that do not reduce") {
  Communicator& comm = world();
  const int n = comm.size(), me = comm.rank();
  Tensor mine = empty(DType::bf16, 3);
  for (int i = 0; i < 3; ++i) mine.data<bf16>()[i].bits = static_cast<std::uint16_t>(me * 100 + i);
  Tensor all = empty(DType::bf16, 3 * n);
  comm.all_gather(mine, all)->wait();
  for (int i = 0; i < 3 * n; ++i) CHECK(all.data<bf16>()[i].bits == (i / 3) * 100 + i % 3);
  comm.broadcast(mine, 0)->wait();
  CHECK(mine.data<bf16>()[2].bits == 2);
}

TEST_CASE("bad options are input errors that name the key") {
  CHECK_THROWS_WITH_AS(make_world(options({{"chunk_bytes", "1"}})),
                       doctest::Contains("comm.ucx.chunk_bytes: chunk_bytes is 1"), InputError);
  CHECK_THROWS_WITH_AS(make_world(options({{"chunks_in_flight", "0"}})),
                       doctest::Contains("comm.ucx.chunks_in_flight"), InputError);
}

TEST_CASE("the descriptor lists the options and its check reports bad values") {
  const auto registry = PluginRegistry::discover({{TRELLIS_UCX_PLUGIN_FILE, "test"}});
  const auto specs = registry.options(PluginKind::comm, "ucx");
  std::vector<std::string> keys;
  for (const auto& spec : specs) keys.push_back(spec.key);
  CHECK(keys == std::vector<std::string>{"tls", "all_reduce_ring_bytes", "all_gather_ring_bytes",
                                         "broadcast_chain_bytes", "chunk_bytes", "chunks_in_flight",
                                         "spin_polls", "keepalive_ms"});
  Options bad = options({{"keepalive_ms", "1"}, {"all_reduce_ring_bytes", "-5"}});
  RunQuery query;
  query.options = &bad;
  const auto problems = registry.check(PluginKind::comm, "ucx", query);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].key == "comm.ucx.all_reduce_ring_bytes");
  CHECK(problems[1].key == "comm.ucx.keepalive_ms");
}

}  // namespace trellis::ucx_test
