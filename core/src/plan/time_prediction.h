// The time half of a prediction: the schedule's actions simulated with each stage's forward,
// input-gradient and weight-gradient durations (compute at the rank's rates, the family's
// collectives over the links their groups land on) and the pipeline sends; then the data-parallel
// reductions, the step's synchronisation, the optimizer and ranks sharing devices
// (step_prediction.h, steps 1-4), and the throughput figures.
#pragma once

#include "plan/prediction_inputs.h"

namespace trellis::plan {

// Fills out.time, out.bubble_ratio and the throughput figures. Throws InputError when the
// schedule's plan deadlocks.
void predict_time(const PlanRequest& request, const PredictionInputs& in,
                  const ClusterSpec& cluster, Prediction& out);

}  // namespace trellis::plan
