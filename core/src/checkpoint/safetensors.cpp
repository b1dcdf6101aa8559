#include "safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "trellis/error.h"

namespace trellis {

static_assert(std::endian::native == std::endian::little,
              "safetensors values are little-endian; this reader copies them as they are");

namespace {

struct DTypeInfo {
  SafetensorsDType type;
  const char* name;
  std::size_t bytes;
};
constexpr DTypeInfo kDTypes[] = {
    {SafetensorsDType::boolean, "BOOL", 1},    {SafetensorsDType::u8, "U8", 1},
    {SafetensorsDType::i8, "I8", 1},           {SafetensorsDType::f8_e5m2, "F8_E5M2", 1},
    {SafetensorsDType::f8_e4m3, "F8_E4M3", 1}, {SafetensorsDType::i16, "I16", 2},
    {SafetensorsDType::u16, "U16", 2},         {SafetensorsDType::f16, "F16", 2},
    {SafetensorsDType::bf16, "BF16", 2},       {SafetensorsDType::i32, "I32", 4},
    {SafetensorsDType::u32, "U32", 4},         {SafetensorsDType::f32, "F32", 4},
    {SafetensorsDType::f64, "F64", 8},         {SafetensorsDType::i64, "I64", 8},
    {SafetensorsDType::u64, "U64", 8}};

const DTypeInfo& info(SafetensorsDType t) {
  for (const DTypeInfo& d : kDTypes)
    if (d.type == t) return d;
  return kDTypes[0];  // unreachable: every enumerator is listed
}

std::string known_dtypes() {
  std::string out;
  for (const DTypeInfo& d : kDTypes) out += (out.empty() ? "" : ", ") + std::string(d.name);
  return out;
}

// IEEE half to float, subnormals, infinities and NaN included.
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    exponent = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

}  // namespace

const char* safetensors_dtype_name(SafetensorsDType t) noexcept {
  return info(t).name;
}

std::size_t safetensors_dtype_bytes(SafetensorsDType t) noexcept {
  return info(t).bytes;
}

std::int64_t SafetensorsTensor::elements() const noexcept {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

const SafetensorsTensor* SafetensorsIndex::find(std::string_view name) const noexcept {
  for (const SafetensorsTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

SafetensorsIndex parse_safetensors_header(std::string_view text, std::uint64_t header_bytes,
                                          std::uint64_t data_bytes, const std::string& who) {
  auto fail = [&](const std::string& why) -> void {
    throw InputError("safetensors file " + who + ": " + why);
  };
  using json = nlohmann::json;
  // Duplicate names: JSON allows them, the format does not (the last would silently win).
  std::set<std::string> names;
  std::string duplicate;
  json::parser_callback_t unique_names = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key && duplicate.empty() &&
        !names.insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text.begin(), text.end(), unique_names);
  } catch (const json::exception& e) {
    fail("its header is not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!duplicate.empty()) fail("tensor \"" + duplicate + "\" is named twice in its header");
  if (!header.is_object()) fail("its header is not a JSON object");

  SafetensorsIndex index;
  index.header_bytes = header_bytes;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) fail("\"__metadata__\" is not an object of strings");
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (!m.value().is_string())
          fail("\"__metadata__\" value of \"" + m.key() + "\" is not a string");
        index.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor \"" + name + "\"";
    if (!entry.is_object() || entry.size() != 3 || !entry.contains("dtype") ||
        !entry.contains("shape") || !entry.contains("data_offsets")) {
      fail(where + ": expected an object of exactly \"dtype\", \"shape\" and \"data_offsets\"");
    }
    SafetensorsTensor t;
    t.name = name;
    const json& dtype = entry["dtype"];
    const DTypeInfo* found = nullptr;
    if (dtype.is_string()) {
      for (const DTypeInfo& d : kDTypes)
        if (dtype.get<std::string>() == d.name) found = &d;
    }
    if (found == nullptr)
      fail(where + ": dtype " + dtype.dump() + " is not one of " + known_dtypes());
    t.dtype = found->type;
    const json& shape = entry["shape"];
    if (!shape.is_array()) fail(where + ": \"shape\" is not an array");
    std::uint64_t bytes = found->bytes;
    for (const json& d : shape) {
      if (!d.is_number_unsigned() ||
          d.get<std::uint64_t>() >
              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail(where + ": shape " + shape.dump() +
             " holds a size that is not a non-negative integer");
      const std::uint64_t size = d.get<std::uint64_t>();
      if (size != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / size)
        fail(where + ": shape " + shape.dump() + " is too large");
      bytes *= size;
      t.shape.push_back(static_cast<std::int64_t>(size));
    }
    const json& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      fail(where + ": \"data_offsets\" is not [begin, end] of non-negative integers");
    t.begin = offsets[0].get<std::uint64_t>();
    t.end = offsets[1].get<std::uint64_t>();
    if (t.begin > t.end || t.end > data_bytes) {
      fail(where + ": data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
           "] are not within the file's " + std::to_string(data_bytes) + " bytes of data");
    }
    if (t.end - t.begin != bytes) {
      fail(where + ": " + std::string(found->name) + " " + shape.dump() + " is " +
           std::to_string(bytes) + " bytes, but its data_offsets span " +
           std::to_string(t.end - t.begin));
    }
    index.tensors.push_back(std::move(t));
  }
  std::sort(index.tensors.begin(), index.tensors.end(),
            [](const SafetensorsTensor& a, const SafetensorsTensor& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  std::uint64_t at = 0;
  for (const SafetensorsTensor& t : index.tensors) {
    if (t.begin < at) fail("tensor \"" + t.name + "\" overlaps the tensor before it in the data");
    if (t.begin > at) {
      fail("bytes [" + std::to_string(at) + ", " + std::to_string(t.begin) +
           ") of the data belong to no tensor");
    }
    at = t.end;
  }
  if (at != data_bytes) {
    fail("bytes [" + std::to_string(at) + ", " + std::to_string(data_bytes) +
         ") of the data belong to no tensor");
  }
  return index;
}

SafetensorsIndex read_safetensors_index(std::istream& in, std::uint64_t size,
                                        const std::string& who) {
  unsigned char length[8];
  if (size < 8 || !in.read(reinterpret_cast<char*>(length), 8))
    throw InputError("safetensors file " + who + ": shorter than its 8-byte header length");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | length[i];
  if (n > kSafetensorsMaxHeader || n > size - 8) {
    throw InputError(
        "safetensors file " + who + ": its header length " + std::to_string(n) + " is past " +
        (n > kSafetensorsMaxHeader ? "the format's limit of 100 MB"
                                   : "the file's end (" + std::to_string(size) + " bytes)"));
  }
  std::string header(static_cast<std::size_t>(n), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(n)))
    throw InputError("safetensors file " + who + ": cannot read its header");
  return parse_safetensors_header(header, n, size - 8 - n, who);
}

SafetensorsFile::SafetensorsFile(std::filesystem::path path) : path_(std::move(path)) {
  const std::string who = path_.string();
  std::ifstream in(path_, std::ios::binary);
  if (!in) throw InputError("safetensors file " + who + ": cannot be opened");
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(path_, ec);
  if (ec) throw InputError("safetensors file " + who + ": " + ec.message());
  index_ = read_safetensors_index(in, size, who);
}

std::vector<float> SafetensorsFile::read_f32(const SafetensorsTensor& t) const {
  const std::string who = path_.string();
  const std::size_t count = static_cast<std::size_t>(t.elements());
  if (count == 0) return {};  // nothing to read (and no buffer to copy into)
  std::string raw(static_cast<std::size_t>(t.end - t.begin), '\0');
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(8 + index_.header_bytes + t.begin));
  if (!in || !in.read(raw.data(), static_cast<std::streamsize>(raw.size())))
    throw InputError("safetensors file " + who + ": cannot read tensor \"" + t.name + "\"");
  std::vector<float> out(count);
  const char* p = raw.data();
  switch (t.dtype) {
    case SafetensorsDType::f32:
      std::memcpy(out.data(), p, count * 4);
      break;
    case SafetensorsDType::f64:
      for (std::size_t i = 0; i < count; ++i) {
        double v;
        std::memcpy(&v, p + 8 * i, 8);
        out[i] = static_cast<float>(v);
      }
      break;
    case SafetensorsDType::bf16:
    case SafetensorsDType::f16:
      for (std::size_t i = 0; i < count; ++i) {
        std::uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        out[i] = t.dtype == SafetensorsDType::bf16
                     ? std::bit_cast<float>(static_cast<std::uint32_t>(v) << 16)
                     : half_to_float(v);
      }
      break;
    default:
      throw InputError("safetensors file " + who + ": tensor \"" + t.name + "\" is " +
                       safetensors_dtype_name(t.dtype) +
                       ", not a floating-point dtype Trellis reads (F32, F16, BF16, F64)");
  }
  return out;
}

}  // namespace trellis
