#include "train/model_export.h"

#include <functional>
#include <system_error>
#include <vector>

#include "model/hf_weights.h"
#include "model/llmc_checkpoint.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// One export's three parts, in the order the collective runs them.
struct ExportSteps {
  std::function<void()> create;                                    // world rank 0
  std::function<void(const std::vector<Parameter*>&)> write_mine;  // every rank with shards
  std::function<void()> finish;                                    // world rank 0
};

void run_export(const ExportSteps& steps, const RankModel& model, const RankCoords& coords,
                Communicator& world) {
  const bool leads = world.rank() == 0;
  if (leads) steps.create();
  world.barrier()->wait();
  const std::vector<Parameter*> mine = model.exported_parameters(coords);
  if (!mine.empty()) steps.write_mine(mine);
  world.barrier()->wait();
  if (leads) steps.finish();
}

// A run that trained on GPT-2's BPE puts its vocab.json and merges.txt next to the weights, so the
// directory is whole for Hugging Face's tokenizer and for trellis-generate.
void copy_tokenizer_files(const ResolvedRun& run, const std::filesystem::path& dir) {
  const std::string& tokenizer = run.config.data.tokenizer;
  if (!tokenizer.starts_with("gpt2:")) return;
  const std::filesystem::path from = tokenizer.substr(5);
  for (const char* name : {"vocab.json", "merges.txt"}) {
    std::error_code ec;
    std::filesystem::copy_file(from / name, dir / name,
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
      throw Error("export: cannot copy " + (from / name).string() + " to " + dir.string() + ": " +
                  ec.message());
    }
  }
}

void make_parent(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("export: cannot make " + dir.string() + ": " + ec.message());
}

}  // namespace

void export_llmc_model(const std::filesystem::path& file, const ModelDims& dims,
                       const RankModel& model, const RankCoords& coords, Communicator& world,
                       Kernels& kernels) {
  std::filesystem::path partial = file;
  partial += ".partial";
  run_export({[&] {
                make_parent(file.parent_path());
                create_llmc_file(partial, dims);
              },
              [&](const std::vector<Parameter*>& mine) {
                write_llmc_shards(partial, dims, mine, kernels);
              },
              [&] { std::filesystem::rename(partial, file); }},
             model, coords, world);
}

void export_trained_model(const ResolvedRun& run, const RankModel& model, const RankCoords& coords,
                          Communicator& world, Kernels& kernels, std::FILE* console) {
  const ModelDims& dims = run.dims;
  if (run.export_llmc) {
    export_llmc_model(*run.export_llmc, dims, model, coords, world, kernels);
    if (world.rank() == 0)
      std::fprintf(console, "exported: %s (llm.c checkpoint)\n", run.export_llmc->c_str());
  }
  if (run.export_hf) {
    const std::filesystem::path dir = *run.export_hf;
    const std::filesystem::path partial = dir / "model.safetensors.partial";
    // GPT-2's or LLaMA's, by the run's architecture (the config check refuses other mixes).
    const HfModel hf = hf_model(dims, run.arch);
    run_export(
        {[&] {
           make_parent(dir);
           create_hf_weights(partial, hf);
         },
         [&](const std::vector<Parameter*>& mine) { write_hf_shards(partial, hf, mine, kernels); },
         [&] {
           finish_hf_export(dir, partial, hf);
           copy_tokenizer_files(run, dir);
           std::fprintf(console, "exported: %s (Hugging Face %s: config.json, model.safetensors)\n",
                        dir.c_str(), hf_family_name(hf.family));
         }},
        model, coords, world);
  }
}

}  // namespace trellis
