#include "plugin/descriptor_check.h"

#include <cstring>
#include <string>

namespace trellis::plugin_detail {

namespace {

bool is_known_kind(PluginKind kind) {
  return kind == PluginKind::comm || kind == PluginKind::layers || kind == PluginKind::schedule ||
         kind == PluginKind::context || kind == PluginKind::dispatcher;
}

std::string abi_problem(AbiVersion abi) {
  if (abi.major != kAbiVersion.major) {
    return "built for Trellis plugin ABI " + abi_string(abi) + ", this Trellis core " +
           core_version() + " has ABI " + abi_string(kAbiVersion) +
           ": rebuild the plugin against this Trellis";
  }
  if (abi.minor > kAbiVersion.minor) {
    return "built for Trellis plugin ABI " + abi_string(abi) + ", newer than this Trellis core " +
           core_version() + " (ABI " + abi_string(kAbiVersion) +
           "): rebuild the plugin against this Trellis, or upgrade Trellis";
  }
  return {};
}

// The factories a descriptor sets, as the names of their fields.
std::string factories_set(const PluginDescriptor& d) {
  std::string names;
  auto add = [&](bool set, const char* name) {
    if (!set) return;
    if (!names.empty()) names += ", ";
    names += name;
  };
  add(d.make_comm != nullptr, "make_comm");
  add(d.make_layers != nullptr, "make_layers");
  add(d.make_schedule != nullptr, "make_schedule");
  // An appended factory is read only from plugins whose ABI has it.
  if (d.abi.minor >= 1) add(d.make_context != nullptr, "make_context");
  if (d.abi.minor >= 4) add(d.make_dispatcher != nullptr, "make_dispatcher");
  return names;
}

const char* factory_field(PluginKind kind) {
  switch (kind) {
    case PluginKind::comm:
      return "make_comm";
    case PluginKind::layers:
      return "make_layers";
    case PluginKind::schedule:
      return "make_schedule";
    case PluginKind::context:
      return "make_context";
    case PluginKind::dispatcher:
      return "make_dispatcher";
  }
  return "?";
}

bool has_factory(const PluginDescriptor& d, PluginKind kind) {
  switch (kind) {
    case PluginKind::comm:
      return d.make_comm != nullptr;
    case PluginKind::layers:
      return d.make_layers != nullptr;
    case PluginKind::schedule:
      return d.make_schedule != nullptr;
    case PluginKind::context:
      return d.abi.minor >= 1 && d.make_context != nullptr;
    case PluginKind::dispatcher:
      return d.abi.minor >= 4 && d.make_dispatcher != nullptr;
  }
  return false;
}

}  // namespace

std::string abi_string(AbiVersion abi) {
  return std::to_string(abi.major) + "." + std::to_string(abi.minor);
}

bool is_valid_plugin_name(const char* name) {
  if (name == nullptr || *name == '\0') return false;
  for (const char* c = name; *c != '\0'; ++c) {
    const bool letter_or_digit = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9');
    if (!letter_or_digit && (c == name || (*c != '_' && *c != '-'))) return false;
  }
  return true;
}

std::string descriptor_problem(const PluginDescriptor& d) {
  // The frozen prefix first: it is laid out the same in every ABI, so it is safe to read.
  if (std::string abi = abi_problem(d.abi); !abi.empty()) return abi;
  if (d.name == nullptr || *d.name == '\0') {
    return "the descriptor has no name: set PluginDescriptor::name to the name configs will use";
  }
  if (!is_valid_plugin_name(d.name)) {
    return std::string("the name '") + d.name +
           "' is not valid: use lower-case letters, digits, '_' and '-', starting with a letter "
           "or digit";
  }
  if (!is_known_kind(d.kind)) {
    return "the descriptor declares plugin kind " +
           std::to_string(static_cast<std::uint32_t>(d.kind)) +
           ", which this Trellis does not know (comm = 1, layers = 2, schedule = 3, context = 4, "
           "dispatcher = 5)";
  }
  // From here on the fields of ABI 1.0, which every loadable plugin has.
  const std::string kind = plugin_kind_name(d.kind);
  const std::string set = factories_set(d);
  if (!has_factory(d, d.kind)) {
    std::string problem =
        "declares kind " + kind + " but has no " + factory_field(d.kind) + " factory";
    if (!set.empty()) problem += " (it sets " + set + " instead)";
    return problem + ": a plugin sets exactly the factory of its kind";
  }
  if (set != factory_field(d.kind)) {
    return "declares kind " + kind + " but sets " + set +
           ": a plugin provides exactly one factory, the one of its kind";
  }
  if (d.option_count != 0 && d.options == nullptr) {
    return "the descriptor says it has " + std::to_string(d.option_count) +
           " options but gives no OptionSpec array";
  }
  for (std::size_t i = 0; i < d.option_count; ++i) {
    if (d.options[i].key == nullptr || *d.options[i].key == '\0') {
      return "option number " + std::to_string(i + 1) + " has no key";
    }
  }
  // ABI 2.0's field.
  if (d.launch != LaunchNeed::any && d.launch != LaunchNeed::mpirun) {
    return "the descriptor declares launch need " +
           std::to_string(static_cast<std::uint32_t>(d.launch)) +
           ", which this Trellis does not know (any = 0, mpirun = 1)";
  }
  return {};
}

}  // namespace trellis::plugin_detail
