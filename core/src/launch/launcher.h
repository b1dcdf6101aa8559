// The launcher: starts the ranks of a run on this node and watches them until they end.
//
// trellis-run is a thin main around launch(); trellis-train calls it to launch itself when a run
// needs several ranks and no launcher started it. What it does (docs/launching.md has the user's
// view):
//
//  - Node 0 serves the run's TCP store (tcp_store_server.h) on a thread: on the port asked for,
//    or an ephemeral one. Other nodes connect to it (--store HOST:PORT). With several nodes, each
//    launcher registers its node and waits (options.timeout) until all have, so no rank starts
//    before its peers' launchers are there.
//  - It starts `nproc` ranks, each with TRELLIS_RANK, TRELLIS_WORLD_SIZE, TRELLIS_LOCAL_RANK,
//    TRELLIS_LOCAL_WORLD_SIZE, TRELLIS_NODE_RANK and TRELLIS_STORE=tcp:HOST:PORT; with more ranks
//    than cores, OMP_WAIT_POLICY=PASSIVE and OMP_NUM_THREADS=max(1, cores / nproc) unless set;
//    then `rank_environment`.
//    With `mpirun`, one child instead: Open MPI's mpirun -n nproc, each rank wrapped so that its
//    failure is reported through the store (reporting_rank.h).
//  - SIGINT, SIGTERM and SIGHUP received are forwarded to the ranks; a second SIGINT kills them.
//  - When a rank exits non-zero or is killed, it names the rank and how it ended, sends the others
//    SIGTERM, then SIGKILL after `grace`, and returns the failed rank's exit code (128 + signal
//    when killed). With several nodes, the failure is recorded in the store and every node's
//    launcher stops its ranks the same way. All ranks exiting 0 returns 0.
//
// Signals are read from a signalfd in the launcher's poll loop (signal_watch.h): no handler and
// no global state. launch() must be called before the process starts other threads, or they must
// block SIGINT/SIGTERM/SIGHUP/SIGCHLD themselves.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace trellis {

struct LaunchOptions {
  int nproc = 1;      // ranks on this node
  int nnodes = 1;     // nodes, each running a launcher with the same nproc
  int node_rank = 0;  // this node; node 0 serves the store
  // Where the store is. Node 0: the host other nodes and the ranks connect to (empty: 127.0.0.1
  // on one node, this host's name on several) and the port to serve on (0: any free one). Other
  // nodes: node 0's host and port, both required.
  std::string store_host;
  std::uint16_t store_port = 0;
  bool mpirun = false;  // start the ranks through Open MPI's mpirun (one node only)
  // Why mpirun, for the error when it is not found: "comm backend 'mpi' needs its ranks started
  // by mpirun". Empty: the user asked for it (trellis-run --mpirun).
  std::string mpirun_reason;
  // How long to wait for the store, and for the other nodes to register.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // How long ranks get to stop after SIGTERM before SIGKILL.
  std::chrono::milliseconds grace{std::chrono::seconds(3)};
  bool tag_output = false;           // prefix each line of rank output with "[RANK]: "
  std::vector<std::string> command;  // the rank's program and its arguments
  // Under `mpirun`, the trellis-run executable that wraps each rank to report its failure (see
  // reporting_rank.h); empty: ranks run bare and a failure is known only from mpirun's exit.
  std::string rank_reporter;
  std::string name = "trellis-run";  // how messages name the launcher
  // Variables every rank starts with (nullopt: unset), over this process's own; the OpenBLAS
  // kernel choice (launch/openblas_reexec.h) comes this way, so no rank needs to restart.
  std::map<std::string, std::optional<std::string>> rank_environment;
  // Where the ranks write their flight records (TRELLIS_FLIGHT_DIR, launch/flight_collection.h)
  // unless the launcher's own environment names one; empty: a temporary directory, kept only
  // when a rank failed.
  std::string flight_dir;
};

// Launches and waits; returns the exit code for the launcher process (see above). Problems with
// the options or the command (not found) throw InputError before anything starts; a store that
// cannot be served or reached throws CommError.
int launch(const LaunchOptions& options);

// The number of cores this process may run on (its CPU affinity).
int available_cores();

}  // namespace trellis
