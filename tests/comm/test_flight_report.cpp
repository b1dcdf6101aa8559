// The flight record's analysis: records written as the recorder writes them, into a directory,
// read back and reported on. Each case is a hang as it looks from the files: a rank that never
// entered a collective, ranks that entered different ones, a rank that wrote nothing.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "launch/flight_report.h"
#include "trellis/error.h"

using namespace trellis;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr double kWritten = 200e6;  // when every rank wrote its record (us)

struct Op {
  std::string op = "all_reduce";
  std::int64_t bytes = 16384;
  std::string state = "completed";
  std::string where = "step 3";
  int peer = -1;
  int tag = -1;
  std::string dtype = "f32";
};

// `ops` numbered from `first`; op i entered at 100 s + i ms, so later ops are later in time.
Json group(const std::string& name, int rank, const std::vector<int>& members, std::int64_t first,
           const std::vector<Op>& ops) {
  Json list = Json::array();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& o = ops[i];
    const std::int64_t seq = first + static_cast<std::int64_t>(i);
    const double enqueued = 100e6 + 1e3 * static_cast<double>(seq);
    list.push_back({{"seq", seq},
                    {"op", o.op},
                    {"dtype", o.dtype},
                    {"bytes", o.bytes},
                    {"peer", o.peer},
                    {"tag", o.tag},
                    {"state", o.state},
                    {"where", o.where},
                    {"enqueued_us", enqueued},
                    {"completed_us", o.state == "completed" ? Json(enqueued + 50) : Json()}});
  }
  return {{"name", name},       {"backend", "mpi"},
          {"rank", rank},       {"size", members.size()},
          {"members", members}, {"next_seq", first + static_cast<std::int64_t>(ops.size())},
          {"ops", list}};
}

Json record(int rank, int world_size, std::vector<Json> groups,
            const std::string& reason = "signal SIGTERM") {
  return {{"rank", rank},     {"world_size", world_size}, {"pid", 1000 + rank}, {"host", "vm1"},
          {"reason", reason}, {"written_us", kWritten},   {"groups", groups}};
}

// `count` completed all_reduces of 16 KiB.
std::vector<Op> completed(int count) {
  return std::vector<Op>(static_cast<std::size_t>(count));
}

std::vector<Op> then(std::vector<Op> ops, const Op& op) {
  ops.push_back(op);
  return ops;
}

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() /
                 ("trellis-flight-report-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
}

fs::path write_records(const std::string& name, const std::vector<Json>& records) {
  const fs::path dir = fresh_dir(name);
  for (const Json& r : records) {
    write_text(dir / ("rank-" + std::to_string(r["rank"].get<int>()) + ".json"), r.dump(2));
  }
  return dir;
}

std::string report_of(const fs::path& dir, int world_size) {
  std::vector<std::string> problems;
  const auto records = read_flight_records(dir, &problems);
  return analyze_flight_records(records, world_size, problems);
}

// Whether `part` is in the report; when not, the report is shown beside the failed check.
bool contains(const std::string& text, const std::string& part) {
  const bool found = text.find(part) != std::string::npos;
  if (!found) MESSAGE("the report:\n" << text);
  return found;
}

const std::vector<int> kWorld4 = {0, 1, 2, 3};

}  // namespace

TEST_CASE("records that agree report no disagreement") {
  std::vector<Json> records;
  for (int r = 0; r < 4; ++r) {
    records.push_back(record(
        r, 4,
        {group("world", r, kWorld4, 0, completed(10)),
         group("data group [" + std::to_string(r % 2) + ", " + std::to_string(r % 2 + 2) + "]",
               r / 2, {r % 2, r % 2 + 2}, 0, completed(3))}));
  }
  const std::string report = report_of(write_records("agree", records), 4);
  CHECK(contains(report, "flight record: 4 of 4 ranks wrote one\n"));
  CHECK(contains(report, "  ranks 0-3: signal SIGTERM\n"));
  CHECK(contains(report, "first disagreement: none"));
  CHECK(contains(report, "3 groups agree up to the last operation, all completed"));
  CHECK_FALSE(contains(report, "never entered"));
  CHECK_FALSE(contains(report, "mismatch"));
}

