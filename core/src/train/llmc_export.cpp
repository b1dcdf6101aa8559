#include "train/llmc_export.h"

#include <system_error>
#include <vector>

#include "model/llmc_checkpoint.h"

namespace trellis {

void export_llmc_model(const std::filesystem::path& file, const RankModel& model,
                       const ModelDims& dims, const RankCoords& coords, Communicator& world,
                       Kernels& kernels, std::FILE* console) {
  const bool makes_file = world.rank() == 0;
  std::filesystem::path partial = file;
  partial += ".partial";
  if (makes_file) {
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    create_llmc_file(partial, dims);
  }
  world.barrier()->wait();
  // One replica of each shard writes it: rank 0 of its data-context group.
  if (coords.data == 0 && coords.context == 0) {
    std::vector<Parameter*> mine;
    for (Parameter* p : model.parameters()) {
      const bool replica = p->tensor_replicas > 1 && coords.tensor != 0;
      const bool tied_copy = p == model.tied_table() && model.tied_table_is_copy();
      if (!replica && !tied_copy) mine.push_back(p);
    }
    write_llmc_shards(partial, dims, mine, kernels);
  }
  world.barrier()->wait();
  if (makes_file) {
    std::filesystem::rename(partial, file);
    std::fprintf(console, "exported: %s (llm.c checkpoint)\n", file.c_str());
  }
}

}  // namespace trellis
