// Predictions as JSON (trellis-plan --json FILE), for scripts: the validation tables in
// docs/planner.md are made from these. Units are SI: bytes, seconds, FLOP/s.
#pragma once

#include "json/readable_json.h"
#include "plan/layout_search.h"
#include "plan/step_prediction.h"

namespace trellis::plan {

json::Document prediction_json(const Prediction& prediction);
json::Document search_json(const SearchResult& result);

}  // namespace trellis::plan
