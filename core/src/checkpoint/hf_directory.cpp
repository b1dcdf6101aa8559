#include "hf_directory.h"

#include <fstream>
#include <set>
#include <sstream>

#include "trellis/error.h"

namespace trellis {

namespace {

nlohmann::json read_json_object(const std::filesystem::path& file, const char* what) {
  std::ifstream in(file);
  if (!in) throw InputError(std::string(what) + " " + file.string() + ": cannot be opened");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string(what) + " " + file.string() + ": not valid JSON (" + e.what() +
                     ")");
  }
  if (!j.is_object())
    throw InputError(std::string(what) + " " + file.string() + ": not a JSON object");
  return j;
}

}  // namespace

HfDirectory::HfDirectory(std::filesystem::path dir) : dir_(std::move(dir)) {
  if (!std::filesystem::is_directory(dir_)) {
    throw InputError("Hugging Face directory " + dir_.string() +
                     ": not a directory (expected config.json and model.safetensors, or "
                     "model.safetensors.index.json and its shards)");
  }
  config_ = read_json_object(dir_ / "config.json", "Hugging Face config");

  const std::filesystem::path single = dir_ / "model.safetensors";
  const std::filesystem::path index_file = dir_ / "model.safetensors.index.json";
  if (std::filesystem::exists(single)) {
    // Hugging Face's loaders take the single file when a directory has both.
    files_.push_back(std::make_unique<SafetensorsFile>(single));
    for (const SafetensorsTensor& t : files_.back()->index().tensors)
      tensors_.emplace(t.name, Place{files_.back().get(), &t});
  } else if (std::filesystem::exists(index_file)) {
    const nlohmann::json index = read_json_object(index_file, "Hugging Face weight index");
    const std::string who = "Hugging Face weight index " + index_file.string();
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      throw InputError(who + ": no \"weight_map\" object (tensor name -> shard file)");
    std::map<std::string, const SafetensorsFile*> opened;
    for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
      if (!it.value().is_string())
        throw InputError(who + ": the shard of \"" + it.key() + "\" is not a file name");
      const std::string shard = it.value().get<std::string>();
      // A shard is a file of this directory, never a path out of it.
      if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
        throw InputError(who + ": shard \"" + shard + "\" is not a file name of the directory");
      auto at = opened.find(shard);
      if (at == opened.end()) {
        files_.push_back(std::make_unique<SafetensorsFile>(dir_ / shard));
        at = opened.emplace(shard, files_.back().get()).first;
      }
      const SafetensorsTensor* t = at->second->index().find(it.key());
      if (t == nullptr) {
        throw InputError(who + ": tensor \"" + it.key() + "\" is mapped to " + shard +
                         ", which does not hold it");
      }
      tensors_.emplace(it.key(), Place{at->second, t});
    }
    for (const auto& file : files_) {
      for (const SafetensorsTensor& t : file->index().tensors) {
        auto it = tensors_.find(t.name);
        if (it == tensors_.end() || it->second.file != file.get()) {
          throw InputError(who + ": tensor \"" + t.name + "\" of " +
                           file->path().filename().string() +
                           " is not mapped to that file by the index");
        }
      }
    }
    if (files_.empty()) throw InputError(who + ": its weight_map names no tensor");
  } else {
    throw InputError("Hugging Face directory " + dir_.string() +
                     ": neither model.safetensors nor model.safetensors.index.json (Trellis "
                     "reads safetensors weights only; pytorch_model.bin is not read)");
  }
}

std::vector<std::string> HfDirectory::names() const {
  std::vector<std::string> out;
  for (const auto& [name, place] : tensors_) out.push_back(name);
  return out;
}

const SafetensorsTensor* HfDirectory::find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second.tensor;
}

std::vector<float> HfDirectory::read_f32(std::string_view name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    throw InputError("Hugging Face directory " + dir_.string() + ": no tensor \"" +
                     std::string(name) + "\"");
  }
  return it->second.file->read_f32(*it->second.tensor);
}

}  // namespace trellis
