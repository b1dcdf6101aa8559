// What trellis-plan prints: one layout's prediction with its breakdowns, the ranked table of a
// search, and the calibration's fit. Plain text, aligned columns, units chosen per value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plan/calibration.h"
#include "plan/cluster_spec.h"
#include "plan/layout_search.h"
#include "plan/step_prediction.h"

namespace trellis::plan {

std::string format_bytes(double bytes);                    // "1.50 GiB", "12.0 MiB", "512 B"
std::string format_seconds(double seconds);                // "1.52 s", "43.1 ms", "8.0 us", "2.1 h"
std::string describe_cluster(const ClusterSpec& cluster);  // one line

// The prediction in full. `train_tokens` adds the time to train that many tokens.
std::string format_prediction(const Prediction& prediction, const ClusterSpec& cluster,
                              std::optional<double> train_tokens);
// The rows of the search table, best first: predictions that print the same in every column
// after the layout (memory, step, tokens/s, TFLOP/s, MFU, bubble, tp comm, dp exposed) share a
// row, which lists their layouts.
struct SearchRow {
  std::vector<std::size_t> predictions;  // indices into SearchResult::ranked, best first
  std::vector<std::string> cells;        // the columns after the layout, as printed
};
std::vector<SearchRow> search_rows(const SearchResult& result);

// The search's summary, its table of the `top` best rows with a legend of the columns, and each
// shown row's prediction in full.
std::string format_search(const SearchResult& result, const ClusterSpec& cluster, int top);
std::string format_link_fit(const LinkFit& fit, const std::string& link_name);
std::string format_compute_fit(const ComputeFit& fit, const std::vector<MeasuredRun>& runs);

}  // namespace trellis::plan
