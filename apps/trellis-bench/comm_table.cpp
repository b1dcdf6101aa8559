#include "comm_table.h"

#include "size_text.h"

namespace trellis::bench {

namespace {

void print_placement(std::FILE* out, const PlacementFigures& figures) {
  if (!figures.unavailable.empty()) {
    std::fprintf(out, "  %7s  %6s  %6s  %6s", "n/a", "n/a", "n/a", "n/a");
    return;
  }
  // nccl-tests' time format: fewer decimals as the number grows.
  const double t = figures.time_us;
  const char* format = t >= 10000.0 ? "  %7.0f" : t >= 100.0 ? "  %7.1f" : "  %7.2f";
  std::fprintf(out, format, t);
  std::fprintf(out, "  %6.2f  %6.2f", figures.algbw_gbs, figures.busbw_gbs);
  if (figures.wrong) {
    std::fprintf(out, "  %6lld", static_cast<long long>(*figures.wrong));
  } else {
    std::fprintf(out, "  %6s", "N/A");
  }
}

}  // namespace

void print_table_header(std::FILE* out, const CommBenchOptions& o, const std::string& backend,
                        const std::string& runs_as, int nranks) {
  std::fprintf(out, "# trellis-bench comm: %s, backend %s%s, %d rank%s, %s, %s to %s (x%lld)\n",
               bench_op_name(o.op), backend.c_str(),
               runs_as == backend ? "" : (" (runs as " + runs_as + ")").c_str(), nranks,
               nranks == 1 ? "" : "s", dtype_name(o.dtype), format_size(o.min_bytes).c_str(),
               format_size(o.max_bytes).c_str(), static_cast<long long>(o.factor));
  std::fprintf(out,
               "# %d timed iterations after %d warm-up; time = slowest rank's mean; check %s\n",
               o.iters, o.warmup, o.check ? "on" : "off");
  std::fprintf(out, "#\n");
  std::fprintf(out, "# %10s  %12s  %8s  %6s  %6s  %31s  %31s\n", "", "", "", "", "", "out-of-place",
               "in-place");
  std::fprintf(out, "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %6s  %7s  %6s  %6s  %6s\n", "size",
               "count", "type", "redop", "root", "time", "algbw", "busbw", "#wrong", "time",
               "algbw", "busbw", "#wrong");
  std::fprintf(out, "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %6s  %7s  %6s  %6s  %6s\n", "(B)",
               "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)", "(GB/s)",
               "");
  std::fflush(out);
}

void print_table_row(std::FILE* out, const CommBenchOptions& o, const SweepRow& row) {
  std::fprintf(out, "%12lld  %12lld  %8s  %6s  %6d", static_cast<long long>(row.shape.bytes),
               static_cast<long long>(row.shape.count), o.dtype == DType::i32 ? "int32" : "float",
               is_reduction(o.op) ? "sum" : "none", has_root(o.op) ? o.root : -1);
  print_placement(out, row.out_of_place);
  print_placement(out, row.in_place);
  std::fprintf(out, "\n");
  std::fflush(out);
}

void print_table_footer(std::FILE* out, const std::vector<SweepRow>& rows) {
  double busbw = 0;
  int cells = 0;
  long long wrong = 0;
  bool checked = false;
  for (const SweepRow& row : rows) {
    for (const PlacementFigures* figures : {&row.out_of_place, &row.in_place}) {
      if (!figures->unavailable.empty()) continue;
      busbw += figures->busbw_gbs;
      ++cells;
      if (figures->wrong) {
        checked = true;
        wrong += *figures->wrong;
      }
    }
  }
  if (checked) {
    std::fprintf(out, "# Out of bounds values : %lld %s\n", wrong, wrong == 0 ? "OK" : "FAILED");
  }
  std::fprintf(out, "# Avg bus bandwidth    : %g\n", cells > 0 ? busbw / cells : 0.0);
  std::fprintf(out, "#\n");
  std::fflush(out);
}

}  // namespace trellis::bench
