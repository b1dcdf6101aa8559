// Writes the rank's flight record when the rank is signalled: SIGUSR1 asks for it (the rank
// writes it and goes on: `kill -USR1 <pid>` on a rank that seems stuck), SIGTERM is how a
// launcher stops the ranks when one has failed (the rank writes it, then ends as SIGTERM would
// have ended it). SIGCONT (the end of a stop) is noted in the record. Only one may exist at a
// time in a process.
#pragma once

#include <signal.h>

#include <filesystem>
#include <memory>
#include <thread>

#include "comm/flight_log.h"

namespace trellis {

class FlightSignalDump {
 public:
  FlightSignalDump(std::shared_ptr<FlightLog> log, std::filesystem::path dir);
  ~FlightSignalDump();
  FlightSignalDump(const FlightSignalDump&) = delete;
  FlightSignalDump& operator=(const FlightSignalDump&) = delete;

 private:
  void serve();

  std::shared_ptr<FlightLog> log_;
  std::filesystem::path dir_;
  int pipe_[2] = {-1, -1};
  struct sigaction old_term_ {};
  struct sigaction old_usr1_ {};
  struct sigaction old_cont_ {};
  std::thread thread_;
};

}  // namespace trellis
