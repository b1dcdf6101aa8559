// A path as a message shows it: absolute (against the working directory) and normalised. A
// relative path in a message is only as clear as the reader's guess of where it was resolved
// from; "no such file: /home/me/trellis/configs/data/x.txt" needs no guess.
#pragma once

#include <filesystem>
#include <string>

namespace trellis {

// `path` unchanged when the working directory cannot be read.
std::string absolute_path_text(const std::filesystem::path& path);

}  // namespace trellis
