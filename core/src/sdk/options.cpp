// Options: a plugin's config table. Values were checked against the plugin's OptionSpecs when the
// config was read, so a getter that finds a value of another type is a programming error.
#include <string>

#include "trellis/config.h"
#include "trellis/error.h"

namespace trellis {

const char* option_type_name(OptionType type) noexcept {
  switch (type) {
    case OptionType::boolean:
      return "boolean";
    case OptionType::integer:
      return "integer";
    case OptionType::number:
      return "number";
    case OptionType::string:
      return "string";
    case OptionType::path:
      return "path";
  }
  return "?";
}

namespace {

template <class T>
const T& typed(const std::map<std::string, OptionValue>& values, const std::string& key,
               const char* wanted) {
  const OptionValue& v = values.at(key);
  if (const T* p = std::get_if<T>(&v)) return *p;
  throw Error("option '" + key + "' is not a " + wanted);
}

}  // namespace

bool Options::get_bool(const std::string& key, bool fallback) const {
  return has(key) ? typed<bool>(values_, key, "boolean") : fallback;
}

std::int64_t Options::get_int(const std::string& key, std::int64_t fallback) const {
  return has(key) ? typed<std::int64_t>(values_, key, "integer") : fallback;
}

double Options::get_number(const std::string& key, double fallback) const {
  if (!has(key)) return fallback;
  if (const auto* i = std::get_if<std::int64_t>(&values_.at(key))) return static_cast<double>(*i);
  return typed<double>(values_, key, "number");
}

std::string Options::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? typed<std::string>(values_, key, "string") : fallback;
}

}  // namespace trellis
