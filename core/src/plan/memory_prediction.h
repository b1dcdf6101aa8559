// The memory half of a prediction: each pipeline rank's parameters, gradients and optimizer
// state (its stages' parameters x precision.h's bytes), activations (its stages' per-microbatch
// sizes walked over its actions, activation_timeline.h) and the step's token ids; the largest
// rank, and whether it fits the device.
#pragma once

#include "plan/prediction_inputs.h"

namespace trellis::plan {

// Fills out.memory, out.peak, out.fits, out.device_memory and the per-layer activation figures.
void predict_memory(const PlanRequest& request, const PredictionInputs& in,
                    const ClusterSpec& cluster, Prediction& out);

}  // namespace trellis::plan
