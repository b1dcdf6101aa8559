#include "safetensors_writer.h"

#include <nlohmann/json.hpp>

#include "durable_file.h"
#include "trellis/error.h"

namespace trellis {

void SafetensorsWriter::add(const std::string& name, std::vector<std::int64_t> shape,
                            std::vector<float> values) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  if (name == "__metadata__" || static_cast<std::int64_t>(values.size()) != n)
    throw Error("safetensors writer: tensor \"" + name + "\" has a bad name or value count");
  for (const Entry& e : entries_)
    if (e.name == name) throw Error("safetensors writer: tensor \"" + name + "\" added twice");
  entries_.push_back({name, std::move(shape), std::move(values)});
}

void SafetensorsWriter::set_metadata(const std::string& key, const std::string& value) {
  metadata_[key] = value;
}

std::string SafetensorsWriter::bytes() const {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  std::uint64_t at = 0;
  for (const Entry& e : entries_) {
    const std::uint64_t size = 4 * e.values.size();
    header[e.name] = {{"dtype", "F32"}, {"shape", e.shape}, {"data_offsets", {at, at + size}}};
    at += size;
  }
  std::string text = header.dump();
  // Hugging Face's writer pads the header with spaces to a multiple of 8, so the data is aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  std::uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += text;
  for (const Entry& e : entries_) {
    if (e.values.empty()) continue;  // an empty vector's data() may be null
    out.append(reinterpret_cast<const char*>(e.values.data()), 4 * e.values.size());
  }
  return out;
}

void SafetensorsWriter::write(const std::filesystem::path& path) const {
  std::filesystem::path partial = path;
  partial += ".partial";
  std::error_code ec;
  std::filesystem::remove(partial, ec);
  write_durable_file(partial, bytes());
  std::filesystem::rename(partial, path, ec);
  if (ec)
    throw Error("cannot rename " + partial.string() + " to " + path.string() + ": " + ec.message());
  sync_directory(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

}  // namespace trellis
