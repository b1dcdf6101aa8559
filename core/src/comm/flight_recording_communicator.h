// A communicator that writes each operation into the rank's flight record (flight_log.h) before
// passing it on, and marks it complete when its Work is seen done; the groups split from it
// record too. Core puts it around every world a run trains with (launch/run_groups.cpp), so the
// record is the same whatever backend carries a group.
#pragma once

#include <memory>

#include "comm/flight_log.h"
#include "trellis/comm.h"

namespace trellis {

std::shared_ptr<Communicator> record_flights(std::shared_ptr<Communicator> inner,
                                             std::shared_ptr<FlightLog> log);

}  // namespace trellis
