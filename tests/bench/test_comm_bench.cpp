// trellis-bench comm as a user runs it: bad arguments exit 2 with the usage; a tiny run of two
// ranks per backend built (and the mpi-raw baseline) launches itself, prints nccl-tests' columns
// and writes JSON with DESIGN.md's fields and no wrong elements; several backends in one command
// give one JSON; under a launcher it is one rank.
//
// A case that needs what this build or machine lacks (a backend, MPI, a machine without a GPU)
// is in a test suite of its own and skips visibly (skip_case.h): ctest runs each such suite as
// test_comm_bench_<suite> and reports it skipped, with the reason.
#include <doctest/doctest.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "device/cuda_probe.h"
#include "skip_case.h"
#include "support/process.h"

namespace fs = std::filesystem;
using JsonObject = nlohmann::json;
using trellis::test::ProcessResult;
using trellis::test::run_process;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

// The comm plugins this build made, then the baseline when MPI is in the build.
std::vector<std::string> every_backend() {
  std::vector<std::string> backends = split(BENCH_TEST_PLUGINS);
  if (BENCH_TEST_HAVE_MPI) backends.push_back("mpi-raw");
  return backends;
}

ProcessResult bench(std::vector<std::string> args) {
  args.insert(args.begin(), {TRELLIS_BENCH_BINARY, "comm"});
  return run_process(args);
}

fs::path work_file(const std::string& name) {
  const fs::path dir = fs::path(BENCH_TEST_WORK_DIR);
  fs::create_directories(dir);
  fs::remove(dir / name);
  return dir / name;
}

std::vector<JsonObject> read_rows(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "no JSON file " << path);
  std::stringstream text;
  text << in.rdbuf();
  // The contract: a list of flat objects (strings, numbers, booleans, null).
  const nlohmann::json list = nlohmann::json::parse(text.str());
  REQUIRE(list.is_array());
  for (const nlohmann::json& row : list) {
    REQUIRE(row.is_object());
    for (const auto& field : row.items())
      REQUIRE_MESSAGE(field.value().is_primitive(), field.key());
  }
  return list.get<std::vector<JsonObject>>();
}

bool holds_string(const JsonObject& row, const std::string& key) {
  return row.contains(key) && row.at(key).is_string();
}

bool holds_number(const JsonObject& row, const std::string& key) {
  return row.contains(key) && row.at(key).is_number();
}

double number(const JsonObject& row, const std::string& key) {
  return row.at(key).get<double>();
}

// Every row has the contract's fields with the right types and plausible values.
void check_rows(const std::vector<JsonObject>& rows, const std::string& op, int nranks) {
  for (const JsonObject& row : rows) {
    CAPTURE(row.at("backend").get<std::string>());
    REQUIRE(holds_string(row, "op"));
    CHECK(row.at("op").get<std::string>() == op);
    REQUIRE(holds_string(row, "backend"));
    REQUIRE(holds_number(row, "nranks"));
    CHECK(number(row, "nranks") == nranks);
    REQUIRE(holds_number(row, "size_bytes"));
    REQUIRE(holds_number(row, "time_us"));
    CHECK(number(row, "time_us") > 0);
    REQUIRE(holds_number(row, "algbw_gbs"));
    REQUIRE(holds_number(row, "busbw_gbs"));
    CHECK(number(row, "algbw_gbs") >= 0);
    REQUIRE(holds_number(row, "wrong"));
    CHECK(number(row, "wrong") == 0);
    REQUIRE(row.contains("in_place"));
    REQUIRE(row.at("in_place").is_boolean());
  }
}

const char* const kColumns = "time   algbw   busbw  #wrong     time   algbw   busbw  #wrong";

}  // namespace

TEST_CASE("bad arguments exit 2 with the usage") {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"--op", "all_reduce", "-b", "8", "-e", "1K"},               // no --backend
      {"--backend", "mpi-raw", "-b", "8", "-e", "1K"},             // no --op
      {"--backend", "mpi-raw", "--op", "all_reduce", "-e", "1K"},  // no -b
      {"--backend", "mpi-raw", "--op", "allreduce", "-b", "8", "-e", "1K"},
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "8X", "-e", "1K"},
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "-8", "-e", "1K"},
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "2K", "-e", "1K"},
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "8", "-e", "1K", "-f", "1"},
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "8", "-e", "1K", "-n", "0"},
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "8", "-e", "1K", "-c", "2"},
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "8", "-e", "1K", "--dtype", "bf16"},
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "8", "-e", "1K", "--nproc", "0"},
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "8", "-e", "1K", "--frobnicate"},
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "8", "-e", "1K", "-w"},
      {"--backend", "mpi-raw,mpi-raw", "--op", "all_reduce", "-b", "8", "-e", "1K"},
      {"--backend", "mpi-raw", "--op", "broadcast", "-b", "8", "-e", "1K", "--nproc", "2", "-r",
       "2"},
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "8", "-e", "1K", "--option", "tls=shm"},
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "8", "-e", "1K", "--option",
       "ucx.tls=shm"},  // ucx is not benchmarked
      {"--backend", "mpi-raw", "--op", "all_reduce", "-b", "8", "-e", "1K", "--option",
       "mpi-raw.x=1"},
  };
  for (const std::vector<std::string>& args : bad) {
    std::string line;
    for (const std::string& a : args) line += a + " ";
    CAPTURE(line);
    const ProcessResult result = bench(args);
    CHECK(result.exit_code == 2);
    CHECK(contains(result.output, "usage: trellis-bench comm"));
  }

  const ProcessResult no_command = run_process({TRELLIS_BENCH_BINARY});
  CHECK(no_command.exit_code == 2);
  const ProcessResult unknown = run_process({TRELLIS_BENCH_BINARY, "kernels-and-more"});
  CHECK(unknown.exit_code == 2);
  CHECK(contains(unknown.output, "unknown benchmark"));
}

