// The alpha-beta cost of each collective (collective_cost.h), against values worked by hand.
#include <doctest/doctest.h>

#include "plan/collective_cost.h"

using namespace trellis::plan;

TEST_CASE("alpha steps: a tree's log2 n (twice for all-reduce), one for a send") {
  CHECK(alpha_steps(Collective::all_reduce, 1) == 0.0);
  CHECK(alpha_steps(Collective::all_reduce, 2) == 2.0);
  CHECK(alpha_steps(Collective::all_reduce, 8) == 6.0);
  CHECK(alpha_steps(Collective::all_reduce, 6) == 6.0);  // ceil(log2 6) = 3
  CHECK(alpha_steps(Collective::all_gather, 8) == 3.0);
  CHECK(alpha_steps(Collective::reduce_scatter, 4) == 2.0);
  CHECK(alpha_steps(Collective::broadcast, 3) == 2.0);
  CHECK(alpha_steps(Collective::send_recv, 2) == 1.0);
  CHECK(alpha_steps(Collective::all_to_all, 4) == 3.0);  // pairwise: n - 1
}

TEST_CASE("beta factors: nccl-tests' bus bandwidth factors") {
  CHECK(beta_factor(Collective::all_reduce, 8) == doctest::Approx(2.0 * 7 / 8));
  CHECK(beta_factor(Collective::all_gather, 4) == doctest::Approx(0.75));
  CHECK(beta_factor(Collective::reduce_scatter, 2) == doctest::Approx(0.5));
  CHECK(beta_factor(Collective::broadcast, 16) == 1.0);
  CHECK(beta_factor(Collective::send_recv, 2) == 1.0);
  CHECK(beta_factor(Collective::all_to_all, 4) == doctest::Approx(0.75));
  CHECK(beta_factor(Collective::all_reduce, 1) == 0.0);
}

TEST_CASE("collective seconds: 100 MB all-reduced over 8 ranks at 240 GB/s, 5 us a step") {
  // 6 steps x 5 us + 2 x 7/8 x 1e8 / 2.4e11 s = 30 us + 729.1667 us
  CHECK(collective_seconds(Collective::all_reduce, 8, 1e8, 5e-6, 240e9) ==
        doctest::Approx(759.1667e-6).epsilon(1e-6));
  // An all-gather and a reduce-scatter move what one all-reduce moves (its bandwidth term).
  const double ag = collective_seconds(Collective::all_gather, 8, 1e8, 0.0, 240e9);
  const double rs = collective_seconds(Collective::reduce_scatter, 8, 1e8, 0.0, 240e9);
  CHECK(ag + rs == doctest::Approx(collective_seconds(Collective::all_reduce, 8, 1e8, 0.0, 240e9)));
  // A send of 1 MiB at 1 GB/s after 10 us.
  CHECK(collective_seconds(Collective::send_recv, 2, 1048576, 10e-6, 1e9) ==
        doctest::Approx(10e-6 + 1048576e-9));
  // Nothing moves in a group of one.
  CHECK(collective_seconds(Collective::all_reduce, 1, 1e9, 1.0, 1.0) == 0.0);
}

TEST_CASE("trellis-bench's op names parse; others do not") {
  Collective op{};
  CHECK(parse_collective("sendrecv", op));
  CHECK(op == Collective::send_recv);
  CHECK(parse_collective("reduce_scatter", op));
  CHECK(op == Collective::reduce_scatter);
  CHECK(parse_collective("all_to_all", op));
  CHECK(op == Collective::all_to_all);
  CHECK_FALSE(parse_collective("alltoall", op));
  CHECK_FALSE(parse_collective("allreduce", op));
}
