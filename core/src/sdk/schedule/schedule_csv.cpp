// The CSV form of schedules (trellis/schedule.h), torch.distributed.pipelining's format.
#include <fstream>
#include <sstream>

#include "os/absolute_path.h"
#include "trellis/error.h"
#include "trellis/schedule.h"

namespace trellis {

std::vector<std::vector<Action>> parse_schedule_csv(const std::string& text,
                                                    const std::string& name) {
  std::vector<std::vector<Action>> per_rank;
  std::istringstream in(text);
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<Action> actions;
    std::size_t start = 0;
    int cell = 0;
    while (start <= line.size()) {
      std::size_t end = line.find(',', start);
      if (end == std::string::npos) end = line.size();
      std::string text_cell = line.substr(start, end - start);
      ++cell;
      if (text_cell.find_first_not_of(" \t\"") != std::string::npos) {
        // torch writes plain cells; tolerate quotes from spreadsheets.
        std::string trimmed;
        for (char c : text_cell)
          if (c != '"') trimmed += c;
        try {
          actions.push_back(parse_action(trimmed));
        } catch (const InputError& e) {
          throw InputError(name + ":" + std::to_string(line_number) + ": cell " +
                           std::to_string(cell) + ": " + e.what());
        }
      }
      start = end + 1;
    }
    per_rank.push_back(std::move(actions));
  }
  while (!per_rank.empty() && per_rank.back().empty()) per_rank.pop_back();
  if (per_rank.empty())
    throw InputError(name + ": no actions; one line per pipeline rank expected");
  return per_rank;
}

std::vector<std::vector<Action>> read_schedule_csv(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw InputError("schedule file " + absolute_path_text(file) + ": cannot read it");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_schedule_csv(text.str(), file);
}

std::string format_schedule_csv(const std::vector<std::vector<Action>>& per_rank) {
  std::string out;
  for (const auto& actions : per_rank) {
    for (std::size_t i = 0; i < actions.size(); ++i) {
      if (i) out += ',';
      out += to_string(actions[i]);
    }
    out += '\n';
  }
  return out;
}

}  // namespace trellis
