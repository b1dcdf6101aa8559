// What trellis-train does (main.cpp calls it), as a function a test program can call with a test
// device (train_command.h).
//
// Reads and checks a run's configuration (config/config_loader.h), then trains — or with
// --dry-run prints the resolved run and exits. A run of several ranks started outside any
// launcher launches itself (launch/self_launch.h): one process per rank, this one watching them
// and exiting with the launch's code. A rank whose OpenBLAS runs other kernels than the run
// chooses ([device] blas_core) restarts itself once first (launch/openblas_reexec.h). Exit codes: 0
// success, 2 bad input (config, arguments, files; nothing was started), 1 any other failure; a
// launch whose rank died, that rank's code (128 + the signal when it was killed).
#include "train_command.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_loader.h"
#include "config/did_you_mean.h"
#include "config/dry_run_report.h"
#include "launch/launcher.h"
#include "launch/openblas_reexec.h"
#include "launch/rank_environment.h"
#include "launch/self_launch.h"
#include "plan/dry_run_memory.h"
#include "train/trainer.h"
#include "train/training_checkpoints.h"
#include "trellis/error.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;

constexpr const char* kUsage =
    "usage: trellis-train CONFIG [--set section.key=value]... [--dry-run] [--help]\n"
    "\n"
    "Trains a GPT model as the TOML file CONFIG describes (docs/configuration.md).\n"
    "\n"
    "  --set section.key=value  override one key (repeatable; also --set=...); the value is\n"
    "                           TOML (4, 3e-4, true, \"text\") or else a plain string;\n"
    "                           --set comm.<backend>.<option>=value sets a backend option\n"
    "  --dry-run                check everything, print the resolved run and its layout, exit\n"
    "  --help, -h               show this help\n"
    "\n"
    "A run of several ranks ([launch] nproc > 1) started outside any launcher starts its ranks\n"
    "itself, as trellis-run -n nproc would (through mpirun for [comm] backend = \"mpi\");\n"
    "see docs/launching.md.\n"
    "\n"
    "Precedence: --set > CONFIG > defaults. Exit codes: 0 success, 2 bad input (nothing was\n"
    "started), 1 other failure; a run of several ranks whose rank died exits with that rank's\n"
    "code (128 + the signal when it was killed: 137 for SIGKILL).\n";

struct Arguments {
  std::string config;
  std::vector<std::string> overrides;
  bool dry_run = false;
  bool help = false;
};

Arguments parse_arguments(int argc, char** argv) {
  Arguments args;
  auto usage_error = [](const std::string& what) {
    return trellis::InputError(what + "\n" + kUsage);
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      args.help = true;
    } else if (arg == "--dry-run") {
      args.dry_run = true;
    } else if (arg == "--set") {
      if (i + 1 >= argc) throw usage_error("--set needs section.key=value after it");
      args.overrides.emplace_back(argv[++i]);
    } else if (arg.starts_with("--set=")) {
      args.overrides.emplace_back(arg.substr(6));
    } else if (arg.starts_with("-") && arg != "-") {
      const std::string flag(arg.substr(0, arg.find('=')));
      throw usage_error("unknown option '" + flag + "'" +
                        trellis::did_you_mean(flag, {"--set", "--dry-run", "--help"}));
    } else if (args.config.empty()) {
      args.config = std::string(arg);
    } else {
      throw usage_error("one CONFIG file only; got '" + args.config + "' and '" + std::string(arg) +
                        "'");
    }
  }
  if (!args.help && args.config.empty()) throw usage_error("no CONFIG file given");
  return args;
}

int run(int argc, char** argv, const trellis::DeviceWrapper& wrap_device) {
  const Arguments args = parse_arguments(argc, argv);
  if (args.help) {
    std::cout << kUsage;
    return kExitOk;
  }
  const trellis::RunEnvironment environment = trellis::RunEnvironment::from_process();
  const trellis::ResolvedRun resolved = trellis::load_run(args.config, args.overrides, environment);
  if (args.dry_run) {
    std::cout << trellis::format_dry_run(resolved)
              << trellis::plan::format_predicted_memory(resolved);
    return kExitOk;
  }
  // Every rank (and a launching process) sees the same checkpoint: all stop here, one says why.
  if (const std::optional<std::string> complete = trellis::already_complete(resolved)) {
    if (trellis::RankEnvironment::detect(environment.lookup()).rank == 0) {
      std::printf("trellis-train: %s\n", complete->c_str());
    }
    return kExitOk;
  }
  std::error_code ec;
  std::vector<std::string> self = {std::filesystem::read_symlink("/proc/self/exe", ec).string()};
  if (ec) self[0] = argv[0];
  self.insert(self.end(), argv + 1, argv + argc);
  if (auto launch = trellis::self_launch_options(resolved, environment, std::move(self))) {
    return trellis::launch(*launch);
  }
  // A rank (or a run of one) whose OpenBLAS picked kernels the run does not choose restarts
  // once with the chosen ones; the trainer's "blas:" line says which run.
  if (resolved.device == trellis::DeviceKind::cpu) {
    trellis::use_openblas_core(
        trellis::BlasCoreSetting::parse(resolved.config.device.blas_core, "[device] blas_core"),
        argv);
  }

  trellis::Trainer trainer(resolved, environment, stdout, wrap_device);
  trellis::TrainSummary summary = trainer.train();
  if (!summary.reports) return kExitOk;
  std::printf("done: %lld steps in %.1f s; loss %.4f -> %.4f",
              static_cast<long long>(summary.steps), summary.seconds, summary.first_loss,
              summary.final_loss);
  if (summary.val_loss) std::printf(" (validation %.4f)", *summary.val_loss);
  std::printf("\n");
  return kExitOk;
}

}  // namespace

int trellis_train_command(int argc, char** argv, const trellis::DeviceWrapper& wrap_device) {
  try {
    return run(argc, argv, wrap_device);
  } catch (const trellis::InputError& e) {
    std::cerr << "trellis-train: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const trellis::Error& e) {
    std::cerr << "trellis-train: " << e.what() << "\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "trellis-train: internal error: " << e.what() << "\n";
    return kExitFailure;
  }
}
