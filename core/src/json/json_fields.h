// Reading JSON documents that people and other programs write (checkpoint manifests, trellis-bench
// and trellis-train output): nlohmann::json parses; these give the typed reads an error message
// can be built from, "expected an integer, got a string", and parse errors as "line 3, column
// 7: ...". Callers add the file and the field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace trellis::json {

using Value = nlohmann::json;  // what is read (objects keyed by name)

// Throws std::runtime_error "line L, column C: <what is wrong>" when `text` is not one JSON value
// (strictly RFC 8259: UTF-8, no comments, nothing after the value), or "number overflow parsing
// '1e999'" for a number past a double's range.
Value parse(std::string_view text);
// As parse, and a name given twice in one object is an error too ("name \"x\" is given twice in
// one object"): JSON allows it, and the parser keeps the last, but in a file that means one value
// a name (a vocabulary) the second is a mistake the reader should hear of.
Value parse_unique_names(std::string_view text);

// "an integer", "a string", ... as messages name the type of `value`.
const char* type_name(const Value& value);

// Each throws std::runtime_error "expected <type>, got <type>" when `value` is not of the type.
bool to_bool(const Value& value);
std::int64_t to_int(const Value& value);  // an integer, or a number with an integral value
double to_number(const Value& value);
const std::string& to_string(const Value& value);
const Value::array_t& items(const Value& value);
// The member `key` of an object; throws "expected an object, ..." or "no field 'key'".
const Value& at(const Value& object, std::string_view key);
// The member `key`, or nullptr when `object` is no object or has no such member.
const Value* find(const Value& object, std::string_view key);

}  // namespace trellis::json
