// Plugins whose descriptor core cannot use: listed with the reason, never called, and reported
// by name when a run asks for them.
#include <cstdint>
#include <memory>
#include <string>

#include "registry_test_support.h"
#include "trellis/comm.h"

namespace trellis::test {

namespace {

const PluginInfo& listed_in_bad(const PluginRegistry& registry, PluginKind kind,
                                std::string_view name) {
  const PluginInfo* info = listed(registry, kind, name);
  REQUIRE_MESSAGE(info != nullptr, "no ", name, " plugin in ", bad_dir());
  return *info;
}

const std::string kOurAbi =
    "ABI " + std::to_string(kAbiVersion.major) + "." + std::to_string(kAbiVersion.minor);

}  // namespace

TEST_CASE("a plugin built for another ABI major is listed with both versions in its problem") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(bad_dir())});
  const PluginInfo& info = listed_in_bad(registry, PluginKind::schedule, "future-major");
  CHECK(info.abi.major == 3);
  CHECK(info.version == "0.0.1");  // the frozen fields are read whatever the ABI
  CHECK(contains(info.problem, "ABI 3.0"));
  CHECK(contains(info.problem, kOurAbi));
  CHECK(contains(info.problem, core_version()));
  CHECK(contains(info.problem, "rebuild the plugin against this Trellis"));
}

TEST_CASE("a plugin built for a newer ABI minor is listed with both versions in its problem") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(bad_dir())});
  const PluginInfo& info = listed_in_bad(registry, PluginKind::schedule, "future-minor");
  CHECK(contains(info.problem, "ABI 2.99"));
  CHECK(contains(info.problem, kOurAbi));
}

TEST_CASE("asking for an ABI-mismatched plugin names its file and both versions") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(bad_dir())});
  const std::string message = plugin_error_of([&] {
    registry.make_schedule("future-major", ScheduleInit{});  // must not call its factory
  });
  CHECK(contains(message, "'future-major'"));
  CHECK(contains(message, plugin_file(bad_dir(), "schedule", "future-major").string()));
  CHECK(contains(message, "ABI 3.0"));
  CHECK(contains(message, kOurAbi));
}

TEST_CASE("a backend built for ABI 1 is refused by version, naming its file and both versions") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(bad_dir())});
  const PluginInfo& info = listed_in_bad(registry, PluginKind::comm, "abi-one");
  CHECK(info.abi.major == 1);
  CHECK(info.abi.minor == 1);
  CHECK(contains(info.problem, "ABI 1.1"));
  CHECK(contains(info.problem, kOurAbi));
  CHECK(kAbiVersion.major == 2);
  const std::string message = plugin_error_of([&] {
    registry.make_comm("abi-one", CommInit{});  // must not call its factory
  });
  CHECK(contains(message, "'abi-one'"));
  CHECK(contains(message, plugin_file(bad_dir(), "comm", "abi-one").string()));
  CHECK(contains(message, "ABI 1.1"));
  CHECK(contains(message, kOurAbi));
  CHECK(contains(message, "rebuild the plugin against this Trellis"));
}

TEST_CASE("a plugin whose factory is of another kind than it declares cannot be used") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(bad_dir())});
  const PluginInfo& info = listed_in_bad(registry, PluginKind::comm, "mixed-up");
  CHECK(contains(info.problem, "declares kind comm"));
  CHECK(contains(info.problem, "make_schedule"));
  const std::string message = plugin_error_of([&] { registry.make_comm("mixed-up", CommInit{}); });
  CHECK(contains(message, "make_schedule"));
  CHECK(contains(message, plugin_file(bad_dir(), "comm", "mixed-up").string()));
}

TEST_CASE("a plugin without the factory of its kind cannot be used") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(bad_dir())});
  const PluginInfo& info = listed_in_bad(registry, PluginKind::layers, "no-factory");
  CHECK(contains(info.problem, "no make_layers factory"));
  CHECK_THROWS_AS(registry.make_layers("no-factory", LayerFamilyInit{}), PluginError);
}

TEST_CASE("a plugin of a kind this Trellis does not know is listed with the kind's number") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(bad_dir())});
  const PluginInfo& info = listed_in_bad(registry, static_cast<PluginKind>(9), "strange-kind");
  CHECK(contains(info.problem, "plugin kind 9"));
}

TEST_CASE("a plugin without a name is listed with the problem") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(bad_dir())});
  const PluginInfo& info = listed_in_bad(registry, PluginKind::schedule, "");
  CHECK(info.file == plugin_file(bad_dir(), "schedule", "nameless"));
  CHECK(contains(info.problem, "no name"));
}

TEST_CASE("a factory that returns no object is an error naming the plugin") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(bad_dir())});
  CHECK(listed_in_bad(registry, PluginKind::schedule, "empty-handed").problem.empty());
  try {
    registry.make_schedule("empty-handed", ScheduleInit{});
    FAIL("expected an Error");
  } catch (const Error& e) {
    CHECK(contains(e.what(), "'empty-handed'"));
    CHECK(contains(e.what(), "returned no object"));
  }
}

TEST_CASE("faulty plugins do not stop the good ones next to them being used") {
  const PluginRegistry registry =
      PluginRegistry::discover({from_env(bad_dir()), from_env(good_dir())});
  const std::shared_ptr<Schedule> schedule = registry.make_schedule("fill-drain", ScheduleInit{});
  CHECK(schedule->actions(ScheduleQuery{}).size() == 2);  // 0F0 0B0
}

TEST_CASE("all_to_all_v reaches a 2.3 backend and is refused for a 2.2 one, whose table lacks it") {
  const auto exchange = [](Communicator& comm) {
    float in[3] = {1, 2, 3}, out[3] = {};
    const std::int64_t counts[] = {3};
    comm.all_to_all_v(Tensor::borrow(in, {3}, DType::f32, Device::cpu()), counts,
                      Tensor::borrow(out, {3}, DType::f32, Device::cpu()), counts)
        ->wait();
    return out[2];
  };
  const PluginRegistry current = PluginRegistry::discover({from_env(good_dir())});
  CHECK(exchange(*current.make_comm("solo", CommInit{})) == 3);

  const PluginRegistry older = PluginRegistry::discover({from_env(older_dir())});
  const PluginInfo* info = listed(older, PluginKind::comm, "solo-2-2");
  REQUIRE(info != nullptr);
  CHECK(info->problem.empty());  // usable: only the newer operation is refused
  const std::shared_ptr<Communicator> comm = older.make_comm("solo-2-2", CommInit{});
  std::string message;
  try {
    exchange(*comm);
  } catch (const UnsupportedError& error) {
    message = error.what();
  }
  CHECK(contains(message, "comm backend 'solo-2-2'"));
  CHECK(contains(message, "does not support all_to_all_v"));
  CHECK(contains(message, "plugin ABI 2.2"));
  CHECK(contains(message, "rebuild it"));
  comm->barrier()->wait();  // what 2.2 had still works
}

}  // namespace trellis::test
