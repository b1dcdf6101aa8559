// What a run's config is loaded for, which decides what must exist on this machine.
#pragma once

namespace trellis {

// train: everything the ranks will need (data files, every plugin the run uses).
// plan: what trellis-plan needs to predict the run — the model, the batch, the layout, the layer
// family and the schedule (whose plan it simulates). A config written for a cluster names data
// and a backend that need not exist where it is planned: [data] train and val are neither
// required nor read, and the backend's name need only be a real plugin's.
enum class LoadPurpose : unsigned char { train, plan };

}  // namespace trellis
