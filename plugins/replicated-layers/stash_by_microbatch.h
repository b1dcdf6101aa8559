// What a layer keeps from forward until backward_weight, keyed by microbatch id: a pipeline
// schedule may have several microbatches in flight, and a zero-bubble one runs backward_weight
// long after backward_input.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "trellis/error.h"

namespace replicated {

template <class Stash>
class StashByMicrobatch {
 public:
  // A new, empty stash; a second forward of the same id before its backward is a schedule bug.
  Stash& open(int microbatch, std::string_view layer) {
    auto [it, inserted] = stashes_.try_emplace(microbatch);
    if (!inserted) {
      throw trellis::Error(std::string(layer) + ": forward of microbatch " +
                           std::to_string(microbatch) + " before the backward of its previous one");
    }
    return it->second;
  }

  Stash& at(int microbatch, std::string_view layer) {
    auto it = stashes_.find(microbatch);
    if (it == stashes_.end()) {
      throw trellis::Error(std::string(layer) + ": backward of microbatch " +
                           std::to_string(microbatch) + " without its forward");
    }
    return it->second;
  }

  void close(int microbatch) { stashes_.erase(microbatch); }

 private:
  std::map<int, Stash> stashes_;
};

}  // namespace replicated
