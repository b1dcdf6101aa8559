#include "launch/launcher.h"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "comm/tcp_store.h"
#include "comm/tcp_store_server.h"
#include "launch/child_process.h"
#include "launch/failure_report.h"
#include "launch/flight_collection.h"
#include "launch/mpirun_banner_filter.h"
#include "launch/mpirun_session_dir.h"
#include "launch/rank_environment.h"
#include "launch/signal_watch.h"
#include "launch/tagged_output.h"
#include "os/host_name.h"
#include "trellis/error.h"

namespace trellis {

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
}

namespace {

using Clock = std::chrono::steady_clock;

// Where the ranks write their flight records (config/run_environment.h reads it).
constexpr const char* kFlightDirVariable = "TRELLIS_FLIGHT_DIR";

// How often the launcher looks in the store for a failure reported elsewhere (another node, or a
// rank under mpirun).
constexpr std::chrono::milliseconds kStoreWatchPeriod{100};
// After the last rank exits, how long its output pipes may stay open (held by something the rank
// started) before the launcher stops reading them.
constexpr std::chrono::milliseconds kOutputDrain{500};

std::string plural(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

// One child of the launcher: a rank, or mpirun.
struct Child {
  std::string label;  // "rank 3", "mpirun"
  pid_t pid = -1;
  bool running = true;
  int status = 0;
  UniqueFd out_pipe, err_pipe;
  std::unique_ptr<OutputSink> out, err;  // where what the pipes carry goes
};

class Launch {
 public:
  explicit Launch(const LaunchOptions& options) : o_(options), host_(host_name()) {}
  int run();

 private:
  void check_options() const;
  void say(const std::string& line) const;
  void serve_or_connect_store();
  bool join_nodes();  // false when a signal asked to stop first
  ProcessEnvironment base_environment() const;
  void start_ranks(const ProcessEnvironment& base);
  void start_mpirun(const ProcessEnvironment& base);
  void watch();
  void reap();
  void read_output(UniqueFd& pipe, OutputSink& sink);
  bool failure_named();
  void on_signal(int signal);
  void on_child_failure(Child& child);
  void on_reported_failure(const FailureReport& report);
  void watch_store();
  // Sends `now` (0: nothing) to every child, then each of `later` in turn, `grace` apart, while
  // any child still runs.
  void begin_stop(int now, std::vector<int> later);
  void signal_all(int signal);
  void escalate();
  int running_count() const;
  void finish_nodes();
  // After a rank failed: the analysis of the ranks' flight records, on stderr.
  void report_flight_records();

  const LaunchOptions& o_;
  const std::string host_;
  std::string program_;  // the command's resolved path
  std::optional<SignalWatch> signals_;
  std::unique_ptr<TcpStoreServer> server_;
  std::unique_ptr<TcpStore> store_;  // the launcher's own client, for several nodes and mpirun
  std::string store_spec_;
  std::vector<Child> children_;
  std::optional<MpirunSessionDir> mpirun_session_;  // with mpirun: its session files
  std::optional<FlightCollection> flight_;          // where the ranks write flight records
  bool rank_failed_ = false;  // a rank (not a signal from outside) ended the run
  bool stopping_ = false;
  bool recorded_own_failure_ = false;
  int exit_code_ = 0;
  int external_signals_ = 0;
  std::optional<Clock::time_point> kill_deadline_;
  std::vector<int> escalation_;  // signals still to send at kill_deadline_, in order
  Clock::time_point next_store_check_ = Clock::now();
};

void Launch::say(const std::string& line) const {
  const std::string text = o_.name + ": " + line + "\n";
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
}

void Launch::check_options() const {
  auto bad = [](const std::string& what) { throw InputError(what); };
  if (o_.command.empty()) bad("no command to run; give it after --");
  if (o_.nproc < 1) bad("-n " + std::to_string(o_.nproc) + ": the ranks per node must be >= 1");
  if (o_.nnodes < 1) bad("--nnodes " + std::to_string(o_.nnodes) + ": must be >= 1");
  if (o_.node_rank < 0 || o_.node_rank >= o_.nnodes) {
    bad("--node-rank " + std::to_string(o_.node_rank) + " is not a node of " +
        std::to_string(o_.nnodes) + "; valid: 0 to " + std::to_string(o_.nnodes - 1));
  }
  if (o_.node_rank > 0 && (o_.store_host.empty() || o_.store_port == 0)) {
    bad("node " + std::to_string(o_.node_rank) +
        " needs --store HOST:PORT: where node 0's trellis-run serves the store");
  }
  if (o_.mpirun && o_.nnodes > 1) {
    bad("--mpirun starts every rank through mpirun, which places ranks on nodes itself (its "
        "hostfile); use --nnodes/--node-rank without --mpirun, or mpirun alone");
  }
}

void Launch::serve_or_connect_store() {
  std::string connect_host = o_.store_host;
  std::uint16_t port = o_.store_port;
  if (o_.node_rank == 0) {
    server_ = std::make_unique<TcpStoreServer>(o_.store_port);
    port = server_->port();
    if (connect_host.empty()) connect_host = o_.nnodes == 1 ? "127.0.0.1" : host_;
  }
  store_spec_ = "tcp:" + connect_host + ":" + std::to_string(port);
  if (o_.nnodes > 1 && o_.node_rank == 0) {
    say("serving the store at " + store_spec_ + " for " + plural(o_.nnodes, "node", "nodes") +
        "; start the others with --nnodes " + std::to_string(o_.nnodes) +
        " --node-rank I --store " + connect_host + ":" + std::to_string(port));
  }
  if (o_.nnodes > 1 || o_.mpirun) {
    // Node 0 talks to its own server over loopback: the advertised host may not route to itself.
    store_ = std::make_unique<TcpStore>(o_.node_rank == 0 ? "127.0.0.1" : connect_host, port,
                                        o_.timeout);
  }
}

bool Launch::join_nodes() {
  if (o_.nnodes == 1) return true;
  store_->set("trellis-run/node/" + std::to_string(o_.node_rank), std::to_string(o_.nproc));
  std::vector<std::string> keys;
  for (int node = 0; node < o_.nnodes; ++node) {
    keys.push_back("trellis-run/node/" + std::to_string(node));
  }
  const auto deadline = Clock::now() + o_.timeout;
  for (;;) {
    try {
      store_->wait(keys, std::chrono::milliseconds(200));
      break;
    } catch (const TimeoutError&) {
      for (int s : signals_->take()) {
        if (s != SIGCHLD) {
          say("got " + signal_name(s) + " while waiting for the other nodes; nothing started");
          exit_code_ = 128 + s;
          return false;
        }
      }
      if (Clock::now() >= deadline) {
        std::string missing;
        for (int node = 0; node < o_.nnodes; ++node) {
          if (!store_->check({keys[node]})) {
            missing += (missing.empty() ? "" : ", ") + std::to_string(node);
          }
        }
        throw TimeoutError("nodes " + missing + " did not join within " + seconds_text(o_.timeout) +
                           " (store " + store_spec_ +
                           "); start trellis-run on every node with --nnodes " +
                           std::to_string(o_.nnodes) + " --node-rank I --store HOST:PORT");
      }
    }
  }
  for (int node = 0; node < o_.nnodes; ++node) {
    const std::string theirs = store_->get(keys[node], o_.timeout);
    if (theirs != std::to_string(o_.nproc)) {
      throw InputError("node " + std::to_string(node) + " starts " + theirs +
                       " ranks and this node " + std::to_string(o_.nproc) +
                       "; every node must be given the same -n");
    }
  }
  return true;
}

ProcessEnvironment Launch::base_environment() const {
  ProcessEnvironment env = ProcessEnvironment::current();
  // Left over when trellis-run itself runs under a launcher: the ranks' own values replace them.
  for (const char* name :
       {rank_env::kRank, rank_env::kWorldSize, rank_env::kLocalRank, rank_env::kLocalWorldSize,
        rank_env::kNodeRank, rank_env::kStore, rank_env::kStoreHosted}) {
    env.unset(name);
  }
  env.set(rank_env::kStore, store_spec_);
  env.set(kFlightDirVariable, flight_->dir().string());
  env.set(rank_env::kOutputTerminal, ::isatty(STDOUT_FILENO) ? "1" : "0");
  const int cores = available_cores();
  if (o_.nproc > cores) {
    // Spinning OpenMP threads of oversubscribed ranks steal the cores their peers need to reach
    // the collective everyone waits on.
    env.set_default("OMP_WAIT_POLICY", "PASSIVE");
    env.set_default("OMP_NUM_THREADS", std::to_string(std::max(1, cores / o_.nproc)));
  }
  for (const auto& [name, value] : o_.rank_environment) {
    if (value) {
      env.set(name, *value);
    } else {
      env.unset(name);
    }
  }
  return env;
}

void Launch::start_ranks(const ProcessEnvironment& base) {
  std::vector<std::string> argv = o_.command;
  argv[0] = program_;
  const int world = o_.nproc * o_.nnodes;
  for (int local = 0; local < o_.nproc; ++local) {
    const int rank = o_.node_rank * o_.nproc + local;
    ProcessEnvironment env = base;
    env.set(rank_env::kRank, std::to_string(rank));
    env.set(rank_env::kWorldSize, std::to_string(world));
    env.set(rank_env::kLocalRank, std::to_string(local));
    env.set(rank_env::kLocalWorldSize, std::to_string(o_.nproc));
    env.set(rank_env::kNodeRank, std::to_string(o_.node_rank));
    ChildProcess started =
        start_child(argv, env, o_.tag_output ? OutputCapture::all : OutputCapture::none);
    Child child;
    child.label = "rank " + std::to_string(rank);
    child.pid = started.pid;
    if (o_.tag_output) {
      const std::string tag = "[" + std::to_string(rank) + "]: ";
      child.out_pipe = std::move(started.stdout_pipe);
      child.err_pipe = std::move(started.stderr_pipe);
      child.out = std::make_unique<TaggedOutput>(tag, STDOUT_FILENO);
      child.err = std::make_unique<TaggedOutput>(tag, STDERR_FILENO);
    }
    children_.push_back(std::move(child));
  }
}

void Launch::start_mpirun(const ProcessEnvironment& base) {
  ProcessEnvironment env = base;
  env.set(rank_env::kStoreHosted, "1");
  if (::geteuid() == 0) {
    // mpirun refuses to run as root without both; containers and CI often are root.
    env.set_default("OMPI_ALLOW_RUN_AS_ROOT", "1");
    env.set_default("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
  }
  // Session files of this mpirun's own (mpirun_session_dir.h), unless the user chose a place.
  if (!env.get("OMPI_MCA_orte_tmpdir_base")) {
    mpirun_session_.emplace();
    env.set("OMPI_MCA_orte_tmpdir_base", mpirun_session_->path().string());
  }
  std::string mpirun;
  try {
    mpirun = find_program("mpirun", env);
  } catch (const InputError& e) {
    if (o_.mpirun_reason.empty()) throw;
    throw InputError(o_.mpirun_reason + ", but " + e.what() +
                     ". Install Open MPI's mpirun (on Debian: apt-get install openmpi-bin), or "
                     "choose a backend any launcher can start, such as ucx");
  }
  std::vector<std::string> argv = {mpirun, "-n", std::to_string(o_.nproc)};
  if (o_.nproc > available_cores()) argv.push_back("--oversubscribe");
  std::vector<std::string> forwarded = {rank_env::kStore, rank_env::kStoreHosted,
                                        rank_env::kOutputTerminal, "OMP_WAIT_POLICY",
                                        "OMP_NUM_THREADS"};
  for (const auto& [name, value] : o_.rank_environment) forwarded.push_back(name);
  for (const std::string& name : forwarded) {
    if (env.get(name)) {
      argv.push_back("-x");
      argv.push_back(name);
    }
  }
  // Debian sets this in openmpi-mca-params.conf; other installs warn, once per rank, about
  // network components a one-node run does not use.
  for (const char* word : {"--mca", "btl_base_warn_component_unused", "0"}) argv.push_back(word);
  if (o_.tag_output) argv.push_back("--tag-output");
  if (!o_.rank_reporter.empty()) {
    argv.push_back(o_.rank_reporter);
    argv.push_back("--report-exit");
    argv.push_back("--");
  }
  argv.push_back(program_);
  argv.insert(argv.end(), o_.command.begin() + 1, o_.command.end());
  // mpirun's stderr passes through the banner filter (mpirun_banner_filter.h); its stdout, which
  // carries the ranks' progress bars, stays the launcher's own.
  ChildProcess started = start_child(argv, env, OutputCapture::stderr_only);
  Child child;
  child.label = "mpirun";
  child.pid = started.pid;
  child.err_pipe = std::move(started.stderr_pipe);
  child.err =
      std::make_unique<MpirunBannerFilter>(STDERR_FILENO, [this] { return failure_named(); });
  children_.push_back(std::move(child));
}

int Launch::running_count() const {
  return static_cast<int>(
      std::count_if(children_.begin(), children_.end(), [](const Child& c) { return c.running; }));
}

void Launch::signal_all(int signal) {
  // The whole process group of each child: whatever a rank started goes too.
  for (const Child& c : children_) ::kill(-c.pid, signal);
}

void Launch::begin_stop(int now, std::vector<int> later) {
  stopping_ = true;
  if (now != 0) signal_all(now);
  escalation_ = std::move(later);
  kill_deadline_ = Clock::now() + o_.grace;
}

void Launch::escalate() {
  kill_deadline_.reset();
  const int left = running_count();
  if (left == 0 || escalation_.empty()) return;
  const int signal = escalation_.front();
  escalation_.erase(escalation_.begin());
  const std::string who = o_.mpirun ? "mpirun" : plural(left, "rank", "ranks");
  say(who + " still running " + seconds_text(o_.grace) + " after being told to stop; sending " +
      signal_name(signal));
  for (Child& c : children_) {
    if (c.running) ::kill(-c.pid, signal);
  }
  if (!escalation_.empty()) kill_deadline_ = Clock::now() + o_.grace;
}

void Launch::on_signal(int signal) {
  ++external_signals_;
  const std::string what = o_.mpirun ? "mpirun" : plural(running_count(), "rank", "ranks");
  if (!stopping_) {
    say("got " + signal_name(signal) + "; passing it to " + what);
    exit_code_ = 128 + signal;
    begin_stop(signal, {SIGKILL});
  } else if (signal == SIGINT && external_signals_ > 1) {
    say("got " + signal_name(signal) + " again; killing " + what);
    signal_all(SIGKILL);
  } else {
    signal_all(signal);
  }
}

void Launch::report_flight_records() {
  if (!rank_failed_) return;
  try {
    const std::optional<std::string> report = flight_->report(o_.nproc * o_.nnodes);
    if (!report) return;
    say("the ranks' flight records (" + flight_->dir().string() + "):");
    std::fputs(report->c_str(), stderr);
    if (!report->ends_with("\n")) std::fputs("\n", stderr);
  } catch (const Error& e) {
    say("could not read the ranks' flight records: " + std::string(e.what()));
  }
}

void Launch::on_child_failure(Child& child) {
  rank_failed_ = true;
  const int others = running_count();
  const bool mpirun = child.label == "mpirun";
  if (mpirun && store_) {
    // The wrapper around each rank records its failure before the rank's exit reaches mpirun.
    if (std::optional<FailureReport> report = recorded_failure(*store_)) {
      say(report->message + "; mpirun stopped the other ranks");
      exit_code_ = report->exit_code;
      stopping_ = true;
      return;
    }
  }
  std::string message = child.label + " (pid " + std::to_string(child.pid) +
                        (o_.nnodes > 1 ? " on " + host_ : "") + ") " + describe_exit(child.status);
  exit_code_ = exit_code_of(child.status);
  if (o_.nnodes > 1) {
    try {
      record_failure(*store_, {exit_code_, message});
      recorded_own_failure_ = true;
    } catch (const Error& e) {
      say("could not tell the other nodes: " + std::string(e.what()));
    }
  }
  if (others > 0) {
    message += "; stopping the other " + plural(others, "rank", "ranks");
    if (o_.nnodes > 1) message += " of this node (the other nodes stop theirs)";
  }
  say(message);
  begin_stop(SIGTERM, {SIGKILL});
}

void Launch::on_reported_failure(const FailureReport& report) {
  rank_failed_ = true;
  exit_code_ = report.exit_code;
  if (o_.mpirun) {
    // mpirun aborts the job itself when a rank fails, and signalling it in the middle of that
    // can crash it: it gets a grace period before SIGTERM, then another before SIGKILL.
    say(report.message + "; stopping the other " + plural(o_.nproc - 1, "rank", "ranks"));
    begin_stop(0, {SIGTERM, SIGKILL});
  } else {
    say(report.message + "; stopping the " + plural(running_count(), "rank", "ranks") +
        " of this node");
    begin_stop(SIGTERM, {SIGKILL});
  }
}

void Launch::watch_store() {
  if (!store_ || stopping_ || recorded_own_failure_ || Clock::now() < next_store_check_) return;
  next_store_check_ = Clock::now() + kStoreWatchPeriod;
  try {
    if (std::optional<FailureReport> report = recorded_failure(*store_)) {
      on_reported_failure(*report);
    }
  } catch (const CommError& e) {
    // Only other nodes can lose the store: node 0 serves it from this process.
    say("lost the store (" + std::string(e.what()) + "); node 0's trellis-run has stopped; " +
        "stopping the " + plural(running_count(), "rank", "ranks") + " of this node");
    exit_code_ = 1;
    store_.reset();
    begin_stop(SIGTERM, {SIGKILL});
  }
}

void Launch::reap() {
  for (Child& c : children_) {
    if (!c.running) continue;
    int status = 0;
    const pid_t done = ::waitpid(c.pid, &status, WNOHANG);
    if (done != c.pid) continue;
    c.running = false;
    c.status = status;
    if (!exited_cleanly(status) && !stopping_) on_child_failure(c);
  }
}

void Launch::read_output(UniqueFd& pipe, OutputSink& sink) {
  char buffer[65536];
  const ssize_t n = ::read(pipe.get(), buffer, sizeof buffer);
  if (n > 0) {
    sink.feed(buffer, static_cast<std::size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    sink.finish();
    pipe.reset();
  }
}

bool Launch::failure_named() {
  // The wrapper records a failing rank in the store before the rank's exit reaches mpirun, so
  // by the time mpirun prints its banner the report is there, and this launcher names it.
  if (!store_) return false;
  try {
    return recorded_failure(*store_).has_value();
  } catch (const CommError&) {
    return false;
  }
}

void Launch::watch() {
  std::optional<Clock::time_point> drain_deadline;
  std::vector<pollfd> fds;
  std::vector<std::pair<Child*, bool>> pipe_owner;  // (child, is stderr) per fds[i + 1]
  for (;;) {
    fds.assign(1, {signals_->fd(), POLLIN, 0});
    pipe_owner.clear();
    for (Child& c : children_) {
      if (c.out_pipe.valid()) {
        fds.push_back({c.out_pipe.get(), POLLIN, 0});
        pipe_owner.emplace_back(&c, false);
      }
      if (c.err_pipe.valid()) {
        fds.push_back({c.err_pipe.get(), POLLIN, 0});
        pipe_owner.emplace_back(&c, true);
      }
    }
    const bool any_running = running_count() > 0;
    if (!any_running) {
      if (pipe_owner.empty()) break;
      if (!drain_deadline) drain_deadline = Clock::now() + kOutputDrain;
      if (Clock::now() >= *drain_deadline) break;
    }
    // Wake at least every period: SIGCHLDs coalesce, and the store and deadlines need looking at.
    Clock::time_point wake = Clock::now() + std::chrono::milliseconds(kStoreWatchPeriod);
    if (kill_deadline_) wake = std::min(wake, *kill_deadline_);
    if (drain_deadline) wake = std::min(wake, *drain_deadline);
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now());
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<long>(0, wait.count()))) < 0 &&
        errno != EINTR) {
      throw Error(o_.name + ": poll: " + std::strerror(errno));
    }
    if (fds[0].revents & POLLIN) {
      for (int s : signals_->take()) {
        if (s != SIGCHLD) on_signal(s);
      }
    }
    for (std::size_t i = 0; i < pipe_owner.size(); ++i) {
      if (fds[i + 1].revents == 0) continue;
      auto [child, is_err] = pipe_owner[i];
      if (is_err) {
        read_output(child->err_pipe, *child->err);
      } else {
        read_output(child->out_pipe, *child->out);
      }
    }
    reap();
    watch_store();
    if (kill_deadline_ && Clock::now() >= *kill_deadline_) escalate();
  }
  for (Child& c : children_) {
    if (c.out) c.out->finish();
    if (c.err) c.err->finish();
  }
}

