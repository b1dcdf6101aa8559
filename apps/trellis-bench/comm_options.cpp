#include "comm_options.h"

#include <algorithm>
#include <charconv>

#include "config/flag_words.h"
#include "size_text.h"
#include "trellis/error.h"

namespace trellis::bench {

const char* const kCommUsage =
    "usage: trellis-bench comm --backend B[,B2...] --nproc N --op OP -b MIN -e MAX\n"
    "                          [-f FACTOR] [-n ITERS] [-w WARMUP] [-c 0|1] [--dtype f32|i32]\n"
    "                          [-r ROOT] [--json FILE] [--timeout S]\n"
    "                          [--option BACKEND.KEY=VALUE]...\n"
    "\n"
    "Measures one collective over a range of sizes on each backend and prints nccl-tests'\n"
    "columns. Outside any launcher it launches N ranks of itself once per backend (through\n"
    "mpirun for mpi and mpi-raw); under trellis-run, mpirun or srun it is one rank of them.\n"
    "\n"
    "  --backend B,...  comm plugins (trellis-plugins lists them) and/or mpi-raw: blocking MPI\n"
    "                   calls on MPI_COMM_WORLD made here, the baseline\n"
    "  --nproc N        ranks to launch (1); ignored under a launcher\n"
    "  --op OP          all_reduce, all_gather, reduce_scatter, broadcast, reduce, all_to_all,\n"
    "                   all_to_all_v (rank i sends rank j 1 + (j - i) mod n of the size's\n"
    "                   n(n+1)/2 shares), sendrecv (each rank to rank + 1, from rank - 1)\n"
    "  -b, -e SIZE      smallest and largest size in bytes, K/M/G suffixes (1K = 1024); the\n"
    "                   size is the larger buffer (all_gather: the output)\n"
    "  -f FACTOR        each size is the one before x FACTOR (2)\n"
    "  -n ITERS         timed iterations per size (20)\n"
    "  -w WARMUP        untimed iterations before them (5)\n"
    "  -c 0|1           check the results, counting wrong elements (1)\n"
    "  --dtype T        f32 or i32 (f32); reductions sum\n"
    "  -r ROOT          root of broadcast and reduce (0)\n"
    "  --json FILE      also write the rows as JSON: op, backend, nranks, size_bytes,\n"
    "                   time_us, algbw_gbs, busbw_gbs, wrong, in_place\n"
    "  --timeout S      stop when one size takes longer than S seconds on any rank (300)\n"
    "  --option B.K=V   option K of backend B, as [comm.B] K = V would set it in a run's\n"
    "                   config (trellis-plugins -v lists them), e.g. ucx.spin_polls=100000\n"
    "\n"
    "time: mean over ITERS of the slowest rank; algbw = size / time; busbw = algbw x 2(n-1)/n\n"
    "(all_reduce), (n-1)/n (all_gather, reduce_scatter, all_to_all, all_to_all_v), 1 (the\n"
    "others).\n"
    "Exit: 0 success, 1 a run failed or found wrong results, 2 bad arguments.\n";

namespace {

std::int64_t parse_integer(const std::string& flag, const std::string& text, std::int64_t low,
                           std::int64_t high) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < low ||
      value > high) {
    throw InputError(flag + " " + text + ": not an integer from " + std::to_string(low) + " to " +
                     std::to_string(high));
  }
  return value;
}