TEST_CASE("a rank that never entered an all_reduce is named, with its last operation") {
  std::vector<Json> records;
  for (int r : {0, 1, 3}) {
    records.push_back(record(
        r, 4,
        {group("world", r, kWorld4, 50,
               then(completed(7),
                    {.state = "started", .where = "step 3, pipeline action 1B2 (stage 1)"}))},
        "backend mpi: timed out after 3000 ms waiting for all_reduce"));
  }
  // Rank 2 finished #56 and went elsewhere: no operation of its in flight.
  std::vector<Op> rank2 = completed(7);
  rank2.back().where = "step 3, pipeline action 2F1 (stage 2)";
  records.push_back(record(2, 4, {group("world", 2, kWorld4, 50, rank2)}));
  const std::string report = report_of(write_records("never-entered", records), 4);
  CHECK(contains(report,
                 "first disagreement: world #57 all_reduce f32 16 KiB: rank 2 never "
                 "entered it; ranks 0, 1, 3 did\n"));
  CHECK(contains(report,
                 "  rank 2: never entered it; last #56 all_reduce f32 16 KiB at "
                 "\"step 3, pipeline action 2F1 (stage 2)\", completed\n"));
  CHECK(contains(report, "  rank 2: now in no other group's operation"));
  // Entered at 100 s + 57 ms, written at 200 s.
  CHECK(contains(report,
                 "  ranks 0, 1, 3: entered at \"step 3, pipeline action 1B2 (stage 1)\", "
                 "started, for 99.9 s\n"));
  CHECK(contains(report, "  ranks 0, 1, 3: backend mpi: timed out after 3000 ms"));
}

TEST_CASE("a never-entered rank's current operation in another group is named") {
  // Rank 1 waits in the data group's #5 for rank 3, which never entered it: rank 3 waits in the
  // world's #9, entered later, which rank 1 never entered. The earlier wait is the culprit.
  const std::vector<int> data = {1, 3};
  std::vector<Json> records;
  for (int r : {0, 2}) {
    records.push_back(record(r, 4, {group("world", r, kWorld4, 0, completed(9))}));
  }
  records.push_back(record(1, 4,
                           {group("world", 1, kWorld4, 0, completed(9)),
                            group("data group [1, 3]", 0, data, 0,
                                  then(completed(5), {.state = "started", .where = "step 2"}))}));
  // Rank 3's world #9 is entered at 100 s + 9 ms, after rank 1's data #5 (100 s + 5 ms).
  records.push_back(record(
      3, 4,
      {group("world", 3, kWorld4, 0, then(completed(9), {.state = "started", .where = "step 3"})),
       group("data group [1, 3]", 1, data, 0, completed(5))}));
  const std::string report = report_of(write_records("elsewhere", records), 4);
  CHECK(contains(report,
                 "first disagreement: data group [1, 3] #5 all_reduce f32 16 KiB: rank 3 "
                 "never entered it; rank 1 did\n"));
  CHECK(contains(report,
                 "  rank 3: now in world #9 all_reduce f32 16 KiB at \"step 3\", started, "
                 "for 100.0 s\n"));
  CHECK(
      contains(report, "world: #9 all_reduce f32 16 KiB: ranks 0-2 never entered it; rank 3 did"));
}

