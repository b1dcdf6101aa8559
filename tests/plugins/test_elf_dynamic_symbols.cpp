// The reading of a library's dynamic symbols before it is loaded (plugin/elf_dynamic_symbols):
// the descriptor found in plugins, stripped ones included; files that are not libraries, and
// libraries cut short or with headers pointing outside the file, refused with a reason and never
// read beyond (the sanitizer build checks the "never").
#include <elf.h>

#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "plugin/elf_dynamic_symbols.h"
#include "registry_test_support.h"

namespace trellis::test {

namespace {

using plugin_detail::defines_dynamic_symbol;
using plugin_detail::NotASharedLibrary;

std::vector<char> read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::filesystem::path write_bytes(const std::string& name, const char* data, std::size_t size) {
  const std::filesystem::path dir = plugin_root() / "elf-work";
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / name;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(data, static_cast<std::streamsize>(size));
  REQUIRE(out);
  return file;
}

// The reason defines_dynamic_symbol gives for refusing `file`, or "" when it reads it.
std::string refusal_of(const std::filesystem::path& file) {
  try {
    (void)defines_dynamic_symbol(file, "trellis_plugin");
  } catch (const NotASharedLibrary& e) {
    return e.what();
  }
  return {};
}

// The section header of the dynamic symbol table in a copy of a library's bytes.
Elf64_Shdr* dynamic_symbol_section(std::vector<char>& bytes) {
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof header);
  for (std::size_t i = 0; i < header.e_shnum; ++i) {
    auto* section =
        reinterpret_cast<Elf64_Shdr*>(bytes.data() + header.e_shoff + i * sizeof(Elf64_Shdr));
    if (section->sh_type == SHT_DYNSYM) return section;
  }
  FAIL("the test plugin has no dynamic symbol table");
  return nullptr;
}

}  // namespace

TEST_CASE("a plugin's dynamic symbol table names its descriptor, and only what it defines") {
  const std::filesystem::path solo = plugin_file(good_dir(), "comm", "solo");
  CHECK(defines_dynamic_symbol(solo, "trellis_plugin"));
  CHECK_FALSE(defines_dynamic_symbol(solo, "trellis_plugin_"));
  CHECK_FALSE(defines_dynamic_symbol(solo, "trellis_plugi"));
  // Imported, not defined: every C++ library refers to operator delete.
  CHECK_FALSE(defines_dynamic_symbol(solo, "_ZdlPvm"));
  CHECK_FALSE(defines_dynamic_symbol(good_dir() / "libnot_a_plugin.so", "trellis_plugin"));
}

TEST_CASE("a stripped plugin is found like any other") {
  const std::filesystem::path stripped = plugin_file(stripped_dir(), "comm", "solo");
  CHECK(defines_dynamic_symbol(stripped, "trellis_plugin"));
  const PluginRegistry registry = PluginRegistry::discover({from_env(stripped_dir())});
  REQUIRE(registry.plugins().size() == 1);
  CHECK(registry.plugins()[0].name == "solo");
  CHECK(registry.plugins()[0].file == stripped);
  CHECK(registry.plugins()[0].problem.empty());
}

TEST_CASE("a file that is not a 64-bit shared library is refused with the reason") {
  CHECK(contains(refusal_of(good_dir() / "junk.so"), "not an ELF file"));
  const std::string nothing;
  CHECK(contains(refusal_of(write_bytes("empty.so", nothing.data(), 0)), "not an ELF file"));

  std::vector<char> bytes = read_bytes(plugin_file(good_dir(), "comm", "solo"));
  std::vector<char> elf32 = bytes;
  elf32[EI_CLASS] = ELFCLASS32;
  CHECK(contains(refusal_of(write_bytes("elf32.so", elf32.data(), elf32.size())), "32-bit"));
  std::vector<char> executable = bytes;
  const Elf64_Half exec_type = ET_EXEC;
  std::memcpy(executable.data() + offsetof(Elf64_Ehdr, e_type), &exec_type, sizeof exec_type);
  CHECK(contains(refusal_of(write_bytes("exec.so", executable.data(), executable.size())),
                 "not a shared library"));
}

TEST_CASE("headers that point outside the file are refused, not followed") {
  const std::vector<char> bytes = read_bytes(plugin_file(good_dir(), "comm", "solo"));

  SUBCASE("a string table that runs past the end") {
    std::vector<char> damaged = bytes;
    Elf64_Shdr* symbols = dynamic_symbol_section(damaged);
    auto* strings = reinterpret_cast<Elf64_Shdr*>(
        damaged.data() + reinterpret_cast<const Elf64_Ehdr*>(damaged.data())->e_shoff +
        symbols->sh_link * sizeof(Elf64_Shdr));
    strings->sh_size = damaged.size();
    CHECK(contains(refusal_of(write_bytes("long-strings.so", damaged.data(), damaged.size())),
                   "the file ends before the end of its dynamic string table"));
  }
  SUBCASE("a symbol table linked to a section that does not exist") {
    std::vector<char> damaged = bytes;
    dynamic_symbol_section(damaged)->sh_link = 0xffff;
    CHECK(contains(refusal_of(write_bytes("no-strings.so", damaged.data(), damaged.size())),
                   "names no string table"));
  }
  SUBCASE("section headers past the end") {
    std::vector<char> damaged = bytes;
    const Elf64_Off far = damaged.size() - 8;
    std::memcpy(damaged.data() + offsetof(Elf64_Ehdr, e_shoff), &far, sizeof far);
    CHECK(contains(refusal_of(write_bytes("far-sections.so", damaged.data(), damaged.size())),
                   "the file ends before the end of its section headers"));
  }
}

TEST_CASE("a library cut short anywhere is refused or read within its bytes") {
  const std::vector<char> bytes = read_bytes(plugin_file(good_dir(), "comm", "solo"));
  // Every length up to the ELF header, then steps through the rest: the section headers sit at
  // the end, so every cut below the full size loses them.
  for (std::size_t size = 0; size < bytes.size(); size += size < sizeof(Elf64_Ehdr) ? 1 : 997) {
    CAPTURE(size);
    const std::string reason = refusal_of(write_bytes("cut.so", bytes.data(), size));
    CHECK(contains(reason, "not a shared library"));
  }
  CHECK(refusal_of(write_bytes("whole.so", bytes.data(), bytes.size())).empty());
}

}  // namespace trellis::test
