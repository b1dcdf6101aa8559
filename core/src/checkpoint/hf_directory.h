// A Hugging Face model directory as `[model] init = "hf:DIR"` reads it: config.json, and the
// weights in model.safetensors or else in the shards model.safetensors.index.json maps each tensor
// to (Hugging Face's loaders prefer the single file too).
// Every weights file is opened and checked (checkpoint/safetensors.h) before any value is read;
// with an index, every tensor it names must be in the file it names, and every tensor of those
// files must be named by it (no tensor twice). Each failure is an InputError naming the file.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "safetensors.h"

namespace trellis {

class HfDirectory {
 public:
  explicit HfDirectory(std::filesystem::path dir);

  const std::filesystem::path& dir() const noexcept { return dir_; }
  // config.json, an object.
  const nlohmann::json& config() const noexcept { return config_; }
  // Every tensor's name, sorted.
  std::vector<std::string> names() const;
  // The tensor `name` and the file holding it; null when the directory has no such tensor.
  const SafetensorsTensor* find(std::string_view name) const;
  // Its values as fp32 (InputError naming the directory when it is absent).
  std::vector<float> read_f32(std::string_view name) const;

 private:
  struct Place {
    const SafetensorsFile* file;
    const SafetensorsTensor* tensor;
  };
  std::filesystem::path dir_;
  nlohmann::json config_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Place, std::less<>> tensors_;
};

}  // namespace trellis
