// What the trainer tests run on: a text corpus with structure a tiny model learns in a few steps,
// and an empty directory per test to run in.
#pragma once

#include <filesystem>
#include <string>

namespace trellis::test {

// `lines` lines of "the quick brown fox jumps over the lazy dog <i % 7>." (about 46 bytes each).
void write_fox_corpus(const std::filesystem::path& file, int lines = 300);

// `root`/`name`, removed first and made again, empty.
std::filesystem::path empty_dir(const std::filesystem::path& root, const std::string& name);

}  // namespace trellis::test
