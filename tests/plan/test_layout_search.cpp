// --search: every valid layout of a small model on 4 devices, checked through the plugins of
// the build tree, ranked; layouts that break a rule rejected; none fits a tiny memory.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "plan/layout_search.h"
#include "plan/plan_report.h"

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
  s.world = 4;  // every family and schedule the registry finds
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
    if (l.tensor_mode == "2d") CHECK(l.tensor != 2);  // 2 is not a square
    if (i > 0) CHECK(r.ranked[i - 1].tokens_per_s >= r.ranked[i].tokens_per_s);
  }
  // tensor 4 x data 1, pipeline 2 x data 2, interleaving, 2d on a 2 x 2 grid: all there.
  CHECK(seen.count("t4 p1 d1 1d mb1"));
  CHECK(seen.count("t1 p2 d2 1f1b 1d mb2"));
  CHECK(seen.count("t1 p2 d2 v2 interleaved 1d mb1"));
  CHECK(seen.count("t4 p1 d1 2d mb2"));
  CHECK_FALSE(seen.count("t4 p1 d1 2d mb1"));  // 2d needs the micro batch divisible by q = 2
}

TEST_CASE("at tensor 1 one tensor mode stands for all: the run's own when offered") {
  auto modes_at_tensor_one = [](const SearchResult& r) {
    std::set<std::string> modes;
    for (const Prediction& p : r.ranked)
      if (p.layout.tensor == 1) modes.insert(p.layout.tensor_mode);
    return modes;
  };
  const SearchResult r = search_layouts(base(), four_devices(1e9), &registry(), space());
  CHECK(modes_at_tensor_one(r) == std::set<std::string>{"1d"});
  bool noted = false;
  for (const std::string& note : r.notes)
    noted = noted || note ==
                         "tensor 1 is listed as 1d: at tensor 1 every tensor mode is the same "
                         "one-rank model";
  CHECK(noted);
  // Every mode still appears at tensor 4 (2d on a 2 x 2 grid).
  std::set<std::string> at_four;
  for (const Prediction& p : r.ranked)
    if (p.layout.tensor == 4) at_four.insert(p.layout.tensor_mode);
  CHECK(at_four.size() == 3);

  PlanRequest seq_run = base();
  seq_run.layout.tensor_mode = "seq";
  CHECK(modes_at_tensor_one(search_layouts(seq_run, four_devices(1e9), &registry(), space())) ==
        std::set<std::string>{"seq"});
}

TEST_CASE("layouts that print the same in every column share one row of the table") {
  const SearchResult r = search_layouts(base(), four_devices(1e9), &registry(), space());
  const std::vector<SearchRow> rows = search_rows(r);
  std::size_t listed = 0;
  std::set<std::vector<std::string>> distinct;
  for (const SearchRow& row : rows) {
    listed += row.predictions.size();
    CHECK(distinct.insert(row.cells).second);  // no two rows print the same figures
  }
  CHECK(listed == r.ranked.size());  // and every layout is in one of them
  // The small model has such twins (schedules whose plans cost the same at this shape).
  const auto merged = std::find_if(rows.begin(), rows.end(),
                                   [](const SearchRow& row) { return row.predictions.size() > 1; });
  REQUIRE(merged != rows.end());
  const std::string table = format_search(r, four_devices(1e9), static_cast<int>(rows.size()));
  const std::string first = r.ranked[merged->predictions[0]].layout.describe();
  const std::string second = r.ranked[merged->predictions[1]].layout.describe();
  INFO(table);
  // The row's layout cell joins the words where the two layouts differ with '/'.
  std::string joined;
  std::istringstream a(first), b(second);
  for (std::string x, y; a >> x && b >> y;) {
    if (!joined.empty()) joined += ' ';
    joined += x;
    if (x != y) joined.append("/").append(y);
  }
  CHECK(table.find(joined) != std::string::npos);
  CHECK(table.find("a/b marks where they differ") != std::string::npos);
  // Every printed figure is explained below the table.
  for (const char* column : {"memory =", "step =", "tokens/s =", "TFLOP/s =", "MFU =", "bubble =",
                             "tp comm =", "dp exposed ="}) {
    CHECK(table.find(column) != std::string::npos);
  }
}

TEST_CASE("the families and schedules searched are the plugins the registry finds") {
  const SearchResult r = search_layouts(base(), four_devices(1e9), &registry(), space());
  std::set<std::string> families, schedules;
  for (const Prediction& p : r.ranked) {
    families.insert(p.layout.tensor_mode);
    if (p.layout.pipeline > 1) schedules.insert(p.layout.schedule);
  }
  CHECK(families == std::set<std::string>{"1d", "2d", "seq"});
  CHECK(schedules == std::set<std::string>{"1f1b", "gpipe", "interleaved", "zbh1"});
  // The csv schedule needs its file, which a search cannot give: left out, and said so.
  CHECK(std::find(r.notes.begin(), r.notes.end(),
                  "schedule 'csv' needs options of its own: not searched") != r.notes.end());
  // A space may name some of them only.
  SearchSpace only = space();
  only.tensor_modes = {"seq"};
  only.schedules = {"gpipe"};
  for (const Prediction& p : search_layouts(base(), four_devices(1e9), &registry(), only).ranked) {
    CHECK(p.layout.tensor_mode == "seq");
    if (p.layout.pipeline > 1) CHECK(p.layout.schedule == "gpipe");
  }
  // Without plugins there is nothing to search, and the result says why.
  const SearchResult bare = search_layouts(base(), four_devices(1e9), nullptr, space());
  CHECK(bare.ranked.empty());
  CHECK(bare.notes.front().find("no plugin registry") != std::string::npos);
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
