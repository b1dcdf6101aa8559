#include "launch/run_groups.h"

#include <algorithm>

#include "comm/flight_recording_communicator.h"
#include "launch/world.h"

namespace trellis {

RankGroups make_run_groups(const ResolvedRun& run, const RankEnvironment& environment,
                           Device device, std::shared_ptr<FlightLog> flight) {
  const std::vector<std::string> backends = run.comm_backends();
  std::vector<WorldBackend> requests;
  for (const std::string& name : backends) requests.push_back({name, &run.backend_options(name)});
  std::vector<std::shared_ptr<Communicator>> worlds =
      create_worlds(*run.registry, requests, environment, run.comm_timeout, device);
  if (flight && environment.world_size > 1) {
    for (std::shared_ptr<Communicator>& world : worlds) world = record_flights(world, flight);
  }
  const auto world_of = [&](CommDimension dimension) {
    const std::string backend = run.group_backend(dimension);
    const auto at = std::find(backends.begin(), backends.end(), backend);
    return worlds[static_cast<std::size_t>(at - backends.begin())];
  };
  GroupWorlds group_worlds;
  group_worlds.world = worlds.front();  // [comm] backend's
  group_worlds.tensor = world_of(CommDimension::tensor);
  group_worlds.context = world_of(CommDimension::context);
  group_worlds.data = world_of(CommDimension::data);
  group_worlds.pipeline = world_of(CommDimension::pipeline);
  group_worlds.expert = world_of(CommDimension::expert);
  return make_rank_groups(group_worlds, run.layout, static_cast<int>(run.moe.expert_parallel));
}

std::string group_backends_text(const RankGroups& groups) {
  // The group a dimension's backend carries (expert: null without expert parallelism).
  const auto group_of = [&](CommDimension dimension) -> const Communicator* {
    switch (dimension) {
      case CommDimension::tensor:
        return groups.tensor.get();
      case CommDimension::context:
        return groups.context.get();
      case CommDimension::data:
        return groups.data.get();
      case CommDimension::pipeline:
        return groups.pipeline.get();
      case CommDimension::expert:
        return groups.expert.get();
    }
    return nullptr;
  };
  const std::string world = groups.world->backend();
  // Other backends in the order the dimensions first name them.
  std::vector<std::string> others;
  for (CommDimension dimension : kCommDimensions) {
    const Communicator* group = group_of(dimension);
    if (group && group->backend() != world &&
        std::find(others.begin(), others.end(), group->backend()) == others.end()) {
      others.emplace_back(group->backend());
    }
  }
  std::string text = world;
  for (const std::string& backend : others) {
    std::string names;
    for (CommDimension dimension : kCommDimensions) {
      const Communicator* group = group_of(dimension);
      if (group && group->backend() == backend) {
        names += (names.empty() ? "" : " and ") + std::string(comm_dimension_name(dimension));
      }
    }
    text += ", " + names + " groups over " + backend;
  }
  return text;
}

}  // namespace trellis
