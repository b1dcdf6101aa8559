// trellis-train's command line as a function: main.cpp is this with no device wrapper; test
// programs pass one (tests/support/fenced/: the fenced test device).
#pragma once

#include "kernels/compute_device.h"

// Runs trellis-train with argv and returns its exit code: 0 success, 2 bad input, 1 any other
// failure, or a launch's code (see train_command.cpp). `wrap_device` replaces each rank's device.
int trellis_train_command(int argc, char** argv, const trellis::DeviceWrapper& wrap_device);