std::int64_t parse_bytes(const std::string& flag, const std::string& text) {
  const std::optional<std::int64_t> bytes = parse_size(text);
  if (!bytes) {
    throw InputError(flag + " " + text +
                     ": not a size in bytes; write a whole number with an optional K, M or G "
                     "suffix, e.g. 8, 1K, 64M");
  }
  return *bytes;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string::npos ? text.size() : comma;
    items.push_back(text.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

}  // namespace

CommBenchOptions parse_comm_options(const std::vector<std::string>& words) {
  CommBenchOptions o;
  bool have_op = false, have_min = false, have_max = false;
  FlagWords args(words);
  while (args.next()) {
    const std::string& flag = args.flag();
    auto take = [&] { return args.value(); };
    if (flag == "--help" || flag == "-h") {
      o.help = true;
    } else if (flag == "--backend") {
      o.backends = split_list(take());
      for (const std::string& backend : o.backends) {
        if (backend.empty()) throw InputError("--backend: an empty name in the list");
      }
    } else if (flag == "--nproc") {
      o.nproc = static_cast<int>(parse_integer(flag, take(), 1, 4096));
      o.nproc_given = true;
    } else if (flag == "--op") {
      const std::string name = take();
      const std::optional<BenchOp> op = parse_bench_op(name);
      if (!op) throw InputError("--op " + name + ": not an operation; valid: " + bench_op_list());
      o.op = *op;
      have_op = true;
    } else if (flag == "-b" || flag == "--minbytes") {
      o.min_bytes = parse_bytes(flag, take());
      have_min = true;
    } else if (flag == "-e" || flag == "--maxbytes") {
      o.max_bytes = parse_bytes(flag, take());
      have_max = true;
    } else if (flag == "-f" || flag == "--stepfactor") {
      o.factor = parse_integer(flag, take(), 2, 1 << 20);
    } else if (flag == "-n" || flag == "--iters") {
      o.iters = static_cast<int>(parse_integer(flag, take(), 1, 1 << 24));
    } else if (flag == "-w" || flag == "--warmup_iters") {
      o.warmup = static_cast<int>(parse_integer(flag, take(), 0, 1 << 24));
    } else if (flag == "-c" || flag == "--check") {
      o.check = parse_integer(flag, take(), 0, 1) == 1;
    } else if (flag == "--dtype" || flag == "-d") {
      const std::string name = take();
      if (name == "f32" || name == "float") {
        o.dtype = DType::f32;
      } else if (name == "i32" || name == "int32") {
        o.dtype = DType::i32;
      } else {
        throw InputError(flag + " " + name + ": valid: f32, i32");
      }
    } else if (flag == "-r" || flag == "--root") {
      o.root = static_cast<int>(parse_integer(flag, take(), 0, 4095));
    } else if (flag == "--json") {
      o.json_path = take();
      if (o.json_path.empty()) throw InputError("--json needs a file name");
    } else if (flag == "--timeout") {
      o.timeout_s = static_cast<int>(parse_integer(flag, take(), 1, 7 * 24 * 3600));
    } else if (flag == "--option") {
      const std::string text = take();
      const std::size_t dot = text.find('.'), eq = text.find('=');
      if (dot == 0 || dot == std::string::npos || eq == std::string::npos || eq < dot + 2) {
        throw InputError("--option " + text + ": write BACKEND.KEY=VALUE, e.g. ucx.tls=shm");
      }
      o.backend_options.push_back(text);
    } else {
      throw InputError("unknown argument '" + args.word() + "'");
    }
  }
  if (o.help) return o;
  if (o.backends.empty()) throw InputError("--backend is required, e.g. --backend ucx,mpi-raw");
  if (!have_op) throw InputError("--op is required; valid: " + bench_op_list());
  if (!have_min || !have_max) throw InputError("-b MIN and -e MAX are required, e.g. -b 8 -e 64M");
  if (o.min_bytes > o.max_bytes) {
    throw InputError("-b " + format_size(o.min_bytes) + " is larger than -e " +
                     format_size(o.max_bytes));
  }
  if (o.root >= o.nproc && o.nproc_given) {
    throw InputError("-r " + std::to_string(o.root) + " is not a rank of " +
                     std::to_string(o.nproc) + "; valid: 0 to " + std::to_string(o.nproc - 1));
  }
  for (const std::string& text : o.backend_options) {
    const std::string backend = text.substr(0, text.find('.'));
    if (std::find(o.backends.begin(), o.backends.end(), backend) == o.backends.end()) {
      throw InputError("--option " + text + ": backend " + backend + " is not in --backend");
    }
    if (backend == kMpiRaw) throw InputError("--option " + text + ": mpi-raw takes no options");
  }
  for (std::size_t a = 0; a < o.backends.size(); ++a) {
    for (std::size_t b = a + 1; b < o.backends.size(); ++b) {
      if (o.backends[a] == o.backends[b]) {
        throw InputError("--backend names " + o.backends[a] + " twice");
      }
    }
  }
  return o;
}

std::vector<std::string> comm_words(const CommBenchOptions& o) {
  std::string backends;
  for (const std::string& backend : o.backends) backends += (backends.empty() ? "" : ",") + backend;
  std::vector<std::string> words = {"--backend", backends,
                                    "--op",      bench_op_name(o.op),
                                    "-b",        std::to_string(o.min_bytes),
                                    "-e",        std::to_string(o.max_bytes),
                                    "-f",        std::to_string(o.factor),
                                    "-n",        std::to_string(o.iters),
                                    "-w",        std::to_string(o.warmup),
                                    "-c",        o.check ? "1" : "0",
                                    "--dtype",   dtype_name(o.dtype),
                                    "-r",        std::to_string(o.root),
                                    "--timeout", std::to_string(o.timeout_s)};
  if (o.nproc_given) {
    words.push_back("--nproc");
    words.push_back(std::to_string(o.nproc));
  }
  if (!o.json_path.empty()) {
    words.push_back("--json");
    words.push_back(o.json_path);
  }
  for (const std::string& text : o.backend_options) {
    words.push_back("--option");
    words.push_back(text);
  }
  return words;
}

std::vector<std::int64_t> sweep_sizes(const CommBenchOptions& o) {
  std::vector<std::int64_t> sizes;
  std::int64_t size = o.min_bytes;
  while (true) {
    sizes.push_back(size);
    if (size == 0 || size > o.max_bytes / o.factor) break;
    size *= o.factor;
  }
  return sizes;
}

}  // namespace trellis::bench
