#include "checkpoint/json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "text/quoted_string.h"

namespace trellis {

namespace {

const char* type_name(Json::Type t) {
  switch (t) {
    case Json::Type::null:
      return "null";
    case Json::Type::boolean:
      return "a boolean";
    case Json::Type::integer:
      return "an integer";
    case Json::Type::number:
      return "a number";
    case Json::Type::string:
      return "a string";
    case Json::Type::array:
      return "an array";
    case Json::Type::object:
      return "an object";
  }
  return "?";
}

[[noreturn]] void wrong_type(const char* wanted, Json::Type got) {
  throw std::runtime_error(std::string("expected ") + wanted + ", got " + type_name(got));
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Json document() {
    Json value = parse_value(0);
    skip_space();
    if (at_ < text_.size()) fail("text after the JSON value");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < at_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw std::runtime_error("line " + std::to_string(line) + ", column " + std::to_string(column) +
                             ": " + what);
  }
  void skip_space() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t')) {
      ++at_;
    }
  }
  char peek() const { return at_ < text_.size() ? text_[at_] : '\0'; }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++at_;
  }
  bool literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  Json parse_value(int depth) {
    if (depth > 64) fail("nested too deeply");
    skip_space();
    const char c = peek();
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') return Json(parse_string());
    if (literal("true")) return Json(true);
    if (literal("false")) return Json(false);
    if (literal("null")) return Json();
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    fail(at_ < text_.size() ? "unexpected character" : "unexpected end of text");
  }

  Json parse_object(int depth) {
    Json object = Json::object();
    expect('{');
    skip_space();
    if (peek() == '}') {
      ++at_;
      return object;
    }
    while (true) {
      skip_space();
      if (peek() != '"') fail("expected a member name in quotes");
      std::string key = parse_string();
      skip_space();
      expect(':');
      object.set(std::move(key), parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++at_;
        continue;
      }
      expect('}');
      return object;
    }
  }

  Json parse_array(int depth) {
    Json array = Json::array();
    expect('[');
    skip_space();
    if (peek() == ']') {
      ++at_;
      return array;
    }
    while (true) {
      array.push(parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++at_;
        continue;
      }
      expect(']');
      return array;
    }
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    while (true) {
      if (at_ >= text_.size()) fail("unterminated string");
      char c = text_[at_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) fail("unterminated string");
      c = text_[at_++];
      switch (c) {
        case '"':
        case '\\':
        case '/':
          out += c;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          if (at_ + 4 > text_.size()) fail("short \\u escape");
          const std::string hex(text_.substr(at_, 4));
          char* end = nullptr;
          const long code = std::strtol(hex.c_str(), &end, 16);
          if (end != hex.c_str() + 4) fail("bad \\u escape");
          at_ += 4;
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
          break;
        }
        default:
          fail("unknown escape");
      }
    }
  }

  Json parse_number() {
    const std::size_t start = at_;
    bool integral = true;
    if (peek() == '-') ++at_;
    while (at_ < text_.size()) {
      const char c = text_[at_];
      if (c >= '0' && c <= '9') {
        ++at_;
      } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
        integral = false;
        ++at_;
      } else {
        break;
      }
    }
    const std::string token(text_.substr(start, at_ - start));
    char* end = nullptr;
    if (integral) {
      errno = 0;
      const long long v = std::strtoll(token.c_str(), &end, 10);
      if (end != token.c_str() + token.size() || errno == ERANGE) fail("bad integer " + token);
      return Json(static_cast<std::int64_t>(v));
    }
    const double v = std::strtod(token.c_str(), &end);
    if (end != token.c_str() + token.size()) fail("bad number " + token);
    return Json(v);
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

void new_line(std::string& out, int indent) {
  out += '\n';
  out.append(static_cast<std::size_t>(indent), ' ');
}

bool is_plain(const Json& j) {
  return j.type() != Json::Type::array && j.type() != Json::Type::object;
}

// Plain values, or an array of them: what fits on one line of the dump.
bool is_flat(const Json& j) {
  if (is_plain(j)) return true;
  if (j.type() != Json::Type::array) return false;
  for (const Json& item : j.items())
    if (!is_plain(item)) return false;
  return true;
}

}  // namespace

