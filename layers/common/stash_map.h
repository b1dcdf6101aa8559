// What a layer keeps from forward to backward, per microbatch id: several microbatches can be in
// flight at once under a pipeline schedule.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "trellis/error.h"

namespace trellis::layers {

template <class Stash>
class StashMap {
 public:
  Stash& create(int microbatch, std::string_view layer) {
    auto [it, inserted] = stashes_.try_emplace(microbatch);
    if (!inserted) {
      throw Error(std::string(layer) + ": forward of microbatch " + std::to_string(microbatch) +
                  " while its previous forward is still waiting for backward");
    }
    return it->second;
  }
  Stash& get(int microbatch, std::string_view layer) {
    auto it = stashes_.find(microbatch);
    if (it == stashes_.end()) {
      throw Error(std::string(layer) + ": backward of microbatch " + std::to_string(microbatch) +
                  " without its forward");
    }
    return it->second;
  }
  void erase(int microbatch) { stashes_.erase(microbatch); }
  std::size_t in_flight() const noexcept { return stashes_.size(); }

 private:
  std::map<int, Stash> stashes_;
};

}  // namespace trellis::layers
