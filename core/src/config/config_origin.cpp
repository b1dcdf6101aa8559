#include "config/config_origin.h"

namespace trellis {

std::string Origin::describe() const {
  std::string out;
  switch (kind) {
    case Kind::default_value:
      out = "default";
      break;
    case Kind::file:
      out = file;
      if (line > 0) out.append(":").append(std::to_string(line));
      break;
    case Kind::override_arg:
    case Kind::environment:
    case Kind::derived:
      out = text;
      break;
  }
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) about chains of string +.
  if (!note.empty()) out.append(" (").append(note).append(")");
  return out;
}

}  // namespace trellis
