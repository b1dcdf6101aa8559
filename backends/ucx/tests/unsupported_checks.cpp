// What the backend refuses, and how it says so; options and the descriptor as Trellis sees them.
#include "rank_world.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

namespace trellis::ucx_test {

TEST_CASE("reductions of bf16 are unsupported, with the operation named") {
  Communicator& comm = world();
  Tensor t = empty(DType::bf16, 4 * comm.size());
  Tensor one = empty(DType::bf16, 4);
  CHECK_THROWS_WITH_AS(comm.all_reduce(t, t, ReduceOp::sum),
                       doctest::Contains("backend ucx does not support bf16 all_reduce"),
                       UnsupportedError);
  CHECK_THROWS_WITH_AS(comm.reduce_scatter(t, one, ReduceOp::sum),
                       doctest::Contains("backend ucx does not support bf16 reduce_scatter"),
                       UnsupportedError);
  CHECK_THROWS_WITH_AS(comm.reduce(one, one, ReduceOp::max, 0),
                       doctest::Contains("backend ucx does not support bf16 reduce"),
                       UnsupportedError);
}

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

TEST_CASE("avg of integers is unsupported, and says what to do instead") {
  Communicator& comm = world();
  Tensor t = empty(DType::i32, 8);
  CHECK_THROWS_WITH_AS(comm.all_reduce(t, t, ReduceOp::avg),
                       doctest::Contains("backend ucx does not support avg over i32 in all_reduce"),
                       UnsupportedError);
  CHECK_THROWS_WITH_AS(comm.all_reduce(t, t, ReduceOp::avg), doctest::Contains("sum and divide"),
                       UnsupportedError);
}

TEST_CASE("tensors the backend cannot use are refused before anything is sent") {
  Communicator& comm = world();
  float host[8] = {};
  Tensor on_gpu = Tensor::borrow(host, {8}, DType::f32, Device::cuda(0));
  CHECK_THROWS_WITH_AS(comm.all_reduce(on_gpu, on_gpu, ReduceOp::sum),
                       doctest::Contains("does not support cuda:0 tensors"), UnsupportedError);

  Tensor grid = empty(DType::f32, 16).view({4, 4});
  Tensor column = grid.narrow(1, 1, 1);
  CHECK_THROWS_WITH_AS(comm.broadcast(column, 0), doctest::Contains("must be contiguous"), Error);

  Tensor in = empty(DType::f32, 4), wrong = empty(DType::f32, 5);
  CHECK_THROWS_WITH_AS(comm.all_reduce(in, wrong, ReduceOp::sum), doctest::Contains("5 elements"),
                       Error);
  CHECK_THROWS_WITH_AS(comm.all_reduce(in, empty(DType::i32, 4), ReduceOp::sum),
                       doctest::Contains("must have the same dtype, got f32 and i32"), Error);
  if (comm.size() > 1) {
    CHECK_THROWS_WITH_AS(comm.all_gather(in, in), doctest::Contains("size() x input elements"),
                         Error);
  }
}

TEST_CASE("roots outside the group are refused") {
  Communicator& comm = world();
  Tensor t = empty(DType::f32, 2);
  const std::string message =
      "root " + std::to_string(comm.size()) + " is not a rank of this group";
  CHECK_THROWS_WITH_AS(comm.broadcast(t, comm.size()), doctest::Contains(message.c_str()), Error);
  CHECK_THROWS_AS(comm.reduce(t, t, ReduceOp::sum, -1), Error);
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
