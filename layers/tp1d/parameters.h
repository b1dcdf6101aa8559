// Making parameters and keeping per-microbatch state, shared by the layers of the family.
#pragma once

#include <map>
#include <string>

#include "trellis/error.h"
#include "trellis/layer.h"

namespace trellis::tp1d {

// Where this rank's shard sits in the whole parameter.
struct ShardSpec {
  Shape global_shape;
  Shape offset;
  int tensor_replicas = 1;
};

// A parameter with value and gradient allocated (values are filled by core's initialiser).
Parameter make_parameter(const std::string& name, const Shape& local_shape, const ShardSpec& shard,
                         bool weight_decay, ParamInit init,
                         const std::shared_ptr<Allocator>& alloc);

// The replicated case: every rank of the tensor group holds the whole parameter.
ShardSpec replicated(const Shape& shape, int tensor_size);

ParamInit normal(float std);
ParamInit zeros();
ParamInit ones();

// What a layer keeps from forward to backward, per microbatch id.
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

}  // namespace trellis::tp1d
