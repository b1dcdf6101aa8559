// libFuzzer harness: trellis-plan's cluster description file (plan/cluster_file.h). A file that
// reads must write back (cluster_to_toml) into one that reads to the same description.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "plan/cluster_file.h"
#include "trellis/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  trellis::plan::ClusterSpec cluster;
  try {
    cluster = trellis::plan::parse_cluster_text(text, "fuzz-cluster.toml");
  } catch (const trellis::InputError&) {
    return 0;  // reported with file:line, exit 2
  }
  const std::string written = trellis::plan::cluster_to_toml(cluster, "written back");
  // What was read is a valid description: written out, it must read again, the same.
  const trellis::plan::ClusterSpec again =
      trellis::plan::parse_cluster_text(written, "written-back.toml");
  if (trellis::plan::cluster_to_toml(again, "written back") != written) std::abort();
  return 0;
}
