// The communicator of a group of one rank: every collective is a checked copy.
#include <doctest/doctest.h>

#include <vector>

#include "comm/self_communicator.h"
#include "launch/world.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

using namespace trellis;
using namespace std::chrono_literals;

namespace {

struct Buffers {
  std::shared_ptr<Allocator> allocator = make_cpu_allocator();
  Tensor make(const Shape& shape, float first) {
    Tensor t = Tensor::empty(shape, DType::f32, allocator);
    float* p = t.data<float>();
    for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = first + static_cast<float>(i);
    return t;
  }
};

std::vector<float> values(const Tensor& t) {
  const float* p = t.data<float>();
  return std::vector<float>(p, p + t.numel());
}

}  // namespace

TEST_CASE("a group of one: rank 0 of 1, backend self, complete at once") {
  SelfCommunicator self(7s);
  CHECK(self.rank() == 0);
  CHECK(self.size() == 1);
  CHECK(std::string(self.backend()) == "self");
  CHECK(self.timeout() == 7s);
  WorkPtr work = self.barrier();
  CHECK(work->test());
  work->wait();
}

TEST_CASE("reductions of one value are the value, for every op; in place changes nothing") {
  Buffers b;
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::avg, ReduceOp::max, ReduceOp::min}) {
    INFO(reduce_op_name(op));
    SelfCommunicator self;
    Tensor in = b.make({2, 3}, 1.0f);
    Tensor out = b.make({2, 3}, -100.0f);
    WorkPtr work = self.all_reduce(in, out, op);
    CHECK(work->test());
    CHECK(values(out) == values(in));
    Tensor out2 = b.make({6}, 0.0f);  // any shape with the same elements
    self.reduce(in, out2, op, 0)->wait();
    CHECK(values(out2) == values(in));
    self.reduce_scatter(in, out2, op)->wait();
    CHECK(values(out2) == values(in));
    self.all_reduce(in, in, op)->wait();  // in place
    CHECK(values(in) == std::vector<float>{1, 2, 3, 4, 5, 6});
  }
}

TEST_CASE("all_gather, all_to_all and broadcast over one rank copy or keep the data") {
  Buffers b;
  SelfCommunicator self;
  Tensor in = b.make({4}, 10.0f);
  Tensor out = b.make({4}, 0.0f);
  self.all_gather(in, out)->wait();
  CHECK(values(out) == values(in));
  Tensor out2 = b.make({2, 2}, 0.0f);
  self.all_to_all(in, out2)->wait();
  CHECK(values(out2) == values(in));
  self.broadcast(in, 0)->wait();
  CHECK(values(in) == std::vector<float>{10, 11, 12, 13});
  // i32 tensors too.
  Tensor tokens = Tensor::empty({3}, DType::i32, b.allocator);
  Tensor tokens_out = Tensor::empty({3}, DType::i32, b.allocator);
  for (int i = 0; i < 3; ++i) tokens.data<std::int32_t>()[i] = 7 * i;
  self.all_reduce(tokens, tokens_out, ReduceOp::avg)->wait();
  CHECK(tokens_out.data<std::int32_t>()[2] == 14);
}

