#include "safetensors_writer.h"

#include <nlohmann/json.hpp>

#include "durable_file.h"
#include "trellis/error.h"

namespace trellis {

std::int64_t SafetensorsLayout::Entry::elements() const noexcept {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

const SafetensorsLayout::Entry* SafetensorsLayout::find(std::string_view name) const noexcept {
  for (const Entry& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

SafetensorsLayout safetensors_layout(const std::vector<SafetensorsShape>& tensors,
                                     const std::map<std::string, std::string>& metadata) {
  SafetensorsLayout layout;
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t at = 0;
  for (const SafetensorsShape& t : tensors) {
    if (t.name == "__metadata__" || header.contains(t.name))
      throw Error("safetensors writer: tensor \"" + t.name + "\" has a bad name or comes twice");
    layout.entries.push_back({t.name, t.shape, at});
    const std::uint64_t size = 4 * static_cast<std::uint64_t>(layout.entries.back().elements());
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {at, at + size}}};
    at += size;
  }
  std::string text = header.dump();
  // Hugging Face's writer pads the header with spaces to a multiple of 8, so the data is aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  layout.head.assign(8, '\0');
  const std::uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    layout.head[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  layout.head += text;
  for (SafetensorsLayout::Entry& e : layout.entries) e.file_offset += layout.head.size();
  layout.file_bytes = layout.head.size() + at;
  return layout;
}

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
  std::vector<SafetensorsShape> shapes;
  for (const Entry& e : entries_) shapes.push_back({e.name, e.shape});
  std::string out = safetensors_layout(shapes, metadata_).head;
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
