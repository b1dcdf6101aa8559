// An exception other than trellis::Error escaping a plugin is reported with the plugin's name and
// file and the call it came from; a trellis::Error passes unchanged. Every object the registry
// hands out is guarded: the family and its layers, the communicator, its operations in flight
// and the communicators it splits, the schedule, the factories and the check hooks.
#include <exception>

#include "registry_test_support.h"

namespace trellis::test {

namespace {

// The Error `f` throws: exactly a trellis::Error (the runtime failure class: exit 1), not one of
// the input classes.
template <class F>
std::string runtime_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    FAIL("an InputError: " << e.what());
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("not a trellis::Error: " << e.what());
  }
  FAIL("nothing was thrown");
  return {};
}

std::string label(const char* kind, const char* phrase) {
  return std::string(phrase) + " 'thrower' (libtrellis_" + kind + "_thrower.so): ";
}

float scratch[4];
Tensor some_tensor() {
  return Tensor::borrow(scratch, {4}, DType::f32);
}

}  // namespace

TEST_CASE("a layer family's and its layers' exceptions name the plugin and the call") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(throwing_dir())});
  const std::shared_ptr<LayerFamily> family = registry.make_layers("thrower", LayerFamilyInit{});
  const std::string who = label("layers", "layer family");

  CHECK(runtime_error_of([&] { family->make_block(7); }) ==
        who + "make_block(7) threw std::out_of_range: block 7 of 4");

  std::unique_ptr<Layer> block = family->make_block(3);
  CHECK(block->name() == "thrower.block.3");
  Microbatch mb;
  mb.id = 5;
  const std::string forward = runtime_error_of([&] { block->forward(mb, some_tensor()); });
  CHECK(forward.starts_with(who + "forward of thrower.block.3 threw std::out_of_range: "));
  CHECK(runtime_error_of([&] { block->backward_input(mb, some_tensor()); }) ==
        who +
            "backward_input of thrower.block.3 threw (anonymous namespace)::ThrowerFault: the "
            "stash of microbatch 0 is gone");
  CHECK(runtime_error_of([&] { block->parameters(); }) ==
        who + "parameters of thrower.block.3 threw int, which is not a std::exception");
  // A trellis error is the plugin's word to the user: unchanged, class and all.
  try {
    block->backward_weight(mb);
    FAIL("backward_weight did not throw");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) == "thrower: a message written for the user");
  }
  // The head is tied to the family's own embedding layer, not to the guard around it.
  std::unique_ptr<Layer> embedding = family->make_embedding();
  CHECK(family->make_head(embedding.get())->name() == "thrower.head");
}

TEST_CASE("a backend's exceptions name the plugin, the operation and the group") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(throwing_dir())});
  std::shared_ptr<Communicator> world = registry.make_comm("thrower", CommInit{});
  world->set_name("tensor group [0]");
  const std::string who = label("comm", "comm backend");

  CHECK(runtime_error_of([&] { world->all_reduce(some_tensor(), some_tensor(), ReduceOp::sum); }) ==
        who + "all_reduce on tensor group [0] threw std::bad_alloc: std::bad_alloc");
  // An operation in flight is the backend's code too.
  WorkPtr barrier = world->barrier();
  CHECK(runtime_error_of([&] { barrier->wait(); }) ==
        who +
            "wait for barrier on tensor group [0] threw std::runtime_error: the request table "
            "is corrupt");
  CHECK(runtime_error_of([&] { barrier->test(); }).starts_with(who + "test of barrier on "));
  // The backend's own error passes as it is, naming the group core named.
  CHECK_THROWS_WITH_AS(world->broadcast(some_tensor(), 0),
                       "thrower broadcast on tensor group [0]: the peer is gone", CommError);
  // Communicators split from it are guarded too.
  std::unique_ptr<Communicator> part = world->split(0, 0);
  REQUIRE(part != nullptr);
  part->set_name("data group [0]");
  CHECK(runtime_error_of([&] {
          part->all_reduce(some_tensor(), some_tensor(), ReduceOp::max);
        }).starts_with(who + "all_reduce on data group [0] threw std::bad_alloc"));
  CHECK(world->split(-1, 0) == nullptr);
}

TEST_CASE("a schedule's, a factory's and a check hook's exceptions name the plugin and the call") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(throwing_dir())});
  CHECK(runtime_error_of([&] { registry.make_schedule("thrower", ScheduleInit{}); }) ==
        label("schedule", "schedule") + "its factory threw std::logic_error: no options table");
  const Options none;
  ScheduleInit init;
  init.options = &none;
  const std::shared_ptr<Schedule> schedule = registry.make_schedule("thrower", init);
  CHECK(runtime_error_of([&] {
          schedule->actions({.pipeline_size = 2, .pipeline_rank = 1, .microbatches = 3});
        }) == label("schedule", "schedule") +
                  "actions of pipeline rank 1 threw std::invalid_argument: no plan for 3 "
                  "microbatches");
  RunQuery query;
  query.sizes.tensor = 2;
  CHECK(runtime_error_of([&] { registry.check(PluginKind::layers, "thrower", query); }) ==
        label("layers", "layer family") +
            "its check threw std::domain_error: tensor sizes above 1 are not handled");
  LayerCostQuery cost_query;
  cost_query.tensor = 2;
  CHECK(runtime_error_of([&] { registry.describe_cost("thrower", cost_query); }) ==
        label("layers", "layer family") +
            "its describe_cost threw std::domain_error: no cost for tensor sizes above 1");
}

TEST_CASE("the report of a plugin's own exception class outlives the plugin's library") {
  std::exception_ptr caught;
  {
    const PluginRegistry registry = PluginRegistry::discover({from_env(throwing_dir())});
    std::shared_ptr<LayerFamily> family = registry.make_layers("thrower", LayerFamilyInit{});
    try {
      family->make_block(0)->backward_input(Microbatch{}, some_tensor());
    } catch (...) {
      caught = std::current_exception();
    }
  }  // the family and the registry are gone: the library is unloaded
  REQUIRE(caught);
  CHECK(contains(runtime_error_of([&] { std::rethrow_exception(caught); }),
                 "threw (anonymous namespace)::ThrowerFault: the stash of microbatch 0 is gone"));
}

}  // namespace trellis::test
