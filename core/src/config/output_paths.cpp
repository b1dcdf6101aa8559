// Where a run writes. [run] out_dir defaults to runs/<name>; every other output — checkpoints,
// metrics, the trace, the llm.c export — defaults to a name inside it, and a relative path given
// for one (in the file or with --set) is also inside it. So `--set run.out_dir=DIR` moves
// everything a run writes, and the same config run twice with two out_dirs never shares a file.
#include <filesystem>
#include <string>

#include "config/config_check.h"

namespace trellis {

namespace {

namespace fs = std::filesystem;

// A default derived from out_dir: noted in the key's origin, which --dry-run shows.
void fill_default(CheckContext& ctx, const char* key, std::string& value, const fs::path& derived,
                  const char* rule) {
  value = derived.string();
  Origin origin = ctx.origin(key);
  origin.note = rule;
  ctx.set_origin(key, origin);
}

// `text` (after `prefix`) made relative to out_dir when it is a relative path.
void place_in_out_dir(CheckContext& ctx, const char* key, std::string& text,
                      const fs::path& out_dir, std::string_view prefix = {}) {
  const fs::path path = text.substr(prefix.size());
  if (path.empty() || path.is_absolute()) return;
  const std::string written = text;
  text = std::string(prefix) + (out_dir / path).lexically_normal().string();
  ctx.note_written_path(key, written);
}

}  // namespace

void resolve_output_paths(CheckContext& ctx) {
  RunConfig& c = ctx.config();
  if (!ctx.valid({"run.name", "run.out_dir"})) return;
  if (c.run.out_dir.empty()) {
    fill_default(ctx, "run.out_dir", c.run.out_dir, fs::path("runs") / c.run.name, "runs/<name>");
  }
  const fs::path out_dir = c.run.out_dir;
  // An output with a default inside out_dir: filled when empty, placed there when relative.
  auto output = [&](const char* key, std::string& value, const char* name, const char* rule) {
    if (!ctx.valid(key)) return;
    if (value.empty()) {
      fill_default(ctx, key, value, out_dir / name, rule);
    } else {
      place_in_out_dir(ctx, key, value, out_dir);
    }
  };
  output("checkpoint.dir", c.checkpoint.dir, "checkpoints", "<out_dir>/checkpoints");
  output("logging.metrics", c.logging.metrics, "metrics.jsonl", "<out_dir>/metrics.jsonl");
  if (ctx.valid("logging.trace")) place_in_out_dir(ctx, "logging.trace", c.logging.trace, out_dir);
  // "llmc:PATH" and "hf:DIR"; other forms are check_model_export's to refuse.
  for (const char* prefix : {"llmc:", "hf:"}) {
    if (ctx.valid("model.export") && c.model.export_to.starts_with(prefix))
      place_in_out_dir(ctx, "model.export", c.model.export_to, out_dir, prefix);
  }
}

}  // namespace trellis
