// The fenced test device as a device wrapper (kernels/compute_device.h), chosen by the test-only
// variable TRELLIS_TEST_FENCED_DEVICE=<MiB>: trellis-train-fenced (this folder) is trellis-train
// with it, for tests/train/test_fenced_training.
#pragma once

#include <optional>
#include <string>

#include "kernels/compute_device.h"

namespace trellis {

// The wrapper for TRELLIS_TEST_FENCED_DEVICE's value: none when unset or empty, else one that
// replaces a one-rank cpu run's device by a fenced device with an arena of that many MiB. Throws
// InputError (exit 2) for a value that is not 1 to 1048576; the wrapper throws InputError for a
// run of several ranks or on cuda (the CPU backends read tensors from host code).
DeviceWrapper fenced_device_wrapper(const std::optional<std::string>& arena_mib);

}  // namespace trellis
