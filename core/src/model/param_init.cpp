#include "model/param_init.h"

#include <cmath>
#include <string>

#include "kernels/host_transfer.h"
#include "model/tensor_box.h"
#include "trellis/error.h"

namespace trellis {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

std::uint64_t parameter_stream_key(std::uint64_t seed, const std::string& name) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a of the name
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return splitmix64(h ^ splitmix64(seed));
}

float normal_draw(std::uint64_t key, std::uint64_t index) {
  std::uint64_t bits = splitmix64(key ^ splitmix64(index));
  // Two uniforms in (0, 1] and [0, 1) from the halves, then Box-Muller.
  double u1 = (static_cast<double>(bits >> 40) + 1.0) / 16777216.0;
  double u2 = static_cast<double>((bits >> 16) & 0xFFFFFF) / 16777216.0;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

void initialize_parameters(const std::vector<Parameter*>& params, std::uint64_t seed,
                           Kernels& kernels) {
  std::vector<float> host;
  for (Parameter* p : params) {
    check_box(p->global_shape, p->shard_offset, p->value.shape(), "parameter " + p->name);
    host.resize(static_cast<std::size_t>(p->value.numel()));
    float* out = host.data();
    switch (p->init.kind) {
      case ParamInit::Kind::zeros:
      case ParamInit::Kind::ones: {
        float v = p->init.kind == ParamInit::Kind::ones ? 1.0f : 0.0f;
        for (std::int64_t i = 0; i < p->value.numel(); ++i) out[i] = v;
        break;
      }
      case ParamInit::Kind::normal: {
        std::uint64_t key = parameter_stream_key(seed, p->name);
        float std = p->init.std;
        for_each_box_run(p->global_shape, p->shard_offset, p->value.shape(),
                         [&](std::int64_t global, std::int64_t local, std::int64_t run) {
                           for (std::int64_t j = 0; j < run; ++j) {
                             out[local + j] = std * normal_draw(key, global + j);
                           }
                         });
        break;
      }
    }
    copy_from_host(kernels, host, p->value);
  }
}

}  // namespace trellis
