// The bad-config corpus: every file in bad/ is a config with one problem (or, where its header
// says so, several). Its header says what the message must contain:
//   # expect: <text>        a substring of trellis-train's output
//   # problems: <n>         how many problems are reported (default 1)
//   # env: NAME=value       set in trellis-train's environment (repeatable)
//   # set: section.key=v    passed as --set (repeatable)
// and a line ending in "# <-- here" is the line the message must name as <file>:<line>.
// Configs refer to the fixtures as ../fixtures/..., so they run from a copy next to them.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/fixtures.h"
#include "support/process.h"

namespace fs = std::filesystem;
using trellis::test::run_trellis_train;

namespace {

struct CorpusCase {
  fs::path file;
  std::string expect;
  int problems = 1;
  int line = 0;  // of the "# <-- here" marker; 0 when the problem has no line
  std::map<std::string, std::optional<std::string>> env;
  std::vector<std::string> sets;
};

std::string after(const std::string& line, const std::string& prefix) {
  return line.substr(prefix.size());
}

CorpusCase read_case(const fs::path& file) {
  CorpusCase c;
  c.file = file;
  std::ifstream in(file);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.starts_with("# expect: ")) c.expect = after(line, "# expect: ");
    if (line.starts_with("# problems: ")) c.problems = std::stoi(after(line, "# problems: "));
    if (line.starts_with("# set: ")) c.sets.push_back(after(line, "# set: "));
    if (line.starts_with("# env: ")) {
      const std::string setting = after(line, "# env: ");
      const std::size_t eq = setting.find('=');
      c.env[setting.substr(0, eq)] = setting.substr(eq + 1);
    }
    if (line.find("# <-- here") != std::string::npos) c.line = number;
  }
  return c;
}

std::vector<fs::path> corpus_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(CONFIG_TEST_SOURCE_DIR) / "bad")) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("every bad config exits 2 before any work, naming its problem and where it is") {
  const fs::path work = trellis::test::fresh_work_dir("corpus");
  trellis::test::make_fixtures(work / "fixtures");
  const std::vector<fs::path> files = corpus_files();
  CHECK(files.size() >= 35);

  for (const fs::path& source : files) {
    const CorpusCase c = read_case(source);
    const fs::path copy = work / "bad" / source.filename();
    fs::create_directories(copy.parent_path());
    fs::copy_file(source, copy, fs::copy_options::overwrite_existing);

    std::vector<std::string> args = {copy.string(), "--dry-run"};
    for (const std::string& set : c.sets) {
      args.push_back("--set");
      args.push_back(set);
    }
    const trellis::test::ProcessResult result = run_trellis_train(args, c.env);

    INFO("config: " << source.filename().string());
    INFO("output:\n" << result.output);
    REQUIRE_FALSE(c.expect.empty());
    CHECK(result.exit_code == 2);
    CHECK(result.output.find(c.expect) != std::string::npos);
    const std::string count =
        std::to_string(c.problems) + (c.problems == 1 ? " problem in" : " problems in");
    CHECK(result.output.find(count) != std::string::npos);
    if (c.line > 0) {
      const std::string where = source.filename().string() + ":" + std::to_string(c.line);
      CHECK(result.output.find(where) != std::string::npos);
    }
  }
}
