// Reading a shared library's dynamic symbol table from the file, without loading it.
//
// The plugin registry asks whether a library exports the plugin descriptor before it loads the
// library, so that one which is not a Trellis plugin never has its initialisers run. The dynamic
// symbol table (.dynsym, with the string table its sh_link names) is what dlsym searches, and
// `strip` keeps it, so one answer serves stripped and unstripped plugins alike.
//
// (Boost.DLL 1.74's library_info read .symtab's names from whichever string table came last in
// the file, usually the section names, past the end of what it had read: an out-of-bounds read
// AddressSanitizer reported on every plugin search.)
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string_view>

namespace trellis::plugin_detail {

// Thrown for a file that is not a 64-bit ELF shared library, or one whose headers point outside
// the file; what() says which, in words for the user.
class NotASharedLibrary : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// True when the library defines `name` (global or weak, not undefined) in its dynamic symbol
// table; false when it does not, or has no dynamic symbol table.
bool defines_dynamic_symbol(const std::filesystem::path& file, std::string_view name);

}  // namespace trellis::plugin_detail