TEST_CASE("a backend nobody provides exits 2 naming what exists, before launching anything") {
  const ProcessResult result = bench(
      {"--backend", "carrier-pigeon", "--nproc", "2", "--op", "all_reduce", "-b", "8", "-e", "1K"});
  CHECK(result.exit_code == 2);
  CHECK(contains(result.output, "carrier-pigeon"));
}

TEST_CASE("a GPU backend where no GPU works exits 2 with the reason, before launching anything" *
          doctest::test_suite("nccl_without_gpu")) {
  TRELLIS_SKIP_CASE_IF(!BENCH_TEST_HAVE_NCCL, "the nccl plugin is not built here");
  TRELLIS_SKIP_CASE_IF(trellis::probe_cuda().device_count > 0,
                       "this machine has a GPU; the case is for machines without one");
  const ProcessResult result =
      bench({"--backend", "nccl", "--nproc", "2", "--op", "all_reduce", "-b", "8", "-e", "1K"});
  CHECK(result.exit_code == 2);
  CHECK(contains(result.output, "backend nccl moves GPU memory, but"));
  CHECK(contains(result.output, trellis::probe_cuda().problem));
}

TEST_CASE("--option: a backend's option reaches it; an unknown key or a bad value exits 2" *
          doctest::test_suite("ucx_options")) {
  const std::vector<std::string> plugins = split(BENCH_TEST_PLUGINS);
  TRELLIS_SKIP_CASE_IF(std::find(plugins.begin(), plugins.end(), "ucx") == plugins.end(),
                       "the ucx plugin is not built here");
  const std::vector<std::string> base = {"--backend", "ucx", "--nproc", "2",  "--op", "all_reduce",
                                         "-b",        "8",   "-e",      "1K", "-n",   "2"};
  auto with = [&](const std::string& option) {
    std::vector<std::string> args = base;
    args.insert(args.end(), {"--option", option});
    return bench(args);
  };
  const ProcessResult unknown = with("ucx.spinpolls=100");
  CHECK(unknown.exit_code == 2);
  CHECK(contains(unknown.output, "has no option 'spinpolls'; valid:"));
  CHECK(contains(unknown.output, "spin_polls"));
  const ProcessResult not_integer = with("ucx.spin_polls=many");
  CHECK(not_integer.exit_code == 2);
  CHECK(contains(not_integer.output, "spin_polls takes an integer"));
  std::vector<std::string> both = base;
  both[1] = "ucx,mpi-raw";  // each launch gets only its backend's options
  both.insert(both.end(), {"--option", "ucx.spin_polls=100000", "--option", "ucx.tls=shm,self"});
  if (!BENCH_TEST_HAVE_MPI) both[1] = "ucx";
  const ProcessResult accepted = bench(both);
  INFO(accepted.output);
  CHECK(accepted.exit_code == 0);
  CHECK(contains(accepted.output, "# Out of bounds values : 0 OK"));
}

TEST_CASE("--help exits 0 and explains every option") {
  const ProcessResult result = bench({"--help"});
  CHECK(result.exit_code == 0);
  for (const char* option : {"--backend", "--nproc", "--op", "-b", "-e", "-f", "-n", "-w", "-c",
                             "--dtype", "--json", "--option", "mpi-raw", "busbw"}) {
    CHECK(contains(result.output, option));
  }
}

TEST_CASE("2 ranks of each backend, launched by the bench: nccl-tests' columns, valid JSON" *
          doctest::test_suite("each_backend")) {
  TRELLIS_SKIP_CASE_IF(every_backend().empty(), "no CPU comm backend (mpi, ucx) is built here");
  for (const std::string& backend : every_backend()) {
    CAPTURE(backend);
    const fs::path json = work_file("tiny-" + backend + ".json");
    const ProcessResult result =
        bench({"--backend", backend, "--nproc", "2", "--op", "all_reduce", "-b", "8", "-e", "32K",
               "-f", "16", "-n", "3", "-w", "1", "--json", json.string()});
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    CHECK(contains(result.output, kColumns));
    CHECK(contains(result.output, "# Out of bounds values : 0 OK"));
    CHECK(contains(result.output, "backend " + backend + ", 2 ranks"));
    const std::vector<JsonObject> rows = read_rows(json);
    // 8 B, 128 B, 2 KiB, 32 KiB, each out of place and in place.
    REQUIRE(rows.size() == 8);
    check_rows(rows, "all_reduce", 2);
    std::set<double> sizes;
    for (const JsonObject& row : rows) sizes.insert(number(row, "size_bytes"));
    CHECK(sizes == std::set<double>{8, 128, 2048, 32768});
    CHECK(!fs::exists(json.string() + ".part-" + backend));
  }
}

