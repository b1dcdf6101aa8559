// What the config.json readers of Hugging Face's families (hf_gpt2_config.h, hf_llama_config.h)
// share: a value as an error quotes it, the model_type, a required size, and a key that must hold
// what Trellis computes. Each failure is an InputError naming `who` (the file) and the key.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace trellis::hf_fields {

// config.json's text for a value, as an error quotes it.
std::string shown(const nlohmann::json& value);

// The model_type of a config.json ("" when it has none).
std::string model_type(const nlohmann::json& config, const std::string& who);

// The InputError for a config.json whose model_type is `type` ("": none), `valid` saying which
// are read: "<who>: \"model_type\" is \"bert\"; valid: <valid>".
[[noreturn]] void refuse_model_type(const std::string& type, const std::string& valid,
                                    const std::string& who);

// config[key]: an integer from 1 to 2^31 - 1. `sizes` says which sizes the family's config.json
// has, for the message when the key is missing.
std::int64_t positive_int(const nlohmann::json& config, const char* key, const std::string& who,
                          const std::string& sizes);

// When config.json has `key`, it holds one of `valid` (absent: Hugging Face's default, which is
// Trellis's); otherwise "..., which `model` does not compute; valid: `valid_text`".
void require(const nlohmann::json& config, const char* key, const std::set<nlohmann::json>& valid,
             const std::string& valid_text, const std::string& who, const std::string& model);

}  // namespace trellis::hf_fields