bool Json::as_bool() const {
  if (type_ != Type::boolean) wrong_type("a boolean", type_);
  return bool_;
}

std::int64_t Json::as_int() const {
  if (type_ == Type::integer) return int_;
  if (type_ == Type::number && std::floor(number_) == number_ && std::abs(number_) < 9e15) {
    return static_cast<std::int64_t>(number_);
  }
  wrong_type("an integer", type_);
}

double Json::as_number() const {
  if (type_ == Type::integer) return static_cast<double>(int_);
  if (type_ != Type::number) wrong_type("a number", type_);
  return number_;
}

const std::string& Json::as_string() const {
  if (type_ != Type::string) wrong_type("a string", type_);
  return string_;
}

const std::vector<Json>& Json::items() const {
  if (type_ != Type::array) wrong_type("an array", type_);
  return items_;
}

const std::vector<std::pair<std::string, Json>>& Json::members() const {
  if (type_ != Type::object) wrong_type("an object", type_);
  return members_;
}

const Json* Json::find(std::string_view key) const {
  if (type_ != Type::object) return nullptr;
  for (const auto& [k, v] : members_)
    if (k == key) return &v;
  return nullptr;
}

const Json& Json::at(std::string_view key) const {
  if (type_ != Type::object) wrong_type("an object", type_);
  if (const Json* v = find(key)) return *v;
  throw std::runtime_error("no field '" + std::string(key) + "'");
}

Json& Json::push(Json value) {
  if (type_ != Type::array) wrong_type("an array", type_);
  items_.push_back(std::move(value));
  return items_.back();
}

Json& Json::set(std::string key, Json value) {
  if (type_ != Type::object) wrong_type("an object", type_);
  for (auto& [k, v] : members_) {
    if (k == key) {
      v = std::move(value);
      return v;
    }
  }
  members_.emplace_back(std::move(key), std::move(value));
  return members_.back().second;
}

void Json::dump_to(std::string& out, int indent) const {
  switch (type_) {
    case Type::null:
      out += "null";
      return;
    case Type::boolean:
      out += bool_ ? "true" : "false";
      return;
    case Type::integer:
      out += std::to_string(int_);
      return;
    case Type::number: {
      if (!std::isfinite(number_)) {
        out += "null";
        return;
      }
      char text[32];
      std::snprintf(text, sizeof(text), "%.17g", number_);
      out += text;
      return;
    }
    case Type::string:
      out += quoted_string(string_);
      return;
    case Type::array: {
      const bool plain = is_flat(*this);
      out += '[';
      for (std::size_t i = 0; i < items_.size(); ++i) {
        if (i) out += plain ? ", " : ",";
        if (!plain) new_line(out, indent + 2);
        items_[i].dump_to(out, indent + 2);
      }
      if (!plain && !items_.empty()) new_line(out, indent);
      out += ']';
      return;
    }
    case Type::object: {
      // An object of flat members (a shard, the model's dimensions) is one line.
      bool flat = true;
      for (const auto& member : members_) flat = flat && is_flat(member.second);
      if (flat) {
        out += '{';
        for (std::size_t i = 0; i < members_.size(); ++i) {
          if (i) out += ", ";
          out += quoted_string(members_[i].first);
          out += ": ";
          members_[i].second.dump_to(out, indent + 2);
        }
        out += '}';
        return;
      }
      out += '{';
      for (std::size_t i = 0; i < members_.size(); ++i) {
        if (i) out += ',';
        new_line(out, indent + 2);
        out += quoted_string(members_[i].first);
        out += ": ";
        members_[i].second.dump_to(out, indent + 2);
      }
      if (!members_.empty()) new_line(out, indent);
      out += '}';
      return;
    }
  }
}

std::string Json::dump() const {
  std::string out;
  dump_to(out, 0);
  out += '\n';
  return out;
}

Json Json::parse(std::string_view text) {
  return Parser(text).document();
}

}  // namespace trellis
