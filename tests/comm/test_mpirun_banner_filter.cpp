// mpirun's stderr as trellis-run --mpirun passes it on: Open MPI 4.1's banners about a failed
// rank dropped once the launcher has named the failure, everything else unchanged.
#include <doctest/doctest.h>
#include <unistd.h>

#include <string>

#include "launch/mpirun_banner_filter.h"
#include "os/unique_fd.h"

using trellis::MpirunBannerFilter;

namespace {

// What Open MPI 4.1.4 prints (Debian 12) when rank 1 of 2 exits with 3, then is killed.
const std::string kDashes(74, '-');
const std::string kNonZero =
    kDashes + "\n" +
    "Primary job  terminated normally, but 1 process returned\n"
    "a non-zero exit code. Per user-direction, the job has been aborted.\n" +
    kDashes + "\n";
const std::string kDetected =
    kDashes + "\n" +
    "mpirun detected that one or more processes exited with non-zero "
    "status, thus causing\nthe job to be terminated. The first process "
    "to do so was:\n\n  Process name: [[18024,1],1]\n  Exit code:    3\n" +
    kDashes + "\n";
const std::string kSignal = kDashes + "\n" +
                            "mpirun noticed that process rank 1 with PID 0 on node vm exited on "
                            "signal 9 (Killed).\n" +
                            kDashes + "\n";
// One mpirun prints when it cannot start: the user needs it.
const std::string kNoSlots = kDashes + "\n" +
                             "There are not enough slots available in the system to satisfy the 4\n"
                             "slots that were requested by the application:\n\n  true\n" +
                             kDashes + "\n";

// What the filter writes for `input`, fed `chunk` bytes at a time.
std::string filtered(const std::string& input, std::size_t chunk, bool named) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  trellis::UniqueFd read_end(fds[0]), write_end(fds[1]);
  {
    MpirunBannerFilter filter(write_end.get(), [named] { return named; });
    for (std::size_t at = 0; at < input.size(); at += chunk) {
      filter.feed(input.data() + at, std::min(chunk, input.size() - at));
    }
    filter.finish();
  }
  write_end.reset();
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = ::read(read_end.get(), buffer, sizeof buffer)) > 0;) out.append(buffer, n);
  return out;
}

}  // namespace

TEST_CASE("the banners about a failed rank go once the launcher has named it; rank output stays") {
  const std::string ranks = "[1]: step 3 failed\nrank 0 still here\n";
  const std::string input = "rank 1 says why\n" + kNonZero + kDetected + ranks + kSignal;
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{80}, input.size()}) {
    CAPTURE(chunk);
    CHECK(filtered(input, chunk, true) == "rank 1 says why\n" + ranks);
    // Not named (the wrapper could not report): the banner is the only word on it and stays.
    CHECK(filtered(input, chunk, false) == input);
  }
}

TEST_CASE("mpirun's other messages, partial lines and unclosed blocks pass through unchanged") {
  CHECK(filtered(kNoSlots, 5, true) == kNoSlots);
  CHECK(filtered("a prompt without a newline", 4, true) == "a prompt without a newline");
  const std::string unclosed = kDashes + "\nPrimary job  terminated normally, but\n";
  CHECK(filtered(unclosed, 3, true) == unclosed);
  CHECK(filtered("---", 1, true) == "---");  // held while it may open a block, then written
}
