// [logging] trace: the ranks' recorded events merged into one Chrome trace. Each rank writes its
// events to "<file>.rank<r>"; once every rank has written, world rank 0 reads the parts in rank
// order, removes them and writes the trace.
#pragma once

#include <filesystem>

#include "trace/trace.h"
#include "trellis/comm.h"

namespace trellis {

// Collective over `world`. Returns true on the rank that wrote `file`.
bool write_merged_trace(const TraceRecorder& trace, const std::filesystem::path& file,
                        Communicator& world);

}  // namespace trellis