TEST_CASE("bad arguments are refused as a real backend would, saying what is wrong") {
  Buffers b;
  SelfCommunicator self;
  self.set_name("tensor group [3]");
  Tensor in = b.make({4, 4}, 0.0f);
  Tensor out = b.make({4, 4}, 0.0f);
  SUBCASE("non-contiguous") {
    Tensor columns = in.narrow(1, 0, 2);
    Tensor small = b.make({4, 2}, 0.0f);
    CHECK_THROWS_WITH_AS(self.all_reduce(columns, small, ReduceOp::sum),
                         doctest::Contains("backend self: all_reduce on group 'tensor group [3]': "
                                           "input must be contiguous"),
                         Error);
    CHECK_THROWS_WITH_AS(self.broadcast(columns, 0), doctest::Contains("buffer must be contiguous"),
                         Error);
  }
  SUBCASE("sizes") {
    Tensor bigger = b.make({2, 16}, 0.0f);
    CHECK_THROWS_WITH_AS(self.all_gather(in, bigger),
                         doctest::Contains("output must have size() x input elements (16)"), Error);
    CHECK_THROWS_WITH_AS(self.reduce_scatter(bigger, out, ReduceOp::sum),
                         doctest::Contains("input must have size() x output elements (16), got "
                                           "f32[2, 16] on cpu with 32 elements"),
                         Error);
  }
  SUBCASE("dtypes") {
    Tensor ints = Tensor::empty({4, 4}, DType::i32, b.allocator);
    CHECK_THROWS_WITH_AS(self.all_to_all(in, ints),
                         doctest::Contains("must have the same dtype, got f32 and i32"), Error);
  }
  SUBCASE("undefined") {
    CHECK_THROWS_WITH_AS(self.all_reduce(Tensor(), out, ReduceOp::sum),
                         doctest::Contains("input is an undefined tensor"), Error);
  }
  SUBCASE("a root other than 0") {
    CHECK_THROWS_WITH_AS(self.broadcast(in, 1),
                         doctest::Contains("broadcast on group 'tensor group [3]': root 1 is not a "
                                           "rank of this group, which has ranks 0 to 0"),
                         Error);
    CHECK_THROWS_AS(self.reduce(in, out, ReduceOp::sum, -1), Error);
  }
}

TEST_CASE("send and recv have no peer in a group of one") {
  Buffers b;
  SelfCommunicator self;
  Tensor t = b.make({2}, 0.0f);
  CHECK_THROWS_WITH_AS(self.send(t, 0, 0),
                       doctest::Contains("send to rank 0: a group of 1 rank has no peer"),
                       UnsupportedError);
  // A peer outside the group is a wrong argument, as on every backend.
  CHECK_THROWS_WITH_AS(self.send(t, 1, 0), doctest::Contains("peer 1 is not a rank of this group"),
                       Error);
  CHECK_THROWS_WITH_AS(self.recv(t, 0, 0), doctest::Contains("recv from rank 0"), UnsupportedError);
}

TEST_CASE("split: a color makes another group of one, a negative color none") {
  SelfCommunicator self(9s);
  std::unique_ptr<Communicator> sub = self.split(3, 0);
  REQUIRE(sub != nullptr);
  CHECK(sub->size() == 1);
  CHECK(std::string(sub->backend()) == "self");
  CHECK(sub->timeout() == 9s);
  CHECK(self.split(-1, 0) == nullptr);
}

TEST_CASE("create_world of one rank is a SelfCommunicator, whatever the backend") {
  // No plugin is looked up and no store is needed: "mpi" need not even exist.
  const PluginRegistry registry = PluginRegistry::discover({});
  const Options no_options;
  std::shared_ptr<Communicator> world =
      create_world(registry, "mpi", no_options, RankEnvironment{}, 4s);
  CHECK(std::string(world->backend()) == "self");
  CHECK(world->name() == "world");
  CHECK(world->timeout() == 4s);
}

TEST_CASE("create_world of several ranks needs a store") {
  const PluginRegistry registry = PluginRegistry::discover({});
  RankEnvironment env;
  env.world_size = 2;
  const Options no_options;
  CHECK_THROWS_WITH_AS(create_world(registry, "mpi", no_options, env, 1s),
                       doctest::Contains("needs a store"), InputError);
}

TEST_CASE("all_to_all_v over one rank copies its own count; the rest of the output stays") {
  Buffers b;
  SelfCommunicator self;
  Tensor in = b.make({5}, 1.0f);
  Tensor out = b.make({4}, -1.0f);
  const std::vector<std::int64_t> three = {3};
  self.all_to_all_v(in, three, out, three)->wait();
  CHECK(values(out) == std::vector<float>{1, 2, 3, 2});
  const std::vector<std::int64_t> none = {0};
  self.all_to_all_v(in, none, out, none)->wait();  // nothing to move
  CHECK(values(out) == std::vector<float>{1, 2, 3, 2});
  const std::vector<std::int64_t> two = {2};
  CHECK_THROWS_WITH_AS(self.all_to_all_v(in, three, out, two),
                       doctest::Contains("receives what it sends"), Error);
  const std::vector<std::int64_t> six = {6};
  CHECK_THROWS_WITH_AS(self.all_to_all_v(in, six, out, three),
                       doctest::Contains("send_counts sum past the input"), Error);
}
