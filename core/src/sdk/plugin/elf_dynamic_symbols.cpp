#include "plugin/elf_dynamic_symbols.h"

#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace trellis::plugin_detail {

namespace {

[[noreturn]] void refuse(const std::string& why) {
  throw NotASharedLibrary("not a shared library (" + why + ")");
}

// `count` items of T at `offset` in the file, refused unless they lie wholly inside it.
template <class T>
std::vector<T> read_items(std::ifstream& in, std::uint64_t file_size, std::uint64_t offset,
                          std::uint64_t count, const char* what) {
  if (offset > file_size || count > (file_size - offset) / sizeof(T)) {
    refuse(std::string("the file ends before the end of its ") + what);
  }
  std::vector<T> items(count);
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(reinterpret_cast<char*>(items.data()), static_cast<std::streamsize>(count * sizeof(T)));
  if (!in) refuse(std::string("reading its ") + what + " failed");
  return items;
}

Elf64_Ehdr read_header(std::ifstream& in, std::uint64_t file_size) {
  Elf64_Ehdr header{};
  in.read(reinterpret_cast<char*>(&header),
          static_cast<std::streamsize>(std::min<std::uint64_t>(file_size, sizeof header)));
  if (file_size < SELFMAG || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
    refuse("not an ELF file");
  }
  if (header.e_ident[EI_CLASS] != ELFCLASS64) refuse("a 32-bit ELF file; plugins are 64-bit");
  if (file_size < sizeof header) refuse("its ELF header is cut short");
  if (header.e_type != ET_DYN) refuse("an ELF file, but not a shared library");
  if (header.e_shnum > 0 && header.e_shentsize != sizeof(Elf64_Shdr)) {
    refuse("its section headers have an unknown size");
  }
  return header;
}

}  // namespace

bool defines_dynamic_symbol(const std::filesystem::path& file, std::string_view name) {
  std::error_code error;
  const std::uint64_t file_size = std::filesystem::file_size(file, error);
  if (error) refuse(error.message());
  std::ifstream in(file, std::ios::binary);
  if (!in) refuse("it cannot be opened");

  const Elf64_Ehdr header = read_header(in, file_size);
  const std::vector<Elf64_Shdr> sections =
      read_items<Elf64_Shdr>(in, file_size, header.e_shoff, header.e_shnum, "section headers");
  const Elf64_Shdr* symbol_table = nullptr;
  for (const Elf64_Shdr& section : sections) {
    if (section.sh_type == SHT_DYNSYM) symbol_table = &section;
  }
  if (symbol_table == nullptr) return false;  // exports nothing
  if (symbol_table->sh_entsize != sizeof(Elf64_Sym)) {
    refuse("its dynamic symbols have an unknown size");
  }
  if (symbol_table->sh_link >= sections.size() ||
      sections[symbol_table->sh_link].sh_type != SHT_STRTAB) {
    refuse("its dynamic symbol table names no string table");
  }
  const Elf64_Shdr& string_table = sections[symbol_table->sh_link];

  const std::vector<Elf64_Sym> symbols =
      read_items<Elf64_Sym>(in, file_size, symbol_table->sh_offset,
                            symbol_table->sh_size / sizeof(Elf64_Sym), "dynamic symbol table");
  const std::vector<char> names = read_items<char>(in, file_size, string_table.sh_offset,
                                                   string_table.sh_size, "dynamic string table");
  for (const Elf64_Sym& symbol : symbols) {
    const unsigned binding = ELF64_ST_BIND(symbol.st_info);
    if (symbol.st_shndx == SHN_UNDEF || (binding != STB_GLOBAL && binding != STB_WEAK)) continue;
    if (symbol.st_name >= names.size()) continue;
    // A name runs to its NUL, which must lie inside the table.
    const char* begin = names.data() + symbol.st_name;
    const void* end = std::memchr(begin, '\0', names.size() - symbol.st_name);
    if (end != nullptr && std::string_view(begin, static_cast<const char*>(end) - begin) == name) {
      return true;
    }
  }
  return false;
}

}  // namespace trellis::plugin_detail
