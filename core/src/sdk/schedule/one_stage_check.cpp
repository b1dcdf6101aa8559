#include <string>

#include "trellis/schedule_plugin.h"

namespace trellis {

std::vector<ConfigProblem> check_one_stage_per_rank(const RunQuery& query, const char* schedule,
                                                    const char* instead) {
  if (query.virtual_stages == 1) return {};
  return {{"parallel.virtual_stages",
           std::string(schedule) + " runs one stage per rank; virtual_stages = " +
               std::to_string(query.virtual_stages) + " " + instead + " (valid here: 1)"}};
}

}  // namespace trellis
