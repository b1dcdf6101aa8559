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
  const std::string world = groups.world->backend();
  const std::pair<const char*, const Communicator*> dimensions[] = {
      {"tensor", groups.tensor.get()},
      {"context", groups.context.get()},
      {"data", groups.data.get()},
      {"pipeline", groups.pipeline.get()},
      {"expert", groups.expert.get()}};
  // Other backends in the order the dimensions first name them.
  std::vector<std::string> others;
  for (const auto& [name, group] : dimensions) {
    if (group && group->backend() != world &&
        std::find(others.begin(), others.end(), group->backend()) == others.end()) {
      others.emplace_back(group->backend());
    }
  }
  std::string text = world;
  for (const std::string& backend : others) {
    std::string names;
    for (const auto& [name, group] : dimensions) {
      if (group && group->backend() == backend)
        names += (names.empty() ? "" : " and ") + std::string(name);
    }
    text += ", " + names + " groups over " + backend;
  }
  return text;
}

}  // namespace trellis
