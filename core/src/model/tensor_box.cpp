#include "model/tensor_box.h"

#include "trellis/error.h"

namespace trellis {

void check_box(const Shape& global, const Shape& offset, const Shape& local,
               const std::string& what) {
  bool ok = global.rank() == offset.rank() && global.rank() == local.rank();
  for (int d = 0; ok && d < global.rank(); ++d) {
    ok = offset[d] >= 0 && local[d] >= 0 && offset[d] + local[d] <= global[d];
  }
  if (!ok) {
    throw Error(what + ": shard " + local.str() + " at offset " + offset.str() +
                " does not fit in the whole parameter " + global.str());
  }
}

}  // namespace trellis
