// make_run_groups: the communicators one rank of a resolved run trains with — the world of every
// backend the run's groups use ([comm] backend, and each [comm.groups] names), and the groups
// split from them.
#pragma once

#include <memory>

#include "comm/flight_log.h"
#include "config/resolved_run.h"
#include "launch/rank_environment.h"
#include "trellis/rank_groups.h"

namespace trellis {

// Collective over the run's ranks; throws what create_worlds and make_rank_groups throw. With
// `flight` (and more than one rank), every group records its operations there
// (comm/flight_recording_communicator.h).
RankGroups make_run_groups(const ResolvedRun& run, const RankEnvironment& environment,
                           Device device, std::shared_ptr<FlightLog> flight = nullptr);

// What carries the groups, for the banner: the world's backend, then each other backend with
// the dimensions whose groups it carries — "mpi", or "mpi, tensor and pipeline groups over ucx".
// Read from the communicators themselves, so it says what was made, not what was asked for.
std::string group_backends_text(const RankGroups& groups);

}  // namespace trellis
