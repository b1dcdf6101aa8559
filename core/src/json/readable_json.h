// JSON that people read and diff: files Trellis writes for people as much as for programs
// (checkpoint manifests, trellis-plan --json, trellis-bench comm --json). nlohmann::ordered_json
// holds the document (members in the order the writer set them) and writes every string and
// number; this only lays the document out: two spaces of indent, and on one line an array of
// plain values ([128, 16]) or an object whose members are plain values or such arrays
// ({"file": "rank-00000.bin", "offset": [0, 0], ...}).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace trellis::json {

using Document = nlohmann::ordered_json;  // what is written (members in insertion order)

// The document laid out as above, with a final newline. Strings that are not UTF-8 are written
// with U+FFFD in place of the bad bytes rather than failing.
std::string readable_text(const Document& document);

// One line without spaces, no newline: one record of a JSON Lines file (metrics.jsonl) or one
// event of a trace.
std::string line_text(const Document& document);

}  // namespace trellis::json
