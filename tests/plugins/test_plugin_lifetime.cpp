// Objects made by a plugin keep its library loaded: they work after the registry that made them
// is gone, and the library goes when the last of them does.
#include <dlfcn.h>

#include <vector>

#include "registry_test_support.h"

namespace trellis::test {

namespace {

// True when the dynamic loader has `file` loaded in this process (without loading it).
bool is_loaded(const std::filesystem::path& file) {
  void* handle = ::dlopen(file.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  ::dlclose(handle);
  return true;
}

std::vector<std::string> texts(const std::vector<Action>& actions) {
  std::vector<std::string> out;
  for (const Action& a : actions) out.push_back(to_string(a));
  return out;
}

}  // namespace

TEST_CASE("a communicator made by a plugin works after the registry is destroyed") {
  std::shared_ptr<Communicator> comm;
  {
    const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
    comm = registry.make_comm("solo", CommInit{});
  }
  REQUIRE(comm != nullptr);
  CHECK(comm->rank() == 0);
  CHECK(comm->size() == 1);
  CHECK(std::string(comm->backend()) == "solo");

  float input[3] = {1.0f, 2.0f, 3.0f};
  float output[3] = {};
  comm->all_reduce(Tensor::borrow(input, {3}, DType::f32), Tensor::borrow(output, {3}, DType::f32),
                   ReduceOp::sum)
      ->wait();
  CHECK(output[0] == 1.0f);
  CHECK(output[1] == 2.0f);
  CHECK(output[2] == 3.0f);
}

TEST_CASE("a schedule made by a plugin works after the registry is destroyed") {
  std::shared_ptr<Schedule> schedule;
  {
    const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
    schedule = registry.make_schedule("fill-drain", ScheduleInit{});
  }
  const ScheduleQuery query{.pipeline_size = 2, .pipeline_rank = 1, .microbatches = 2};
  CHECK(texts(schedule->actions(query)) == std::vector<std::string>{"1F0", "1F1", "1B0", "1B1"});
  CHECK(schedule->stage_rank(3, query) == 1);
}

TEST_CASE("a layer family made by a plugin works after the registry is destroyed") {
  std::shared_ptr<LayerFamily> family;
  {
    const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
    LayerFamilyInit init;
    init.dims.seq_len = 8;
    init.dims.hidden = 16;
    init.micro_batch = 2;
    family = registry.make_layers("grid-check", init);
  }
  CHECK(family->activation_shape() == Shape{2, 8, 16});
  CHECK(family->make_block(0)->name() == "identity");
}

TEST_CASE("a plugin's library stays loaded exactly as long as the registry or an object needs it") {
  const std::filesystem::path file = plugin_file(dup_b_dir(), "schedule", "twin-b");
  REQUIRE_FALSE(is_loaded(file));
  std::shared_ptr<Schedule> schedule;
  {
    const PluginRegistry registry = PluginRegistry::discover({from_env(dup_b_dir())});
    CHECK(is_loaded(file));
    schedule = registry.make_schedule("twin", ScheduleInit{});
  }
  CHECK(is_loaded(file));
  CHECK(schedule->actions(ScheduleQuery{}).size() == 2);
  schedule.reset();
  CHECK_FALSE(is_loaded(file));
}

TEST_CASE("what a plugin's objects make keeps the library loaded after its maker is gone") {
  // (It does not keep the maker: the world below is destroyed before the group split from it.)
  const std::filesystem::path layers = plugin_file(good_dir(), "layers", "grid-check");
  const std::filesystem::path comm = plugin_file(throwing_dir(), "comm", "thrower");
  REQUIRE_FALSE(is_loaded(layers));
  REQUIRE_FALSE(is_loaded(comm));
  std::unique_ptr<Layer> block;
  std::unique_ptr<Communicator> part;
  WorkPtr barrier;
  {
    const PluginRegistry registry =
        PluginRegistry::discover({from_env(good_dir()), from_env(throwing_dir())});
    block = registry.make_layers("grid-check", LayerFamilyInit{})->make_block(0);
    std::shared_ptr<Communicator> world = registry.make_comm("thrower", CommInit{});
    part = world->split(0, 0);
    barrier = world->barrier();
  }  // the registry, the family and the world are gone
  CHECK(is_loaded(layers));
  CHECK(block->name() == "identity");
  block.reset();
  CHECK_FALSE(is_loaded(layers));
  CHECK(std::string(part->backend()) == "thrower");
  part.reset();
  CHECK(is_loaded(comm));  // the operation in flight still holds it
  barrier.reset();
  CHECK_FALSE(is_loaded(comm));
}

TEST_CASE("an error thrown by a plugin's factory reaches the caller unchanged") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  CommInit init;
  init.world_size = 2;  // solo serves one rank only
  CHECK_THROWS_WITH_AS(registry.make_comm("solo", init),
                       "the solo backend runs one rank only, not 2", InputError);
}

}  // namespace trellis::test
