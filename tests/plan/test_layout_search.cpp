// --search: every valid layout of a small model on 4 devices, checked through the plugins of
// the build tree, ranked; layouts that break a rule rejected; none fits a tiny memory.
#include <doctest/doctest.h>

#include <set>

#include "plan/layout_search.h"

using namespace trellis;
using namespace trellis::plan;

namespace {

const PluginRegistry& registry() {
  static const PluginRegistry r =
      PluginRegistry::discover({{TRELLIS_TEST_PLUGIN_DIR, "build tree"}});
  return r;
}

ClusterSpec four_devices(double memory_bytes) {
  ClusterSpec c;
  c.name = "test";
  c.nodes = 1;
  c.devices_per_node = 4;
  c.accelerator.peak_flops["fp32"] = 1e12;
  c.accelerator.memory_bytes = memory_bytes;
  c.accelerator.memory_bandwidth = 1e11;
  c.intra_node = {1e10, 1e-5, 1.0};
  c.inter_node = {1e9, 1e-4, 1.0};
  return c;
}

PlanRequest base() {
  PlanRequest r;
  r.dims.vocab_size = 100;
  r.dims.padded_vocab = 128;
  r.dims.seq_len = r.dims.max_seq_len = 32;
  r.dims.layers = 4;
  r.dims.heads = 4;
  r.dims.hidden = 64;
  r.global_batch = 8;
  return r;
}

SearchSpace space() {
  SearchSpace s;
  s.world = 4;
  s.schedules = {"gpipe", "1f1b", "interleaved", "zbh1"};
  s.tensor_modes = {TensorMode::one_d, TensorMode::seq, TensorMode::two_d};
  return s;
}

}  // namespace

TEST_CASE("every valid layout of 4 ranks, fastest first") {
  const SearchResult r = search_layouts(base(), four_devices(1e9), &registry(), space());
  CHECK(r.considered > 100);
  CHECK(r.too_big == 0);
  REQUIRE(r.ranked.size() + r.rejected == static_cast<std::size_t>(r.considered));
  std::set<std::string> seen;
  for (std::size_t i = 0; i < r.ranked.size(); ++i) {
    const LayoutChoice& l = r.ranked[i].layout;
    CAPTURE(l.describe());
    CHECK(l.world() == 4);
    CHECK(seen.insert(l.describe()).second);  // each layout once
    CHECK(8 % (l.micro_batch * l.data) == 0);
    CHECK(4 % (l.pipeline * l.virtual_stages) == 0);
    if (l.tensor_mode == TensorMode::two_d) CHECK(l.tensor != 2);  // 2 is not a square
    if (i > 0) CHECK(r.ranked[i - 1].tokens_per_s >= r.ranked[i].tokens_per_s);
  }
  // tensor 4 x data 1, pipeline 2 x data 2, interleaving, 2d on a 2 x 2 grid: all there.
  CHECK(seen.count("t4 p1 d1 1d mb1"));
  CHECK(seen.count("t1 p2 d2 1f1b 1d mb2"));
  CHECK(seen.count("t1 p2 d2 v2 interleaved 1d mb1"));
  CHECK(seen.count("t4 p1 d1 2d mb2"));
  CHECK_FALSE(seen.count("t4 p1 d1 2d mb1"));  // 2d needs the micro batch divisible by q = 2
}

TEST_CASE("families without a plugin are checked by their built-in rules, and the result says so") {
  auto family_notes = [](const SearchResult& r) {
    int n = 0;
    for (const std::string& note : r.notes)
      n += note.find("no layers plugin found") != std::string::npos ? 1 : 0;
    return n;
  };
  // The build tree has the 1d, seq and 2d families: no notes. Without a registry, one per family.
  CHECK(family_notes(search_layouts(base(), four_devices(1e9), &registry(), space())) == 0);
  const SearchResult bare = search_layouts(base(), four_devices(1e9), nullptr, space());
  CHECK(family_notes(bare) == static_cast<int>(space().tensor_modes.size()));
  CHECK_FALSE(bare.ranked.empty());
}

TEST_CASE("nothing fits a device of 1 MB") {
  const SearchResult r = search_layouts(base(), four_devices(1e6), &registry(), space());
  CHECK(r.ranked.empty());
  CHECK(r.too_big == r.considered - r.rejected);
}

TEST_CASE("the padded vocabulary follows the tensor size as the config loader pads it") {
  CHECK(padded_vocab_for(50257, 1, 0) == 50304);
  CHECK(padded_vocab_for(50257, 8, 0) == 50304);
  CHECK(padded_vocab_for(50257, 5, 0) == 50560);      // a multiple of lcm(128, 5) = 640
  CHECK(padded_vocab_for(50257, 5, 50304) == 50305);  // an llm.c checkpoint's Vp, then of 5
}
