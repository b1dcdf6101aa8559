#include "launch/failure_report.h"

#include <charconv>
#include <chrono>

namespace trellis {

namespace {

constexpr const char* kCounterKey = "trellis-run/failures";
constexpr const char* kReportKey = "trellis-run/first-failure";

}  // namespace

void record_failure(Store& store, const FailureReport& report) {
  if (store.add(kCounterKey, 1) != 1) return;
  store.set(kReportKey, std::to_string(report.exit_code) + "\n" + report.message);
}

std::optional<FailureReport> recorded_failure(TcpStore& store) {
  if (!store.check({kReportKey})) return std::nullopt;
  const std::string text = store.get(kReportKey, std::chrono::seconds(1));
  FailureReport report;
  const std::size_t nl = text.find('\n');
  std::from_chars(text.data(), text.data() + std::min(nl, text.size()), report.exit_code);
  report.message = nl == std::string::npos ? text : text.substr(nl + 1);
  return report;
}

}  // namespace trellis