void Launch::finish_nodes() {
  if (o_.nnodes == 1 || !store_) return;
  try {
    store_->set("trellis-run/node-done/" + std::to_string(o_.node_rank), "1");
    if (o_.node_rank != 0) return;
    // Node 0 serves the store: keep it up until every node's ranks are done with it.
    std::vector<std::string> keys;
    for (int node = 1; node < o_.nnodes; ++node) {
      keys.push_back("trellis-run/node-done/" + std::to_string(node));
    }
    const auto deadline = Clock::now() + o_.timeout;
    while (!store_->check(keys)) {
      if (Clock::now() >= deadline) {
        say("other nodes still running " + seconds_text(o_.timeout) +
            " after this node's ranks ended; closing the store");
        if (exit_code_ == 0) exit_code_ = 1;
        return;
      }
      if (!stopping_) {
        if (std::optional<FailureReport> report = recorded_failure(*store_)) {
          say(report->message);
          exit_code_ = report->exit_code;
          stopping_ = true;
        }
      }
      for (int s : signals_->take()) {
        if (s != SIGCHLD) {
          say("got " + signal_name(s) + " while the other nodes finish; closing the store");
          if (exit_code_ == 0) exit_code_ = 128 + s;
          return;
        }
      }
      ::poll(nullptr, 0, static_cast<int>(kStoreWatchPeriod.count()));
    }
  } catch (const CommError& e) {
    say("could not finish with the other nodes: " + std::string(e.what()));
    if (exit_code_ == 0) exit_code_ = 1;
  }
}

int Launch::run() {
  check_options();
  const ProcessEnvironment current = ProcessEnvironment::current();
  program_ = find_program(o_.command[0], current);
  // Before the store server's thread starts, so that thread inherits the blocked signals.
  signals_.emplace();
  serve_or_connect_store();
  if (!join_nodes()) return exit_code_;
  {
    std::optional<std::filesystem::path> chosen;
    if (std::optional<std::string> set = current.get(kFlightDirVariable); set && !set->empty()) {
      chosen = *set;
    } else if (!o_.flight_dir.empty()) {
      chosen = o_.flight_dir;
    }
    flight_.emplace(chosen);
  }
  const ProcessEnvironment base = base_environment();
  try {
    if (o_.mpirun) {
      start_mpirun(base);
    } else {
      start_ranks(base);
    }
  } catch (...) {
    signal_all(SIGKILL);
    for (Child& c : children_) ::waitpid(c.pid, nullptr, 0);
    throw;
  }
  watch();
  finish_nodes();
  report_flight_records();
  return exit_code_;
}

}  // namespace

int launch(const LaunchOptions& options) {
  return Launch(options).run();
}

}  // namespace trellis
