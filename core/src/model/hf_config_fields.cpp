#include "model/hf_config_fields.h"

#include "trellis/error.h"

namespace trellis::hf_fields {

std::string shown(const nlohmann::json& value) {
  return value.dump();
}

std::string model_type(const nlohmann::json& config, const std::string& who) {
  if (!config.contains("model_type")) return "";
  if (!config["model_type"].is_string())
    throw InputError(who + ": \"model_type\" is " + shown(config["model_type"]) +
                     "; valid: a string such as \"gpt2\"");
  return config["model_type"].get<std::string>();
}

void refuse_model_type(const std::string& type, const std::string& valid, const std::string& who) {
  throw InputError(who + ": \"model_type\" is " +
                   (type.empty() ? std::string("missing") : "\"" + type + "\"") +
                   "; valid: " + valid);
}

std::int64_t positive_int(const nlohmann::json& config, const char* key, const std::string& who,
                          const std::string& sizes) {
  if (!config.contains(key)) {
    throw InputError(who + ": no \"" + key + "\"; valid: a positive integer (" + sizes + ")");
  }
  const nlohmann::json& v = config[key];
  if (!v.is_number_integer() || v.get<std::int64_t>() < 1 ||
      v.get<std::int64_t>() > std::int64_t{2147483647}) {
    throw InputError(who + ": \"" + key + "\" is " + shown(v) + "; valid: a positive integer");
  }
  return v.get<std::int64_t>();
}

void require(const nlohmann::json& config, const char* key, const std::set<nlohmann::json>& valid,
             const std::string& valid_text, const std::string& who, const std::string& model) {
  if (!config.contains(key)) return;
  const nlohmann::json& v = config[key];
  if (valid.count(v) != 0) return;
  throw InputError(who + ": \"" + key + "\" is " + shown(v) + ", which " + model +
                   " does not compute; valid: " + valid_text);
}

}  // namespace trellis::hf_fields
