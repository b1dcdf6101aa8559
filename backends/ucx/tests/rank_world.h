// What every rank-side test shares: this process's rank and world size (from the launcher's
// environment), worlds of the ucx backend made through the plugin registry (which also checks the
// descriptor and the exported alias), and helpers to make and compare tensors.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "trellis/comm.h"
#include "trellis/config.h"
#include "trellis/store.h"
#include "trellis/tensor.h"

namespace trellis::ucx_test {

int env_rank();
int env_world_size();

// The process's world with default options, made on first use and kept until exit.
Communicator& world();

// A new world of all ranks with the given [comm.ucx] options; every rank must call it at the same
// point. Worlds made this way share the launcher's store (each gets its own keys).
std::shared_ptr<Communicator> make_world(
    const Options& options, std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The launcher's store (null in a world of one).
Store* store();

// Options from "key=value" pairs: integers where the value is one, strings otherwise.
Options options(std::initializer_list<std::pair<const char*, const char*>> values);

Tensor empty(DType dtype, std::int64_t count);
// A tensor whose element i is value(i), as dtype (values are small integers: sums stay exact).
Tensor filled(DType dtype, std::int64_t count, const std::function<double(std::int64_t)>& value);
// Element i of any f32/i32 tensor, as double.
double at(const Tensor& t, std::int64_t i);
// The first index where t differs from expected(i), or -1.
std::int64_t first_mismatch(const Tensor& t, const std::function<double(std::int64_t)>& expected);

// An integer in [-48, 48] depending on the rank and the index: the data every test sends.
inline double data(int rank, std::int64_t i) {
  return static_cast<double>((i * 31 + rank * 17) % 97) - 48;
}

}  // namespace trellis::ucx_test
