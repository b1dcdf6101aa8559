// trellis-train-fenced: trellis-train whose ranks run on the fenced test device when
// TRELLIS_TEST_FENCED_DEVICE=<MiB> is set (fenced_wrapper.h). A test program, so it reads its
// test variable itself; trellis-train has no such hook.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "fenced_wrapper.h"
#include "train_command.h"
#include "trellis/error.h"

int main(int argc, char** argv) {
  trellis::DeviceWrapper wrap;
  try {
    const char* mib = std::getenv("TRELLIS_TEST_FENCED_DEVICE");
    wrap = trellis::fenced_device_wrapper(mib ? std::optional<std::string>(mib) : std::nullopt);
  } catch (const trellis::InputError& e) {
    std::cerr << "trellis-train: " << e.what() << "\n";
    return 2;
  }
  return trellis_train_command(argc, argv, wrap);
}
