// A layers plugin's cost description (describe_cost, trellis/layer_cost.h) through the registry:
// answered for a family that gives one, refused by name for one that does not.
#include "registry_test_support.h"

using namespace trellis;
using namespace trellis::test;

TEST_CASE("describe_cost: the family's own answer, or an error naming the plugin") {
  const PluginRegistry shipped =
      PluginRegistry::discover({{TRELLIS_TEST_INSTALLED_PLUGIN_DIR, "build tree"}});
  REQUIRE(shipped.describes_cost("1d"));
  LayerCostQuery query;
  query.dims.hidden = 64;
  query.dims.heads = 4;
  query.dims.padded_vocab = 128;
  query.dims.seq_len = query.dims.max_seq_len = 32;
  query.tensor = 2;
  query.micro_batch = 2;
  query.seq_len = 32;
  const LayerCost cost = shipped.describe_cost("1d", query);
  // 24 b s h^2 / t + 4 b s^2 h / t
  CHECK(cost.block.forward.flops == 24.0 * 64 * 64 * 64 / 2 + 4.0 * 64 * 32 * 64 / 2);
  CHECK_FALSE(cost.block.forward.collectives.empty());

  // grid-check has no describe_cost: it trains, but cannot be planned.
  const PluginRegistry good = PluginRegistry::discover({from_env(good_dir())});
  CHECK_FALSE(good.describes_cost("grid-check"));
  CHECK_THROWS_WITH_AS(good.describe_cost("grid-check", query),
                       doctest::Contains("does not describe its cost"), PluginError);
  CHECK_THROWS_AS(good.describes_cost("no-such-family"), PluginError);
}
