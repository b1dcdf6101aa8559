// The JSON of `trellis-bench comm --json FILE` (DESIGN.md): a list with one object per row and
// placement, fields op, backend, nranks, size_bytes, time_us, algbw_gbs, busbw_gbs, wrong
// (null without -c 1), in_place; plus count and dtype. Placements that were not measured are
// left out. One object per line, so the files of several launches merge line by line.
#pragma once

#include <string>
#include <vector>

#include "comm_options.h"
#include "comm_sweep.h"
#include "json/readable_json.h"

namespace trellis::bench {

// The objects for the rows of one backend.
std::vector<json::Document> json_objects(const CommBenchOptions& options,
                                         const std::string& backend, int nranks,
                                         const std::vector<SweepRow>& rows);

// Writes `objects` as a JSON list to `path`, one object a line, through a temporary file renamed
// into place. Throws Error when the file cannot be written.
void write_json_list(const std::string& path, const std::vector<json::Document>& objects);

// The objects of a file write_json_list() wrote. Throws Error when it cannot be read or is not
// a JSON list.
std::vector<json::Document> read_json_list(const std::string& path);

}  // namespace trellis::bench