TEST_CASE("members that entered the same op number with different bytes are a mismatch") {
  std::vector<Op> big = completed(6), small = completed(6);
  small[5].bytes = 8192;
  small[5].where = "step 4, embedding";
  const std::string report =
      report_of(write_records("bytes", {record(0, 2, {group("world", 0, {0, 1}, 0, big)}),
                                        record(1, 2, {group("world", 1, {0, 1}, 0, small)})}),
                2);
  CHECK(contains(report,
                 "first disagreement: world #5 mismatch: rank 0: all_reduce f32 16 KiB; "
                 "rank 1: all_reduce f32 8 KiB\n"));
  CHECK(contains(report, "  rank 1: all_reduce f32 8 KiB at \"step 4, embedding\", completed\n"));
}

TEST_CASE("the same collective from another point of the step is a mismatch") {
  // Rank 1 left out the loss all-reduce: its next all-reduce of the same size (the metrics')
  // met rank 0's loss all-reduce, and the code paths tell them apart.
  std::vector<Op> a = completed(6), b = completed(6);
  a[5].where = "step 2, loss all-reduce";
  b[5].where = "step 2, after the step";
  const std::string report =
      report_of(write_records("where", {record(0, 2, {group("world", 0, {0, 1}, 0, a)}),
                                        record(1, 2, {group("world", 1, {0, 1}, 0, b)})}),
                2);
  CHECK(contains(report,
                 "first disagreement: world #5 mismatch: rank 0: all_reduce f32 16 KiB from "
                 "\"step 2, loss all-reduce\"; rank 1: all_reduce f32 16 KiB from \"step 2, "
                 "after the step\"\n"));
  // Pipeline actions differ between stages (the embedding group): not a mismatch.
  a[5].where = "step 2, pipeline action 0B3 (stage 0, microbatch 3)";
  b[5].where = "step 2, pipeline action 3B3 (stage 3, microbatch 3)";
  const std::string fine =
      report_of(write_records("where-actions", {record(0, 2, {group("world", 0, {0, 1}, 0, a)}),
                                                record(1, 2, {group("world", 1, {0, 1}, 0, b)})}),
                2);
  CHECK(contains(fine, "first disagreement: none"));
}

TEST_CASE("members that entered different collectives are a mismatch") {
  std::vector<Op> a = then(completed(3), {.state = "started"});
  std::vector<Op> b = then(completed(3), {.op = "all_gather", .state = "started"});
  const std::string report =
      report_of(write_records("op", {record(0, 3, {group("world", 0, {0, 1, 2}, 0, a)}),
                                     record(1, 3, {group("world", 1, {0, 1, 2}, 0, b)}),
                                     record(2, 3, {group("world", 2, {0, 1, 2}, 0, a)})}),
                3);
  CHECK(contains(report,
                 "first disagreement: world #3 mismatch: ranks 0, 2: all_reduce f32 16 "
                 "KiB; rank 1: all_gather f32 16 KiB\n"));
}

TEST_CASE("all_to_all_v's bytes may differ by rank") {
  std::vector<Op> a = completed(3), b = completed(3);
  a[1] = {.op = "all_to_all_v", .bytes = 1000};
  b[1] = {.op = "all_to_all_v", .bytes = 3000};
  const std::string report =
      report_of(write_records("a2av", {record(0, 2, {group("world", 0, {0, 1}, 0, a)}),
                                       record(1, 2, {group("world", 1, {0, 1}, 0, b)})}),
                2);
  CHECK(contains(report, "first disagreement: none"));
}

TEST_CASE("a rank that wrote no record is named in the header and in its groups") {
  // Rank 1 was stopped (SIGSTOP): the others wait for it in #57 and it writes nothing.
  std::vector<Json> records;
  for (int r : {0, 2}) {
    records.push_back(record(r, 3,
                             {group("world", r, {0, 1, 2}, 50,
                                    then(completed(7), {.state = "started", .where = "step 3"}))},
                             "backend mpi: timed out after 3000 ms waiting for all_reduce"));
  }
  const std::string report = report_of(write_records("sigstop", records), 3);
  CHECK(contains(report, "flight record: 2 of 3 ranks wrote one\n"));
  CHECK(contains(report,
                 "  rank 1 wrote no record: it was stopped, killed before it could "
                 "write, or is stuck outside Trellis's code\n"));
  CHECK(contains(report,
                 "first disagreement: world #57 all_reduce f32 16 KiB: rank 1 wrote no "
                 "record; ranks 0, 2 waiting 99.9 s\n"));
}

