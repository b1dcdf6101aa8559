#include "json/json_fields.h"

#include <cmath>
#include <set>
#include <stdexcept>
#include <vector>

namespace trellis::json {

namespace {

[[noreturn]] void wrong_type(const char* wanted, const Value& got) {
  throw std::runtime_error(std::string("expected ") + wanted + ", got " + type_name(got));
}

// Parses with nlohmann's parser, its errors rephrased as parse() promises.
template <typename Parse>
Value parse_with(Parse&& parse) {
  try {
    return parse();
  } catch (const Value::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 2, column 9: syntax error ...":
    // the position and the reason, without the library's prefix.
    std::string what = e.what();
    const std::string_view marker = " at line ";
    if (const std::size_t at = what.find(marker); at != std::string::npos) {
      what = what.substr(at + 4);
    } else if (const std::size_t colon = what.find("] "); colon != std::string::npos) {
      what = "byte " + std::to_string(e.byte) + ": " + what.substr(colon + 2);
    }
    throw std::runtime_error(what);
  } catch (const Value::exception& e) {
    // The parser reports a number too large for a double as out_of_range.406, not as a parse
    // error ("number overflow parsing '1e999'"); found by fuzz_manifest.
    const std::string what = e.what();
    const std::size_t colon = what.find("] ");
    throw std::runtime_error(colon == std::string::npos ? what : what.substr(colon + 2));
  }
}

}  // namespace

Value parse(std::string_view text) {
  return parse_with([&] { return Value::parse(text.begin(), text.end()); });
}

Value parse_unique_names(std::string_view text) {
  // The names of each object being read, innermost last.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  Value::parser_callback_t check = [&](int, Value::parse_event_t event, Value& parsed) {
    if (event == Value::parse_event_t::object_start) open_objects.emplace_back();
    if (event == Value::parse_event_t::object_end) open_objects.pop_back();
    if (event == Value::parse_event_t::key && duplicate.empty() &&
        !open_objects.back().insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  Value value = parse_with([&] { return Value::parse(text.begin(), text.end(), check); });
  if (!duplicate.empty()) {
    throw std::runtime_error("name " + Value(duplicate).dump() + " is given twice in one object");
  }
  return value;
}

const char* type_name(const Value& value) {
  switch (value.type()) {
    case Value::value_t::null:
      return "null";
    case Value::value_t::boolean:
      return "a boolean";
    case Value::value_t::number_integer:
    case Value::value_t::number_unsigned:
      return "an integer";
    case Value::value_t::number_float:
      return "a number";
    case Value::value_t::string:
      return "a string";
    case Value::value_t::array:
      return "an array";
    case Value::value_t::object:
      return "an object";
    case Value::value_t::binary:
    case Value::value_t::discarded:
      break;
  }
  return "something else";
}

bool to_bool(const Value& value) {
  if (!value.is_boolean()) wrong_type("a boolean", value);
  return value.get<bool>();
}

std::int64_t to_int(const Value& value) {
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    return value.get<std::int64_t>();
  }
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(INT64_MAX)) {
      throw std::runtime_error("integer " + std::to_string(v) + " is out of range");
    }
    return static_cast<std::int64_t>(v);
  }
  if (value.is_number_float()) {
    // 2.0 or 1e3 are integers written another way; 2.5 is not, and neither is a value past
    // 2^53, where a double no longer holds every integer.
    const double v = value.get<double>();
    if (std::floor(v) == v && std::abs(v) < 9e15) return static_cast<std::int64_t>(v);
  }
  wrong_type("an integer", value);
}

double to_number(const Value& value) {
  if (!value.is_number()) wrong_type("a number", value);
  return value.get<double>();
}

const std::string& to_string(const Value& value) {
  if (!value.is_string()) wrong_type("a string", value);
  return value.get_ref<const std::string&>();
}

const Value::array_t& items(const Value& value) {
  if (!value.is_array()) wrong_type("an array", value);
  return value.get_ref<const Value::array_t&>();
}

const Value& at(const Value& object, std::string_view key) {
  if (!object.is_object()) wrong_type("an object", object);
  if (const Value* member = find(object, key)) return *member;
  throw std::runtime_error("no field '" + std::string(key) + "'");
}

const Value* find(const Value& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

}  // namespace trellis::json
