// The boundary where core calls a plugin's code: its factory, its check hook, and every call on
// the objects it made (the registry hands out proxies that go through here, guarded_*.h).
//
// An exception that is a trellis::Error passes unchanged: its class decides the exit code and its
// message is written for the user. Anything else escaping a plugin — std::out_of_range,
// std::bad_alloc, a class of the plugin's own — is a bug or a resource failure inside it, and its
// what() alone does not say where: it becomes a trellis::Error naming the plugin, its file, the
// call and the exception's type ("layer family '1d' (libtrellis_layers_1d.so): forward of
// h.3.attn threw std::out_of_range: vector::_M_range_check: ..."). The message is copied out
// while the plugin is loaded, so nothing of the plugin's exception outlives the call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "trellis/plugin_registry.h"

namespace trellis::plugin_detail {

// "layer family '1d' (libtrellis_layers_1d.so)", for the messages.
std::string plugin_label(const PluginInfo& info);

// Whose code a guarded object runs: the plugin's label, for the messages, and its library, which
// everything the object makes in turn (a family's layers, a communicator's operations in flight
// and the communicators it splits) keeps loaded for as long as it lives — without keeping its
// maker alive, whose lifetime stays with whoever holds it.
struct PluginOwner {
  std::string label;
  std::shared_ptr<const void> library;
  // The ABI minor the plugin was built against: core calls no virtual appended after it.
  std::uint32_t abi_minor = 0;
};
using PluginOwnerPtr = std::shared_ptr<const PluginOwner>;

// Called from a catch block: rethrows a trellis::Error as it is, anything else as a
// trellis::Error saying `where` ("layer family '1d' (libtrellis_layers_1d.so): forward of h.3")
// threw it.
[[noreturn]] void rethrow_from_plugin(std::string_view where);

// f(), with exceptions escaping it as above. `where()` makes the text only when one does: the
// calls are on training's hot path.
template <class Where, class F>
decltype(auto) plugin_call(Where&& where, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (...) {
    rethrow_from_plugin(std::forward<Where>(where)());
  }
}

}  // namespace trellis::plugin_detail
