// Reading a tokenizer's files whole (a vocabulary is a few MB at most), with the failure as an
// InputError that names the file by its absolute path: "GPT-2 merges file /data/gpt2/merges.txt:
// cannot be read: No such file or directory; valid: ...".
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace trellis {

// "<what> <absolute path>", the start of every message about the file.
std::string tokenizer_file_label(std::string_view what, const std::filesystem::path& file);

// The file's bytes. `valid` ends the message when it cannot be read: what should be there.
std::string read_tokenizer_file(std::string_view what, const std::filesystem::path& file,
                                std::string_view valid);

}  // namespace trellis
