// Pipeline schedules as data.
//
// A schedule is a pure function from (pipeline size, pipeline rank, microbatches, virtual stages)
// to the rank's ordered list of actions. With v virtual stages the model is cut into p*v stages;
// stage s runs on rank stage_rank(s) (by default s % p, Megatron's interleaving).
//
// Actions have a text form shared with torch.distributed.pipelining: <stage><type><microbatch>,
// e.g. "2F0" (stage 2, forward of microbatch 0), "1SEND_B3", "0I5". F is a forward, B a whole
// backward, I and W the input-gradient and weight-gradient halves of a backward.
// A schedule may list compute actions only (F, B, I, W); core then adds the sends and receives.
// Core's simulator runs every rank's list together before training and rejects deadlocks and
// dependency errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trellis/config.h"

namespace trellis {

enum class ActionType : std::uint8_t { F, B, I, W, SEND_F, RECV_F, SEND_B, RECV_B };
const char* action_type_name(ActionType type) noexcept;  // "F", "SEND_B", ...
bool is_compute(ActionType type) noexcept;               // F, B, I, W

struct Action {
  int stage = 0;
  ActionType type = ActionType::F;
  int microbatch = 0;

  friend bool operator==(const Action&, const Action&) = default;
};

std::string to_string(const Action& action);  // "2F0"
// Parses the text form; throws InputError naming the text and the expected form.
Action parse_action(std::string_view text);

// Schedules as CSV, in torch.distributed.pipelining's format: one line per pipeline rank (rank 0
// first), each cell one action in text form, no header; empty cells are ignored. Parsing errors
// are InputErrors naming `name`, the line and the cell.
std::vector<std::vector<Action>> parse_schedule_csv(const std::string& text,
                                                    const std::string& name);
std::vector<std::vector<Action>> read_schedule_csv(const std::string& file);
std::string format_schedule_csv(const std::vector<std::vector<Action>>& per_rank);

struct ScheduleQuery {
  int pipeline_size = 1;
  int pipeline_rank = 0;
  int microbatches = 1;
  int virtual_stages = 1;
};

class Schedule {
 public:
  virtual ~Schedule() = default;

  // The actions of one rank, in the order it runs them.
  virtual std::vector<Action> actions(const ScheduleQuery& query) const = 0;
  // The rank that runs `stage`.
  virtual int stage_rank(int stage, const ScheduleQuery& query) const {
    return stage % query.pipeline_size;
  }
};

struct ScheduleInit {
  const Options* options = nullptr;
};

}  // namespace trellis
