// Loads the built plugin through Trellis's plugin registry, as trellis-train does, and checks
// its descriptor and its check hook: runs it can serve pass, the ones it cannot are refused
// naming the config key. usage: test_replicated_check <path of libtrellis_layers_replicated.so>
#include <iostream>
#include <string>
#include <vector>

#include "trellis/error.h"
#include "trellis/plugin_registry.h"

namespace {

int failures = 0;

void fail(const std::string& what) {
  ++failures;
  std::cerr << "FAIL: " << what << "\n";
}

trellis::RunQuery tiny_run() {
  trellis::RunQuery q;
  q.dims = {.vocab_size = 256,
            .padded_vocab = 256,
            .seq_len = 32,
            .max_seq_len = 32,
            .layers = 2,
            .heads = 4,
            .hidden = 64};
  return q;
}

// `want_key` empty: the run must pass; otherwise exactly one problem naming that key.
void expect(const trellis::PluginRegistry& registry, const std::string& label,
            const trellis::RunQuery& q, const std::string& want_key) {
  trellis::Options no_options;
  trellis::RunQuery query = q;
  query.options = &no_options;
  const std::vector<trellis::ConfigProblem> problems =
      registry.check(trellis::PluginKind::layers, "replicated", query);
  if (want_key.empty()) {
    for (const auto& p : problems) fail(label + ": refused (" + p.key + ": " + p.message + ")");
    return;
  }
  if (problems.size() != 1 || problems.front().key != want_key) {
    std::string got;
    for (const auto& p : problems) got += " [" + p.key + ": " + p.message + "]";
    fail(label + ": expected one problem with " + want_key + ", got" +
         (got.empty() ? " none" : got));
    return;
  }
  std::cout << label << ": refused, " << problems.front().key << ": " << problems.front().message
            << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: test_replicated_check <path of libtrellis_layers_replicated.so>\n";
    return 2;
  }
  try {
    const trellis::PluginRegistry registry =
        trellis::PluginRegistry::discover({{argv[1], "command line"}});
    const trellis::PluginInfo& info = registry.find(trellis::PluginKind::layers, "replicated");
    if (!info.problem.empty()) fail("the registry finds a problem: " + info.problem);

    // Each case: the tiny run changed in one way, and the key it must be refused with ("" for
    // none). Any tensor size passes: each rank repeats the whole model, so heads need not divide.
    struct Case {
      const char* label;
      void (*change)(trellis::RunQuery&);
      const char* refused_key;
    };
    const Case cases[] = {
        {"tiny model, tensor 1", [](trellis::RunQuery&) {}, ""},
        {"tensor 3 with 4 heads", [](trellis::RunQuery& q) { q.sizes.tensor = 3; }, ""},
        {"3 heads of 64 channels", [](trellis::RunQuery& q) { q.dims.heads = 3; }, "model.heads"},
        {"seq_len beyond the position table", [](trellis::RunQuery& q) { q.dims.seq_len = 64; },
         "model.seq_len"},
        {"token table shorter than the vocabulary",
         [](trellis::RunQuery& q) { q.dims.padded_vocab = 128; }, "model.vocab_size"},
        {"context 2", [](trellis::RunQuery& q) { q.sizes.context = 2; }, "parallel.context"},
    };
    for (const Case& c : cases) {
      trellis::RunQuery query = tiny_run();
      c.change(query);
      expect(registry, c.label, query, c.refused_key);
    }
  } catch (const trellis::Error& e) {
    std::cerr << "FAIL: " << e.what() << "\n";
    return 1;
  }
  if (failures != 0) return 1;
  std::cout << "replicated check: all checks passed\n";
  return 0;
}
