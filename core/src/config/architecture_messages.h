// The words of the config check's messages about an architecture other than GPT-2's
// (model_architecture_check.cpp, architecture_family_check.cpp).
#pragma once

#include <string>

#include "config/check_context.h"
#include "config/run_config.h"
#include "trellis/config.h"

namespace trellis {

// The key that makes the architecture another than GPT-2's: model.arch when it names another
// preset, else the first key set to something GPT-2's block does not compute.
std::string non_gpt2_key(const ModelSection& m, const ModelArchitecture& a);
// "model.arch = \"llama\" asks for another architecture than GPT-2's".
std::string non_gpt2_phrase(const CheckContext& ctx, const std::string& key);
// How to get GPT-2's architecture back: "arch = \"gpt2\"" or "remove model.norm (...)".
std::string gpt2_remedy(const std::string& key);

}  // namespace trellis
