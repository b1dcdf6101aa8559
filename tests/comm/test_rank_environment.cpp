// Who a rank is, read from the variables of trellis-run, Open MPI's mpirun and Slurm's srun, or a
// lone process; and where its store is.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "launch/rank_environment.h"
#include "trellis/error.h"

using namespace trellis;

namespace {

using Vars = std::map<std::string, std::string>;

RankEnvironment detect(const Vars& vars) {
  return RankEnvironment::detect([&vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

Vars trellis_run_vars() {
  return {{"TRELLIS_RANK", "5"},       {"TRELLIS_WORLD_SIZE", "8"},
          {"TRELLIS_LOCAL_RANK", "1"}, {"TRELLIS_LOCAL_WORLD_SIZE", "4"},
          {"TRELLIS_NODE_RANK", "1"},  {"TRELLIS_STORE", "tcp:node0:29500"}};
}

Vars mpirun_vars() {
  return {{"OMPI_COMM_WORLD_RANK", "3"},       {"OMPI_COMM_WORLD_SIZE", "4"},
          {"OMPI_COMM_WORLD_LOCAL_RANK", "3"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"},
          {"OMPI_COMM_WORLD_NODE_RANK", "3"},  {"OMPI_MCA_ess_base_jobid", "1284898817"},
          {"PMIX_NAMESPACE", "1284898817"}};
}

Vars srun_vars() {
  return {{"SLURM_PROCID", "5"},     {"SLURM_NTASKS", "7"},
          {"SLURM_LOCALID", "1"},    {"SLURM_NODEID", "2"},
          {"SLURM_JOB_ID", "81234"}, {"SLURM_STEP_ID", "0"},
          {"SLURM_NNODES", "3"},     {"SLURM_STEP_TASKS_PER_NODE", "2(x3),1"}};
}

}  // namespace

TEST_CASE("no launcher: a single process, rank 0 of 1, no store") {
  const RankEnvironment env = detect({{"HOME", "/root"}});
  CHECK(env.launcher == Launcher::none);
  CHECK_FALSE(env.under_launcher());
  CHECK(env.rank == 0);
  CHECK(env.world_size == 1);
  CHECK(env.local_rank == 0);
  CHECK(env.local_world_size == 1);
  CHECK(env.node_rank == 0);
  CHECK(env.store.empty());
  CHECK_FALSE(env.serve_store);
}

TEST_CASE("trellis-run: every TRELLIS_ variable, and its store") {
  const RankEnvironment env = detect(trellis_run_vars());
  CHECK(env.launcher == Launcher::trellis_run);
  CHECK(std::string(launcher_name(env.launcher)) == "trellis-run");
  CHECK(env.rank == 5);
  CHECK(env.world_size == 8);
  CHECK(env.local_rank == 1);
  CHECK(env.local_world_size == 4);
  CHECK(env.node_rank == 1);
  CHECK(env.store == "tcp:node0:29500");
  CHECK(env.store_origin == "TRELLIS_STORE=tcp:node0:29500");
  CHECK_FALSE(env.serve_store);  // trellis-run serves it
}

TEST_CASE("trellis-run variables that are missing or wrong are named") {
  Vars vars = trellis_run_vars();
  vars.erase("TRELLIS_RANK");
  CHECK_THROWS_WITH_AS(detect(vars), doctest::Contains("TRELLIS_RANK is not set"), InputError);
  vars = trellis_run_vars();
  vars["TRELLIS_RANK"] = "8";
  CHECK_THROWS_WITH_AS(detect(vars),
                       doctest::Contains("TRELLIS_RANK=8 (set by trellis-run) is not valid; "
                                         "valid: an integer from 0 to 7"),
                       InputError);
  vars = trellis_run_vars();
  vars["TRELLIS_WORLD_SIZE"] = "eight";
  CHECK_THROWS_WITH_AS(detect(vars), doctest::Contains("TRELLIS_WORLD_SIZE=eight"), InputError);
  vars = trellis_run_vars();
  vars.erase("TRELLIS_STORE");
  CHECK_THROWS_WITH_AS(detect(vars), doctest::Contains("TRELLIS_STORE is not set"), InputError);
  vars["TRELLIS_STORE"] = "redis:x";
  CHECK_THROWS_WITH_AS(detect(vars), doctest::Contains("valid forms"), InputError);
}

TEST_CASE("trellis-run's optional variables default to one node") {
  const RankEnvironment env = detect(
      {{"TRELLIS_RANK", "1"}, {"TRELLIS_WORLD_SIZE", "2"}, {"TRELLIS_STORE", "file:/tmp/s"}});
  CHECK(env.local_rank == 0);
  CHECK(env.local_world_size == 1);
  CHECK(env.node_rank == 0);
}

TEST_CASE("mpirun: Open MPI's variables, and a file store named by the job") {
  const RankEnvironment env = detect(mpirun_vars());
  CHECK(env.launcher == Launcher::mpirun);
  CHECK(env.rank == 3);
  CHECK(env.world_size == 4);
  CHECK(env.local_rank == 3);
  CHECK(env.local_world_size == 4);
  CHECK(env.node_rank == 0);
  CHECK(env.store == "file:/tmp/trellis-store-ompi-1284898817");
  CHECK(env.store_origin.find("OMPI_MCA_ess_base_jobid=1284898817") != std::string::npos);
  CHECK_FALSE(env.serve_store);

  // Open MPI 5 has no ess jobid; its PMIx namespace names the job, made safe for a path.
  Vars v5 = mpirun_vars();
  v5.erase("OMPI_MCA_ess_base_jobid");
  v5["PMIX_NAMESPACE"] = "prterun-node1-2345@1";
  CHECK(detect(v5).store == "file:/tmp/trellis-store-ompi-prterun-node1-2345_1");
}

TEST_CASE("mpirun over several nodes needs TRELLIS_STORE, and rank 0 serves a tcp one") {
  Vars vars = mpirun_vars();
  vars["OMPI_COMM_WORLD_SIZE"] = "8";
  vars["OMPI_COMM_WORLD_RANK"] = "5";
  vars["OMPI_COMM_WORLD_LOCAL_RANK"] = "1";
  CHECK_THROWS_WITH_AS(detect(vars),
                       doctest::Contains("are on several nodes (4 on this one), and the default "
                                         "store, a directory in /tmp, is seen by one node only; "
                                         "set TRELLIS_STORE"),
                       InputError);
  vars["TRELLIS_STORE"] = "tcp:node001:29500";
  RankEnvironment env = detect(vars);
  CHECK(env.store == "tcp:node001:29500");
  CHECK(env.node_rank == 1);
  CHECK_FALSE(env.serve_store);  // rank 5
  vars["OMPI_COMM_WORLD_RANK"] = "0";
  vars["OMPI_COMM_WORLD_LOCAL_RANK"] = "0";
  CHECK(detect(vars).serve_store);
  // ... unless trellis-run --mpirun serves it.
  vars["TRELLIS_STORE_HOSTED"] = "1";
  CHECK_FALSE(detect(vars).serve_store);
  // A file store is nobody's to serve.
  vars.erase("TRELLIS_STORE_HOSTED");
  vars["TRELLIS_STORE"] = "file:/shared/run";
  CHECK_FALSE(detect(vars).serve_store);
}

TEST_CASE("mpirun without a job id asks for TRELLIS_STORE") {
  Vars vars = mpirun_vars();
  vars.erase("OMPI_MCA_ess_base_jobid");
  vars.erase("PMIX_NAMESPACE");
  CHECK_THROWS_WITH_AS(detect(vars), doctest::Contains("without a job id"), InputError);
}

TEST_CASE("srun: Slurm's variables, tasks per node from its compressed list") {
  Vars vars = srun_vars();
  vars["TRELLIS_STORE"] = "file:/shared/run";
  RankEnvironment env = detect(vars);
  CHECK(env.launcher == Launcher::srun);
  CHECK(env.rank == 5);
  CHECK(env.world_size == 7);
  CHECK(env.local_rank == 1);
  CHECK(env.node_rank == 2);
  CHECK(env.local_world_size == 2);  // "2(x3),1": nodes 0-2 run 2 tasks, node 3 runs 1
  CHECK(env.store == "file:/shared/run");
  // Several nodes and no TRELLIS_STORE: the /tmp store would not be shared.
  CHECK_THROWS_WITH_AS(detect(srun_vars()), doctest::Contains("srun job are on several nodes"),
                       InputError);
}

TEST_CASE("srun on one node: a file store named by job and step") {
  const RankEnvironment env = detect({{"SLURM_PROCID", "1"},
                                      {"SLURM_NTASKS", "2"},
                                      {"SLURM_LOCALID", "1"},
                                      {"SLURM_NODEID", "0"},
                                      {"SLURM_JOB_ID", "81234"},
                                      {"SLURM_STEP_ID", "3"},
                                      {"SLURM_STEP_TASKS_PER_NODE", "2"}});
  CHECK(env.local_world_size == 2);
  CHECK(env.store == "file:/tmp/trellis-store-slurm-81234.3");
  CHECK(env.store_origin.find("SLURM_JOB_ID=81234, SLURM_STEP_ID=3") != std::string::npos);
}

TEST_CASE("srun with TRELLIS_STORE: rank 0 serves a tcp store") {
  Vars vars = srun_vars();
  vars["TRELLIS_STORE"] = "tcp:node001:29500";
  CHECK_FALSE(detect(vars).serve_store);
  vars["SLURM_PROCID"] = "0";
  vars["SLURM_NODEID"] = "0";
  vars["SLURM_LOCALID"] = "0";
  const RankEnvironment env = detect(vars);
  CHECK(env.serve_store);
  CHECK(env.store == "tcp:node001:29500");
}

TEST_CASE("the launcher is the one whose world size the config loader sees") {
  // trellis-run --mpirun: Open MPI's variables, trellis-run's store.
  Vars vars = mpirun_vars();
  vars["TRELLIS_STORE"] = "tcp:127.0.0.1:4000";
  vars["TRELLIS_STORE_HOSTED"] = "1";
  CHECK(detect(vars).launcher == Launcher::mpirun);
  // trellis-run inside a Slurm allocation: TRELLIS_WORLD_SIZE comes first.
  Vars both = srun_vars();
  for (const auto& [k, v] : trellis_run_vars()) both[k] = v;
  const RankEnvironment env = detect(both);
  CHECK(env.launcher == Launcher::trellis_run);
  CHECK(env.world_size == 8);
}
