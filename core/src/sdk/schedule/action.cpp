// The text form of schedule actions, shared with torch.distributed.pipelining:
// <stage><type><microbatch>, e.g. "2F0", "1SEND_B3".
#include <cctype>
#include <string>

#include "trellis/error.h"
#include "trellis/schedule.h"

namespace trellis {

namespace {

constexpr ActionType kAllTypes[] = {ActionType::SEND_F, ActionType::RECV_F, ActionType::SEND_B,
                                    ActionType::RECV_B, ActionType::F,      ActionType::B,
                                    ActionType::I,      ActionType::W};

// Reads a non-negative decimal at `pos`; false when there is none or it overflows an int.
bool read_number(std::string_view text, std::size_t& pos, int& value) {
  std::size_t start = pos;
  long long v = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    v = v * 10 + (text[pos] - '0');
    if (v > 1'000'000'000) return false;
    ++pos;
  }
  value = static_cast<int>(v);
  return pos > start;
}

}  // namespace

const char* action_type_name(ActionType type) noexcept {
  switch (type) {
    case ActionType::F:
      return "F";
    case ActionType::B:
      return "B";
    case ActionType::I:
      return "I";
    case ActionType::W:
      return "W";
    case ActionType::SEND_F:
      return "SEND_F";
    case ActionType::RECV_F:
      return "RECV_F";
    case ActionType::SEND_B:
      return "SEND_B";
    case ActionType::RECV_B:
      return "RECV_B";
  }
  return "?";
}

bool is_compute(ActionType type) noexcept {
  return type == ActionType::F || type == ActionType::B || type == ActionType::I ||
         type == ActionType::W;
}

std::string to_string(const Action& action) {
  return std::to_string(action.stage) + action_type_name(action.type) +
         std::to_string(action.microbatch);
}

Action parse_action(std::string_view text) {
  auto fail = [&] {
    std::string message(1, '\'');
    message.append(text);
    return InputError(
        message +
        "' is not a schedule action; write <stage><type><microbatch> with type one of "
        "F, B, I, W, SEND_F, RECV_F, SEND_B, RECV_B, e.g. '2F0' or '1SEND_B3'");
  };
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  Action action;
  std::size_t pos = 0;
  if (!read_number(text, pos, action.stage)) throw fail();
  bool matched = false;
  for (ActionType type : kAllTypes) {
    std::string_view name = action_type_name(type);
    if (text.substr(pos, name.size()) == name) {
      action.type = type;
      pos += name.size();
      matched = true;
      break;
    }
  }
  if (!matched || !read_number(text, pos, action.microbatch) || pos != text.size()) throw fail();
  return action;
}

}  // namespace trellis
