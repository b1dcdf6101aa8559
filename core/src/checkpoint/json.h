// A small JSON value, reader and writer for checkpoint manifests. The manifest is the one JSON
// file core reads, and the repository has no JSON library; this covers RFC 8259 except \u escapes
// outside the basic plane, which a manifest (names, numbers, hex strings) never holds.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

class Json {
 public:
  enum class Type : std::uint8_t { null, boolean, integer, number, string, array, object };

  Json() = default;
  Json(bool b) : type_(Type::boolean), bool_(b) {}                     // NOLINT: implicit by design
  Json(int i) : type_(Type::integer), int_(i) {}                       // NOLINT
  Json(std::int64_t i) : type_(Type::integer), int_(i) {}              // NOLINT
  Json(double d) : type_(Type::number), number_(d) {}                  // NOLINT
  Json(const char* s) : type_(Type::string), string_(s) {}             // NOLINT
  Json(std::string s) : type_(Type::string), string_(std::move(s)) {}  // NOLINT
  static Json array() {
    Json j;
    j.type_ = Type::array;
    return j;
  }
  static Json object() {
    Json j;
    j.type_ = Type::object;
    return j;
  }

  Type type() const noexcept { return type_; }
  bool is_object() const noexcept { return type_ == Type::object; }

  // Accessors throw std::runtime_error saying what was expected ("expected an integer, got a
  // string"); the manifest reader adds the file and the field.
  bool as_bool() const;
  std::int64_t as_int() const;  // an integer, or a number with an integral value
  double as_number() const;
  const std::string& as_string() const;
  const std::vector<Json>& items() const;                            // array
  const std::vector<std::pair<std::string, Json>>& members() const;  // object, in written order
  const Json* find(std::string_view key) const;                      // object member or null
  const Json& at(std::string_view key) const;                        // throws "no field 'key'"

  Json& push(Json value);                  // array append
  Json& set(std::string key, Json value);  // object insert or replace

  // Indented two spaces, arrays of plain values on one line: small diffs, readable by people.
  std::string dump() const;
  // Throws std::runtime_error with the line and column of the first problem.
  static Json parse(std::string_view text);

 private:
  void dump_to(std::string& out, int indent) const;

  Type type_ = Type::null;
  bool bool_ = false;
  std::int64_t int_ = 0;
  double number_ = 0.0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

}  // namespace trellis
