#include "config/config_error.h"

#include <algorithm>
#include <tuple>

namespace trellis {

std::string LocatedProblem::format() const {
  // Built with append(): GCC 12 warns falsely (-Wrestrict) about literal + std::string chains.
  std::string key_value = key;
  if (!value.empty()) key_value.append(" = ").append(value);
  std::string head;
  switch (origin.kind) {
    case Origin::Kind::file:
      head = origin.file;
      if (origin.line > 0) head.append(":").append(std::to_string(origin.line));
      // A column helps only where there is no key to look for (syntax errors).
      if (key.empty() && origin.column > 0) head.append(":").append(std::to_string(origin.column));
      if (!key.empty()) head.append(": ").append(key_value);
      break;
    case Origin::Kind::override_arg:
    case Origin::Kind::environment:
      head = origin.text;
      break;
    case Origin::Kind::default_value:
      if (!key.empty()) head = key_value.append(" (default)");
      break;
    case Origin::Kind::derived:
      if (!key.empty()) head = key_value.append(" (").append(origin.text).append(")");
      break;
  }
  if (head.empty()) return message;
  return head.append(": ").append(message);
}

void ProblemList::add(LocatedProblem problem) {
  problems_.push_back(std::move(problem));
}

std::vector<LocatedProblem> ProblemList::sorted() const {
  auto rank = [](const LocatedProblem& p) {
    int group = 0;
    switch (p.origin.kind) {
      case Origin::Kind::file:
        group = 0;
        break;
      case Origin::Kind::override_arg:
        group = 1;
        break;
      case Origin::Kind::environment:
        group = 2;
        break;
      case Origin::Kind::derived:
        group = 3;
        break;
      case Origin::Kind::default_value:
        group = 4;
        break;
    }
    return std::make_tuple(group, p.origin.line);
  };
  std::vector<LocatedProblem> out = problems_;
  std::stable_sort(out.begin(), out.end(), [&](const LocatedProblem& a, const LocatedProblem& b) {
    return rank(a) < rank(b);
  });
  return out;
}

void ProblemList::throw_if_any() const {
  if (!problems_.empty()) throw ConfigError(sorted());
}

namespace {

std::string format_all(const std::vector<LocatedProblem>& problems) {
  std::string out = std::to_string(problems.size()) +
                    (problems.size() == 1 ? " problem" : " problems") +
                    " in the run configuration; nothing was started:";
  for (const LocatedProblem& p : problems) {
    // Messages of several lines (a plugin search listing what exists) stay under their problem.
    std::string line = p.format();
    for (std::size_t at = line.find('\n'); at != std::string::npos; at = line.find('\n', at + 1)) {
      line.insert(at + 1, "    ");
    }
    out.append("\n  ").append(line);
  }
  return out;
}

}  // namespace

ConfigError::ConfigError(std::vector<LocatedProblem> problems)
    : InputError(format_all(problems)), problems_(std::move(problems)) {}

}  // namespace trellis
