#include "fenced_wrapper.h"

#include <cstdlib>

#include "fenced_device.h"
#include "trellis/error.h"

namespace trellis {

DeviceWrapper fenced_device_wrapper(const std::optional<std::string>& arena_mib) {
  if (!arena_mib || arena_mib->empty()) return {};
  const char* text = arena_mib->c_str();
  char* end = nullptr;
  const long long mib = std::strtoll(text, &end, 10);
  if (*end != '\0' || mib < 1 || mib > (1 << 20)) {
    throw InputError(std::string("TRELLIS_TEST_FENCED_DEVICE is '") + text +
                     "'; valid: the fenced test device's arena in MiB (1 to 1048576), or unset");
  }
  return [mib](const DeviceChoice& choice, ComputeDevice device) {
    if (choice.kind != DeviceKind::cpu || choice.world_size != 1) {
      throw InputError(
          "TRELLIS_TEST_FENCED_DEVICE is set, but the fenced test device runs one rank with "
          "[device] kind = \"cpu\" (the CPU backends read tensors from host code); this run has " +
          std::to_string(choice.world_size) + " rank(s) on " +
          (choice.kind == DeviceKind::cpu ? "cpu" : "cuda"));
    }
    FencedDevice fenced = make_fenced_device(device.kernels, static_cast<std::size_t>(mib) << 20);
    device.allocator = fenced.allocator;
    device.kernels = fenced.kernels;
    device.description += " (fenced test device, " + std::to_string(mib) + " MiB)";
    return device;
  };
}

}  // namespace trellis
