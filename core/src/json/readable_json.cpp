#include "json/readable_json.h"

namespace trellis::json {

namespace {

std::string scalar_text(const Document& value) {
  return value.dump(-1, ' ', false, Document::error_handler_t::replace);
}

bool is_plain(const Document& j) {
  return !j.is_array() && !j.is_object();
}

// A plain value, or an array of them: what fits on one line.
bool is_flat(const Document& j) {
  if (is_plain(j)) return true;
  if (!j.is_array()) return false;
  for (const Document& item : j)
    if (!is_plain(item)) return false;
  return true;
}

void new_line(std::string& out, int indent) {
  out += '\n';
  out.append(static_cast<std::size_t>(indent), ' ');
}

void write(std::string& out, const Document& j, int indent) {
  if (j.is_array()) {
    const bool flat = is_flat(j);
    out += '[';
    bool first = true;
    for (const Document& item : j) {
      if (!first) out += flat ? ", " : ",";
      first = false;
      if (!flat) new_line(out, indent + 2);
      write(out, item, indent + 2);
    }
    if (!flat && !j.empty()) new_line(out, indent);
    out += ']';
    return;
  }
  if (j.is_object()) {
    bool flat = true;
    for (const auto& member : j.items()) flat = flat && is_flat(member.value());
    out += '{';
    bool first = true;
    for (const auto& member : j.items()) {
      if (!first) out += flat ? ", " : ",";
      first = false;
      if (!flat) new_line(out, indent + 2);
      out += scalar_text(Document(member.key()));
      out += ": ";
      write(out, member.value(), indent + 2);
    }
    if (!flat && !j.empty()) new_line(out, indent);
    out += '}';
    return;
  }
  out += scalar_text(j);
}

}  // namespace

std::string readable_text(const Document& document) {
  std::string out;
  write(out, document, 0);
  out += '\n';
  return out;
}

std::string line_text(const Document& document) {
  return document.dump(-1, ' ', false, Document::error_handler_t::replace);
}

}  // namespace trellis::json
