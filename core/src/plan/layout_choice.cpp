#include "plan/layout_choice.h"

namespace trellis::plan {

const char* recompute_name(Recompute r) noexcept {
  switch (r) {
    case Recompute::none:
      return "none";
    case Recompute::selective:
      return "selective";
    case Recompute::full:
      return "full";
  }
  return "?";
}

bool parse_recompute(const std::string& name, Recompute& r) {
  for (Recompute c : {Recompute::none, Recompute::selective, Recompute::full}) {
    if (name == recompute_name(c)) {
      r = c;
      return true;
    }
  }
  return false;
}

std::string LayoutChoice::describe() const {
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) about "t" + std::to_string(...).
  std::string text;
  text += 't';
  text += std::to_string(tensor);
  text += " p";
  text += std::to_string(pipeline);
  text += " d";
  text += std::to_string(data);
  if (context > 1) text += " c" + std::to_string(context) + " " + context_mode;
  if (pipeline > 1) {
    if (virtual_stages > 1) text += " v" + std::to_string(virtual_stages);
    text += " " + schedule;
  }
  text += " " + tensor_mode + " mb" + std::to_string(micro_batch);
  if (zero != 0) text += " zero" + std::to_string(zero);
  if (recompute != Recompute::none) text += std::string(" rc-") + recompute_name(recompute);
  return text;
}

}  // namespace trellis::plan
