// A strict reader for the JSON trellis-bench writes: a list of flat objects whose values are
// strings, numbers, booleans or null. Enough to prove a file is valid JSON of that shape (any
// other JSON, nesting included, is rejected) without a JSON library in the build.
#pragma once

#include <map>
#include <string>
#include <variant>
#include <vector>

namespace trellis::test {

using JsonValue = std::variant<std::nullptr_t, bool, double, std::string>;
using JsonObject = std::map<std::string, JsonValue>;

// Throws std::runtime_error saying where the text stops being such a list.
std::vector<JsonObject> parse_flat_json_list(const std::string& text);

}  // namespace trellis::test
