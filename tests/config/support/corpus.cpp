#include "support/corpus.h"

#include <fstream>

namespace trellis::test {

void write_fox_corpus(const std::filesystem::path& file, int lines) {
  std::ofstream out(file);
  for (int i = 0; i < lines; ++i)
    out << "the quick brown fox jumps over the lazy dog " << i % 7 << ".\n";
}

std::filesystem::path empty_dir(const std::filesystem::path& root, const std::string& name) {
  const std::filesystem::path dir = root / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace trellis::test
