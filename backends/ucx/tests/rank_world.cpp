#include "rank_world.h"

#include <cstdlib>
#include <string>

#include "comm/file_store.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

namespace trellis::ucx_test {

namespace {

int env_int(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) {
    throw Error(std::string(name) + " is not set; run this program under ucx_launch_ranks");
  }
  return std::atoi(value);
}

// The registry (and so the plugin library) and the store outlive every world made from them.
struct Shared {
  PluginRegistry registry = PluginRegistry::discover({{TRELLIS_UCX_PLUGIN_FILE, "the ucx tests"}});
  std::unique_ptr<Store> store;
  std::shared_ptr<Communicator> world;

  Shared() {
    std::string where = std::getenv("TRELLIS_STORE") ? std::getenv("TRELLIS_STORE") : "";
    if (where.rfind("file:", 0) == 0) where = where.substr(5);
    if (where.empty() && env_int("TRELLIS_WORLD_SIZE") > 1) {
      throw Error("TRELLIS_STORE is not set; run this program under ucx_launch_ranks");
    }
    if (!where.empty()) store = std::make_unique<FileStore>(where);
  }
};

Shared& shared() {
  static Shared s;
  return s;
}

}  // namespace

int env_rank() {
  return env_int("TRELLIS_RANK");
}

int env_world_size() {
  return env_int("TRELLIS_WORLD_SIZE");
}

std::shared_ptr<Communicator> make_world(const Options& opts, std::chrono::milliseconds timeout) {
  CommInit init;
  init.rank = env_rank();
  init.world_size = env_world_size();
  init.store = shared().store.get();
  init.timeout = timeout;
  init.options = &opts;
  return shared().registry.make_comm("ucx", init);
}

Store* store() {
  return shared().store.get();
}

Communicator& world() {
  if (!shared().world) shared().world = make_world(Options{});
  return *shared().world;
}

Options options(std::initializer_list<std::pair<const char*, const char*>> values) {
  Options out;
  for (const auto& [key, value] : values) {
    char* end = nullptr;
    const long long number = std::strtoll(value, &end, 10);
    if (*value != '\0' && *end == '\0') {
      out.set(key, static_cast<std::int64_t>(number));
    } else {
      out.set(key, std::string(value));
    }
  }
  return out;
}

Tensor empty(DType dtype, std::int64_t count) {
  static const std::shared_ptr<Allocator> allocator = make_cpu_allocator();
  return Tensor::empty({count}, dtype, allocator);
}

Tensor filled(DType dtype, std::int64_t count, const std::function<double(std::int64_t)>& value) {
  Tensor t = empty(dtype, count);
  for (std::int64_t i = 0; i < count; ++i) {
    if (dtype == DType::f32) {
      t.data<float>()[i] = static_cast<float>(value(i));
    } else {
      t.data<std::int32_t>()[i] = static_cast<std::int32_t>(value(i));
    }
  }
  return t;
}

double at(const Tensor& t, std::int64_t i) {
  if (t.dtype() == DType::f32) return static_cast<const float*>(t.data_ptr())[i];
  return static_cast<const std::int32_t*>(t.data_ptr())[i];
}

std::int64_t first_mismatch(const Tensor& t, const std::function<double(std::int64_t)>& expected) {
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    const double want = t.dtype() == DType::f32
                            ? static_cast<double>(static_cast<float>(expected(i)))
                            : expected(i);
    if (at(t, i) != want) return i;
  }
  return -1;
}

}  // namespace trellis::ucx_test
