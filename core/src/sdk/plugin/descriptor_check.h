// Checking a plugin's descriptor before anything in it is called.
#pragma once

#include <string>

#include "trellis/plugin.h"

namespace trellis::plugin_detail {

// "" when core can use the plugin; otherwise what is wrong with it and what to do, in words for
// the user (without the file name, which the caller adds). Reads the fields after the frozen
// prefix only when the plugin's ABI says they are there.
std::string descriptor_problem(const PluginDescriptor& descriptor);

// True for the names a config can write: lower-case letters, digits, '_' and '-', starting with a
// letter or digit.
bool is_valid_plugin_name(const char* name);

// "1.0"
std::string abi_string(AbiVersion abi);

}  // namespace trellis::plugin_detail
