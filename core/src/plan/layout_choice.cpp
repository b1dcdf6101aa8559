#include "plan/layout_choice.h"

namespace trellis::plan {

const char* recompute_name(Recompute r) noexcept {
  return recompute_granularity_name(r);
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

bool parse_recompute_method(const std::string& name, RecomputeMethod& m) {
  for (RecomputeMethod c : {RecomputeMethod::uniform, RecomputeMethod::block}) {
    if (name == recompute_method_name(c)) {
      m = c;
      return true;
    }
  }
  return false;
}

std::string describe_recompute_settings(const RecomputeSettings& r) {
  std::string text = recompute_name(r.granularity);
  if (r.granularity != Recompute::full) return text;
  text += ' ';
  text += recompute_method_name(r.method);
  text += ' ';
  text += std::to_string(r.num_layers);
  return text;
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
  if (expert > 1) text += " e" + std::to_string(expert) + " " + expert_dispatcher;
  if (pipeline > 1) {
    if (virtual_stages > 1) text += " v" + std::to_string(virtual_stages);
    text += " " + schedule;
  }
  text += " " + tensor_mode + " mb" + std::to_string(micro_batch);
  if (zero != 0) text += " zero" + std::to_string(zero);
  if (recompute.granularity != Recompute::none) {
    text += " rc-";
    text += recompute_name(recompute.granularity);
  }
  if (recompute.granularity == Recompute::full) {
    text += '-';
    text += recompute_method_name(recompute.method);
    text += std::to_string(recompute.num_layers);
  }
  return text;
}

}  // namespace trellis::plan