TEST_CASE("members that agree and wait are a group waiting on something else") {
  std::vector<Op> a = then(completed(4), {.state = "started", .where = "step 1"});
  std::vector<Op> b = then(completed(4), {.state = "completed", .where = "step 1"});
  const std::string report =
      report_of(write_records("waiting", {record(0, 2, {group("world", 0, {0, 1}, 0, a)}),
                                          record(1, 2, {group("world", 1, {0, 1}, 0, b)})}),
                2);
  CHECK(contains(report,
                 "first disagreement: none; longest wait: world #4 all_reduce f32 16 KiB: "
                 "all entered; rank 0 still waiting (100.0 s) - the group is waiting on "
                 "something else\n"));
}

TEST_CASE("ring windows that start at different op numbers are compared where both reach") {
  SUBCASE("a difference only one ring still holds is not reported") {
    std::vector<Op> longer = completed(18);
    longer[2].bytes = 4;  // #42, gone from rank 0's ring
    const std::string report = report_of(
        write_records("windows", {record(0, 2, {group("world", 0, {0, 1}, 50, completed(8))}),
                                  record(1, 2, {group("world", 1, {0, 1}, 40, longer)})}),
        2);
    CHECK(contains(report, "first disagreement: none"));
  }
  SUBCASE("a difference both hold is") {
    std::vector<Op> shorter = completed(8), longer = completed(18);
    shorter[2].bytes = 4;  // #52
    const std::string report = report_of(
        write_records("windows-mismatch", {record(0, 2, {group("world", 0, {0, 1}, 50, shorter)}),
                                           record(1, 2, {group("world", 1, {0, 1}, 40, longer)})}),
        2);
    CHECK(contains(report,
                   "first disagreement: world #52 mismatch: rank 0: all_reduce f32 4 B; "
                   "rank 1: all_reduce f32 16 KiB\n"));
  }
  SUBCASE("a rank behind the other's whole ring never entered the op after its last") {
    // Rank 1 stopped at #47; rank 0's ring starts at #50 (its #48 is gone).
    const std::string report = report_of(
        write_records(
            "windows-behind",
            {record(0, 2,
                    {group("world", 0, {0, 1}, 50, then(completed(7), {.state = "started"}))}),
             record(1, 2, {group("world", 1, {0, 1}, 40, completed(8))})}),
        2);
    CHECK(contains(report, "first disagreement: world #48: rank 1 never entered it; rank 0 did\n"));
    CHECK(contains(report, "  rank 1: never entered it; last #47 all_reduce"));
    CHECK(contains(report, "  rank 0: entered it (gone from its record); last #57"));
  }
}

TEST_CASE("a send never matched by a recv names the peer") {
  const std::vector<int> pipe = {0, 1};
  const std::vector<Op> sender = {{.op = "send", .peer = 1, .tag = 3},
                                  {.op = "send", .state = "started", .peer = 1, .tag = 3}};
  const std::vector<Op> receiver = {{.op = "recv", .where = "step 3, 1F0", .peer = 0, .tag = 3}};
  const std::string report = report_of(
      write_records("p2p", {record(0, 2, {group("pipeline group [0, 1]", 0, pipe, 0, sender)}),
                            record(1, 2, {group("pipeline group [0, 1]", 1, pipe, 0, receiver)})}),
      2);
  CHECK(contains(report,
                 "first disagreement: pipeline group [0, 1] rank 0 waits in #1 send f32 "
                 "16 KiB to rank 1 tag 3 (100.0 s): rank 1 has no matching recv in "
                 "flight\n"));
  CHECK(contains(report,
                 "  rank 1: last #0 recv f32 16 KiB from rank 0 tag 3 at \"step 3, "
                 "1F0\", completed\n"));
}

