// What the Hugging Face tests of GPT-2 and LLaMA (test_hf_gpt2.cpp, test_hf_llama.cpp) share:
// a scratch directory, a directory's tensors read as fp32 and written back — edited, with another
// config.json, optionally stored as bf16 —, bf16's rounding, the message of an InputError, and
// the comparison of an imported model with its source.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <bit>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/hf_directory.h"
#include "checkpoint/safetensors_writer.h"
#include "kernels/host_transfer.h"
#include "trellis/error.h"
#include "trellis/layer.h"

namespace trellis::test {

// name -> (shape, values)
using HfTensors = std::map<std::string, std::pair<std::vector<std::int64_t>, std::vector<float>>>;

// An empty scratch directory for `name`, unique to this process.
inline std::filesystem::path hf_work_dir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("trellis-hf-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The message of the InputError `f` throws; "(no InputError)" when it throws none.
inline std::string input_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

// x rounded to bf16, to nearest with ties to even.
inline float bf16_round(float x) {
  std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  u += 0x7fffu + ((u >> 16) & 1u);
  return std::bit_cast<float>(u & 0xffff0000u);
}

// Every parameter of model `got` (tiny_gpt2_model.h's or tiny_llama_model.h's) equals `want`'s
// through `convert` bit for bit, the token table and the head in their real rows; `got`'s padding
// rows are zero (Hugging Face's files leave them out).
template <class Model>
void check_imported_values(const Model& got, const Model& want, float (*convert)(float)) {
  const auto real = static_cast<std::size_t>(got.dims.vocab_size * got.dims.hidden);
  for (Parameter* p : want.chunk->parameters()) {
    CAPTURE(p->name);
    const std::vector<float> a = f32_to_host(*got.kernels, got.parameter(p->name).value);
    const std::vector<float> b = f32_to_host(*want.kernels, p->value);
    REQUIRE(a.size() == b.size());
    const bool table = p->name == "wte" || p->name == "lm_head.weight";
    std::int64_t differ = 0, nonzero_padding = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (table && i >= real) {
        nonzero_padding += a[i] != 0.0f;
      } else {
        differ += std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(convert(b[i]));
      }
    }
    CHECK(differ == 0);
    CHECK(nonzero_padding == 0);
  }
}

inline float same_value(float x) {
  return x;
}

// Every tensor of a Hugging Face directory, as fp32.
inline HfTensors read_hf_tensors(const std::filesystem::path& dir) {
  const HfDirectory source(dir);
  HfTensors tensors;
  for (const std::string& t : source.names())
    tensors[t] = {source.find(t)->shape, source.read_f32(t)};
  return tensors;
}

// A safetensors file of `tensors` stored as BF16 (their values rounded), laid out as
// checkpoint/safetensors.h says.
inline std::string bf16_safetensors(const HfTensors& tensors) {
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  std::string data;
  for (const auto& [name, tensor] : tensors) {
    const std::size_t begin = data.size();
    for (float v : tensor.second) {
      const auto bits =
          static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(bf16_round(v)) >> 16);
      data.push_back(static_cast<char>(bits & 0xff));
      data.push_back(static_cast<char>(bits >> 8));
    }
    header[name] = {
        {"dtype", "BF16"}, {"shape", tensor.first}, {"data_offsets", {begin, data.size()}}};
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
  return out + json + data;
}

// A new directory `name` holding `config` and `tensors` (fp32, or bf16 with `bf16`).
inline std::filesystem::path write_hf_directory(const std::string& name,
                                                const nlohmann::json& config,
                                                const HfTensors& tensors, bool bf16 = false) {
  const std::filesystem::path dir = hf_work_dir(name);
  std::filesystem::create_directories(dir);
  if (bf16) {
    std::ofstream(dir / "model.safetensors", std::ios::binary) << bf16_safetensors(tensors);
  } else {
    SafetensorsWriter writer;
    for (const auto& [t, value] : tensors) writer.add(t, value.first, value.second);
    writer.write(dir / "model.safetensors");
  }
  std::ofstream(dir / "config.json") << config.dump();
  return dir;
}

}  // namespace trellis::test
