#include "plugin/plugin_call.h"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <typeinfo>

#include "trellis/error.h"

namespace trellis::plugin_detail {

namespace {

std::string demangled(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

std::string kind_phrase(PluginKind kind) {
  switch (kind) {
    case PluginKind::comm:
      return "comm backend";
    case PluginKind::layers:
      return "layer family";
    case PluginKind::schedule:
      return "schedule";
    case PluginKind::context:
      return "context attention";
    case PluginKind::dispatcher:
      return "token dispatcher";
  }
  return "plugin";
}

}  // namespace

std::string plugin_label(const PluginInfo& info) {
  return kind_phrase(info.kind) + " '" + info.name + "' (" + info.file.filename().string() + ")";
}

void rethrow_from_plugin(std::string_view where_text) {
  const std::string where = std::string(where_text) + " threw ";
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (abi::__forced_unwind&) {
    throw;  // a thread being cancelled: not an error to report
  } catch (const std::exception& e) {
    throw Error(where + demangled(typeid(e)) + ": " + e.what());
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    throw Error(where + (type ? demangled(*type) : std::string("an unknown exception")) +
                ", which is not a std::exception");
  }
}

}  // namespace trellis::plugin_detail
