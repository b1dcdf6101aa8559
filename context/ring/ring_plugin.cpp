// The plugin descriptor of ring attention.
#include "ring_attention.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::ContextAttention> make_ring(const trellis::ContextInit& init) {
  return std::make_unique<trellis::context::RingAttention>(init);
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::context,
    .name = "ring",
    .version = "1.0.0",
    .summary =
        "ring attention: keys and values passed around the context group, each transfer "
        "overlapping the attention of the block before",
    .make_context = &make_ring,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
