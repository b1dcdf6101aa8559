// The console table of `trellis-bench comm`: nccl-tests' columns and number formats, so the
// output reads (and greps) like all_reduce_perf's.
//
//   size (B)  count (elements)  type  redop  root  | out-of-place: time (us) algbw busbw #wrong
//                                                  | in-place:     time (us) algbw busbw #wrong
//
// redop is "none" and root -1 where the operation has none; a placement that was not measured
// shows "n/a" and the reason is printed once above the table.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "comm_options.h"
#include "comm_sweep.h"

namespace trellis::bench {

// `backend` as asked for; `runs_as` what the world communicator is (differs for a world of one,
// which is core's self communicator).
void print_table_header(std::FILE* out, const CommBenchOptions& options, const std::string& backend,
                        const std::string& runs_as, int nranks);
void print_table_row(std::FILE* out, const CommBenchOptions& options, const SweepRow& row);
// Average busbw over the measured cells, and whether any element was wrong, as nccl-tests ends.
void print_table_footer(std::FILE* out, const std::vector<SweepRow>& rows);

}  // namespace trellis::bench
