#include "flat_json.h"

#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace trellis::test {

namespace {

class Reader {
 public:
  explicit Reader(const std::string& text) : text_(text) {}

  std::vector<JsonObject> list() {
    std::vector<JsonObject> objects;
    expect('[');
    if (!take(']')) {
      do {
        objects.push_back(object());
      } while (take(','));
      expect(']');
    }
    skip_space();
    if (at_ < text_.size()) fail("text after the list");
    return objects;
  }

 private:
  JsonObject object() {
    JsonObject result;
    expect('{');
    if (take('}')) return result;
    do {
      std::string key = string();
      expect(':');
      if (result.count(key)) fail("key '" + key + "' twice");
      result[key] = value();
    } while (take(','));
    expect('}');
    return result;
  }

  JsonValue value() {
    skip_space();
    if (at_ >= text_.size()) fail("a value expected");
    const char c = text_[at_];
    if (c == '"') return string();
    if (word("true")) return true;
    if (word("false")) return false;
    if (word("null")) return nullptr;
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return number();
    fail("a string, number, true, false or null expected");
  }

  std::string string() {
    expect('"');
    std::string out;
    while (at_ < text_.size() && text_[at_] != '"') {
      char c = text_[at_++];
      if (static_cast<unsigned char>(c) < 0x20) fail("a control character in a string");
      if (c == '\\') {
        if (at_ >= text_.size()) break;
        c = text_[at_++];
        if (c == 'u') {
          if (at_ + 4 > text_.size()) fail("a short \\u escape");
          out += static_cast<char>(std::strtol(text_.substr(at_, 4).c_str(), nullptr, 16));
          at_ += 4;
          continue;
        }
        if (std::string("\"\\/bfnrt").find(c) == std::string::npos) fail("a bad escape");
      }
      out += c;
    }
    if (at_ >= text_.size()) fail("an unterminated string");
    ++at_;
    return out;
  }

  double number() {
    // JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    const std::size_t start = at_;
    if (text_[at_] == '-') ++at_;
    if (at_ < text_.size() && text_[at_] == '0') {
      ++at_;
    } else if (!digits()) {
      fail("a number expected");
    }
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      if (!digits()) fail("digits after '.'");
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      if (!digits()) fail("digits in an exponent");
    }
    return std::strtod(text_.substr(start, at_ - start).c_str(), nullptr);
  }

  bool digits() {
    const std::size_t start = at_;
    while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) ++at_;
    return at_ > start;
  }

  bool word(const char* w) {
    const std::string text(w);
    if (text_.compare(at_, text.size(), text) != 0) return false;
    at_ += text.size();
    return true;
  }

  void skip_space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }

  bool take(char c) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }

  void expect(char c) {
    if (!take(c)) fail(std::string("'") + c + "' expected");
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("not a JSON list of flat objects at character " + std::to_string(at_) +
                             ": " + what);
  }

  const std::string& text_;
  std::size_t at_ = 0;
};

}  // namespace

std::vector<JsonObject> parse_flat_json_list(const std::string& text) {
  return Reader(text).list();
}

}  // namespace trellis::test
