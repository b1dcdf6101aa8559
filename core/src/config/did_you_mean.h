// "Did you mean ...?" for misspelt keys, sections, options and flags.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

// Edits (insert, delete, substitute, swap two neighbours) turning `a` into `b`, ignoring case.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, when it is close enough to be the likely intent: at most a
// third of the word's length in edits (at least one), or a prefix of it or it of the word.
// Ties go to the earlier candidate.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" — ready to append to a message.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace trellis
