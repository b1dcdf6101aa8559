#include "adamw_history.h"

#include "checkpoint/checkpoint_directory.h"
#include "checkpoint/checkpoint_reader.h"
#include "kernels/cpu/cpu_kernels.h"
#include "model/llmc_checkpoint.h"
#include "trellis/error.h"
#include "trellis/layer.h"

namespace trellis::test::numerics {

namespace {

std::vector<float> read_whole(CheckpointReader& reader, const std::string& name, const Shape& shape,
                              Kernels& kernels, const std::shared_ptr<Allocator>& alloc) {
  CheckpointPiece piece;
  piece.name = name;
  piece.region = TensorRegion::whole(shape);
  piece.values = Tensor::empty(shape, DType::f32, alloc);
  reader.read(piece, kernels);
  return std::vector<float>(piece.values.data<float>(),
                            piece.values.data<float>() + piece.values.numel());
}

}  // namespace

AdamwRunHistory read_adamw_history(const std::filesystem::path& checkpoints) {
  auto alloc = make_cpu_allocator();
  auto kernels = make_cpu_kernels(1);
  AdamwRunHistory h;
  for (const CheckpointStep& step : complete_checkpoints(checkpoints)) {
    if (step.step != h.steps + 1) {
      throw InputError(checkpoints.string() + ": checkpoint of step " + std::to_string(step.step) +
                       " where step " + std::to_string(h.steps + 1) +
                       " was expected (save every step, keep all)");
    }
    CheckpointReader reader(step.dir);
    h.dims = reader.manifest().dims;
    h.batch_tokens = reader.manifest().data.global_batch * reader.manifest().data.seq_len;
    for (const ManifestTensor& t : reader.manifest().tensors) {
      if (t.name.starts_with("adamw.")) continue;
      h.shapes[t.name] = t.shape;
      AdamwTensorHistory& th = h.tensors[t.name];
      th.param.push_back(read_whole(reader, t.name, t.shape, *kernels, alloc));
      th.m.push_back(read_whole(reader, "adamw.m/" + t.name, t.shape, *kernels, alloc));
      th.v.push_back(read_whole(reader, "adamw.v/" + t.name, t.shape, *kernels, alloc));
    }
    ++h.steps;
  }
  if (h.steps == 0) throw InputError(checkpoints.string() + ": no checkpoints");
  return h;
}

GptShape gpt_shape(const AdamwRunHistory& h) {
  return {h.dims.padded_vocab, h.dims.hidden,  h.dims.heads,
          h.dims.layers,       h.dims.seq_len, h.batch_tokens};
}

std::map<std::string, std::vector<double>> trained_parameter_bounds(const AdamwRunHistory& history,
                                                                    std::span<const double> lr,
                                                                    const AdamwSettings& settings) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& [name, tensor] : history.tensors) {
    std::vector<double> eta;
    for (double largest : max_abs_gradient_per_step(tensor, settings))
      eta.push_back(2.0 * gpt_gradient_bound(gpt_shape(history), largest));
    out[name] = adamw_parameter_bound(tensor, lr, eta, settings);
  }
  return out;
}

std::map<std::string, std::vector<float>> read_llmc_export(const std::filesystem::path& file,
                                                           const AdamwRunHistory& history) {
  auto alloc = make_cpu_allocator();
  auto kernels = make_cpu_kernels(1);
  std::vector<Parameter> params;
  for (const auto& [name, shape] : history.shapes) {
    Parameter p;
    p.name = name;
    p.value = Tensor::empty(shape, DType::f32, alloc);
    p.global_shape = shape;
    p.shard_offset = Shape(std::vector<std::int64_t>(shape.rank(), 0));
    params.push_back(std::move(p));
  }
  std::vector<Parameter*> ptrs;
  for (Parameter& p : params) ptrs.push_back(&p);
  load_llmc_checkpoint(file, history.dims, ptrs, *kernels);
  std::map<std::string, std::vector<float>> out;
  for (const Parameter& p : params) {
    out[p.name] =
        std::vector<float>(p.value.data<float>(), p.value.data<float>() + p.value.numel());
  }
  return out;
}

}  // namespace trellis::test::numerics
