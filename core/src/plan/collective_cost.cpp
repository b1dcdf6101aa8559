#include "plan/collective_cost.h"

#include <cmath>

namespace trellis::plan {

const char* collective_name(Collective op) noexcept {
  switch (op) {
    case Collective::all_reduce:
      return "all_reduce";
    case Collective::all_gather:
      return "all_gather";
    case Collective::reduce_scatter:
      return "reduce_scatter";
    case Collective::broadcast:
      return "broadcast";
    case Collective::reduce:
      return "reduce";
    case Collective::send_recv:
      return "sendrecv";
    case Collective::all_to_all:
      return "all_to_all";
  }
  return "?";
}

bool parse_collective(const std::string& name, Collective& op) {
  for (Collective c :
       {Collective::all_reduce, Collective::all_gather, Collective::reduce_scatter,
        Collective::broadcast, Collective::reduce, Collective::send_recv, Collective::all_to_all}) {
    if (name == collective_name(c)) {
      op = c;
      return true;
    }
  }
  return false;
}

double alpha_steps(Collective op, int n) {
  if (n <= 1) return 0.0;
  const double log_steps = std::ceil(std::log2(static_cast<double>(n)));
  const double ranks_minus_one = n - 1.0;  // an all-to-all's pairwise exchange
  switch (op) {
    case Collective::all_reduce:
      return 2.0 * log_steps;
    case Collective::send_recv:
      return 1.0;
    case Collective::all_to_all:
      return ranks_minus_one;
    default:
      return log_steps;
  }
}

double beta_factor(Collective op, int n) {
  if (n <= 1) return 0.0;
  const double ranks = n;
  switch (op) {
    case Collective::all_reduce:
      return 2.0 * (ranks - 1.0) / ranks;
    case Collective::all_gather:
    case Collective::reduce_scatter:
    case Collective::all_to_all:
      return (ranks - 1.0) / ranks;
    default:
      return 1.0;
  }
}

double collective_seconds(Collective op, int n, double bytes, double latency, double bandwidth) {
  if (n <= 1) return 0.0;
  return alpha_steps(op, n) * latency + beta_factor(op, n) * bytes / bandwidth;
}

}  // namespace trellis::plan
