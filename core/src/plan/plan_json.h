// Predictions as JSON (trellis-plan --json FILE), for scripts: the validation tables in
// docs/planner.md are made from these. Units are SI: bytes, seconds, FLOP/s.
#pragma once

#include "checkpoint/json.h"
#include "plan/layout_search.h"
#include "plan/step_prediction.h"

namespace trellis::plan {

Json prediction_json(const Prediction& prediction);
Json search_json(const SearchResult& result);

}  // namespace trellis::plan