TEST_CASE("every operation runs and checks clean on 2 ranks" *
          doctest::test_suite("every_operation")) {
  const std::vector<std::string> backends = every_backend();
  TRELLIS_SKIP_CASE_IF(backends.empty(), "no CPU comm backend (mpi, ucx) is built here");
  const std::string backend = backends.front();
  for (const char* op : {"all_gather", "reduce_scatter", "broadcast", "reduce", "all_to_all",
                         "all_to_all_v", "sendrecv"}) {
    CAPTURE(op);
    const fs::path json = work_file(std::string("op-") + op + ".json");
    const ProcessResult result =
        bench({"--backend", backend, "--nproc", "2",   "--op",   op,           "-b",
               "64",        "-e",    "64K",     "-f",  "32",     "-n",         "2",
               "-w",        "1",     "--dtype", "i32", "--json", json.string()});
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    const std::vector<JsonObject> rows = read_rows(json);
    CHECK(!rows.empty());
    check_rows(rows, op, 2);
  }
}

TEST_CASE("all_to_all_v checks clean on 3 ranks of every backend, the MPI_Alltoallv baseline too" *
          doctest::test_suite("every_operation")) {
  const std::vector<std::string> backends = every_backend();
  TRELLIS_SKIP_CASE_IF(backends.empty(), "no CPU comm backend (mpi, ucx) is built here");
  std::string list;
  for (const std::string& backend : backends) list += (list.empty() ? "" : ",") + backend;
  const fs::path json = work_file("op-all_to_all_v.json");
  // 1 KiB to 96 KiB of i32: shares of 1/6, 2/6 and 3/6 that do not divide every size evenly.
  const ProcessResult result =
      bench({"--backend", list, "--nproc", "3",   "--op",   "all_to_all_v", "-b",
             "1K",        "-e", "96K",     "-f",  "7",      "-n",           "2",
             "-w",        "1",  "--dtype", "i32", "--json", json.string()});
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  const std::vector<JsonObject> rows = read_rows(json);
  // Out of place only (no in-place form): 1K, 7K, 49K on each backend.
  CHECK(rows.size() == 3 * backends.size());
  check_rows(rows, "all_to_all_v", 3);
  for (const JsonObject& row : rows) CHECK_FALSE(row.at("in_place").get<bool>());
}

TEST_CASE("several backends in one command: one table each, one JSON with all of them" *
          doctest::test_suite("several_backends")) {
  const std::vector<std::string> backends = every_backend();
  TRELLIS_SKIP_CASE_IF(backends.size() < 2, "needs two benchmarkable backends, this build has " +
                                                std::to_string(backends.size()));
  std::string list;
  for (const std::string& backend : backends) list += (list.empty() ? "" : ",") + backend;
  const fs::path json = work_file("several.json");
  const ProcessResult result =
      bench({"--backend", list, "--nproc", "2", "--op", "all_gather", "-b", "1K", "-e", "4K", "-n",
             "2", "-w", "1", "--json", json.string()});
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  const std::vector<JsonObject> rows = read_rows(json);
  check_rows(rows, "all_gather", 2);
  std::set<std::string> seen;
  for (const JsonObject& row : rows) seen.insert(row.at("backend").get<std::string>());
  CHECK(seen == std::set<std::string>(backends.begin(), backends.end()));
}

TEST_CASE("under a launcher the bench is one rank of its world" *
          doctest::test_suite("under_mpirun")) {
  // Under trellis-run --mpirun every backend can run, the baseline included, one after another
  // in the same processes.
  TRELLIS_SKIP_CASE_IF(!BENCH_TEST_HAVE_MPI, "MPI is not in this build");
  std::string list;
  for (const std::string& backend : every_backend()) {
    list += (list.empty() ? "" : ",") + backend;
  }
  const fs::path json = work_file("launched.json");
  const ProcessResult result = run_process({TRELLIS_RUN_BINARY,
                                            "-n",
                                            "2",
                                            "--mpirun",
                                            "--",
                                            TRELLIS_BENCH_BINARY,
                                            "comm",
                                            "--backend",
                                            list,
                                            "--op",
                                            "all_reduce",
                                            "-b",
                                            "4K",
                                            "-e",
                                            "4K",
                                            "-n",
                                            "2",
                                            "-w",
                                            "1",
                                            "--json",
                                            json.string()});
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  const std::vector<JsonObject> rows = read_rows(json);
  CHECK(rows.size() == 2 * every_backend().size());
  check_rows(rows, "all_reduce", 2);
}