TEST_CASE("malformed records are input errors naming the file; the directory keeps the rest") {
  const fs::path dir =
      write_records("malformed", {record(0, 2, {group("world", 0, {0, 1}, 0, completed(2))})});
  write_text(dir / "rank-1.json", "{\"rank\": 1,");
  Json wrong = record(2, 3, {group("world", 2, {0, 1, 2}, 0, completed(2))});
  wrong["groups"][0]["ops"][1]["bytes"] = "many";
  write_text(dir / "rank-2.json", wrong.dump());

  const std::string at_file = (dir / "rank-1.json").string() + ": line 1";
  CHECK_THROWS_WITH_AS(read_flight_record(dir / "rank-1.json"), doctest::Contains(at_file.c_str()),
                       InputError);
  CHECK_THROWS_WITH_AS(read_flight_record(dir / "rank-2.json"),
                       doctest::Contains("rank-2.json: groups[0].ops[1].bytes: expected an "
                                         "integer, got a string"),
                       InputError);
  CHECK_THROWS_AS(read_flight_record(dir / "rank-9.json"), InputError);

  std::vector<std::string> problems;
  const auto records = read_flight_records(dir, &problems);
  REQUIRE(records.size() == 1);
  CHECK(records[0].rank == 0);
  REQUIRE(problems.size() == 2);
  CHECK(contains(problems[0], "rank-1.json"));
  const std::string report = analyze_flight_records(records, 2, problems);
  CHECK(contains(report, "  unreadable: flight record " + (dir / "rank-1.json").string()));
  CHECK(contains(report, "  rank 1 wrote no record"));
  CHECK_THROWS_AS(read_flight_records(dir / "missing"), InputError);
}

TEST_CASE("a ring whose op numbers skip is malformed") {
  Json r = record(0, 1, {group("world", 0, {0}, 0, completed(3))});
  r["groups"][0]["ops"][2]["seq"] = 7;
  const fs::path dir = fresh_dir("skip");
  write_text(dir / "rank-0.json", r.dump());
  CHECK_THROWS_WITH_AS(read_flight_record(dir / "rank-0.json"),
                       doctest::Contains("groups[0].ops[2].seq: 7 follows 1"), InputError);
}

TEST_CASE("members come from the group's name when the record lists none") {
  Json r = record(1, 4, {group("data group [1, 3]", 0, {}, 0, completed(1))});
  r["groups"][0]["size"] = 2;
  const fs::path dir = fresh_dir("names");
  write_text(dir / "rank-1.json", r.dump());
  Json w = record(2, 4, {group("world", 2, {}, 0, completed(1))});
  w["groups"][0]["size"] = 4;
  write_text(dir / "rank-2.json", w.dump());
  CHECK(read_flight_record(dir / "rank-1.json").groups[0].members == std::vector<int>{1, 3});
  CHECK(read_flight_record(dir / "rank-2.json").groups[0].members == kWorld4);
}

TEST_CASE("a member whose record leaves the group out never entered its first op") {
  // The recorder writes no group on which its rank has issued nothing.
  const std::vector<int> tensor = {0, 1};
  const std::string report = report_of(
      write_records("unused-group", {record(0, 2,
                                            {group("world", 0, tensor, 0, completed(2)),
                                             group("tensor group [0, 1]", 0, tensor, 0,
                                                   {{.state = "started", .where = "L0"}})}),
                                     record(1, 2, {group("world", 1, tensor, 0, completed(2))})}),
      2);
  CHECK(contains(report,
                 "first disagreement: tensor group [0, 1] #0 all_reduce f32 16 KiB: rank "
                 "1 never entered it; rank 0 did\n"));
  CHECK(contains(report, "  rank 1: never entered it; no operation on this group yet\n"));
}
