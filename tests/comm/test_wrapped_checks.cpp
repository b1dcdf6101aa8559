// Core's wrappers around a backend's communicator (the plugin guard, the flight record): the
// arguments of an operation are checked once, by the outermost public operation, against what the
// backend underneath answers (its device, tags, moves() and reduces()), and the operation reaches
// the backend's do_* unchecked and with the group's name.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "comm/flight_log.h"
#include "comm/flight_recording_communicator.h"
#include "plugin/guarded_communicator.h"
#include "trellis/comm.h"
#include "trellis/error.h"

namespace trellis {
namespace {

// A group of one that moves f32 and i32 (no bf16), reduces with sum only, takes tags up to 7, and
// counts what it is asked.
class StrictBackend final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* backend() const override { return "strict"; }
  int max_tag() const override { return 7; }

  mutable int moves_asked = 0;
  int all_reduces = 0;
  std::string last_name;

 protected:
  bool moves(DType dtype) const override {
    ++moves_asked;
    return dtype != DType::bf16;
  }
  bool reduces(DType dtype, ReduceOp op) const override {
    return dtype == DType::f32 && op == ReduceOp::sum;
  }
  WorkPtr do_all_reduce(const Tensor&, const Tensor&, ReduceOp) override {
    ++all_reduces;
    last_name = name();
    return completed_work();
  }
  WorkPtr do_all_gather(const Tensor&, const Tensor&) override { return completed_work(); }
  WorkPtr do_send(const Tensor&, int, int) override { return completed_work(); }
};

struct Layers {
  std::shared_ptr<StrictBackend> backend = std::make_shared<StrictBackend>();
  std::shared_ptr<Communicator> outer;

  Layers() {
    auto owner = std::make_shared<plugin_detail::PluginOwner>();
    owner->label = "comm backend 'strict' (test)";
    owner->abi_minor = 3;
    std::shared_ptr<Communicator> guarded = plugin_detail::guard_communicator(backend, owner);
    // The flight record over the guard, as a training run has it.
    outer = record_flights(guarded, std::make_shared<FlightLog>(0, 1));
    outer->set_name("tensor group [0]");
  }
};

Tensor tensor(std::int64_t n, DType dtype = DType::f32) {
  return Tensor::empty(Shape{n}, dtype, make_cpu_allocator());
}

TEST_CASE("an operation through both wrappers is checked once and reaches the backend") {
  Layers layers;
  layers.outer->all_reduce(tensor(4), tensor(4), ReduceOp::sum)->wait();
  CHECK(layers.backend->all_reduces == 1);
  // Input and output, each asked once: the wrappers' own public operations check nothing again.
  CHECK(layers.backend->moves_asked == 2);
  CHECK(layers.backend->last_name == "tensor group [0]");
}

TEST_CASE("the backend's answers decide the wrapped checks") {
  Layers layers;
  SUBCASE("a dtype the backend does not move") {
    CHECK_THROWS_WITH_AS(layers.outer->all_gather(tensor(4, DType::bf16), tensor(4, DType::bf16)),
                         doctest::Contains("backend strict does not support bf16"),
                         UnsupportedError);
  }
  SUBCASE("a reduction the backend does not make") {
    CHECK_THROWS_WITH_AS(layers.outer->all_reduce(tensor(4), tensor(4), ReduceOp::max),
                         doctest::Contains("backend strict does not support max over f32"),
                         UnsupportedError);
  }
  SUBCASE("a tag above the backend's largest") {
    CHECK_THROWS_WITH_AS(layers.outer->send(tensor(4), 0, 8), doctest::Contains("tag"), Error);
  }
  CHECK(layers.backend->all_reduces == 0);
}

}  // namespace
}  // namespace trellis
