// The text form of schedule actions round-trips and matches torch.distributed.pipelining's.
#include <doctest/doctest.h>

#include "trellis/error.h"
#include "trellis/schedule.h"

using trellis::Action;
using trellis::ActionType;

TEST_CASE("actions print as <stage><type><microbatch>") {
  CHECK(trellis::to_string(Action{2, ActionType::F, 0}) == "2F0");
  CHECK(trellis::to_string(Action{1, ActionType::SEND_B, 3}) == "1SEND_B3");
  CHECK(trellis::to_string(Action{0, ActionType::I, 15}) == "0I15");
  CHECK(trellis::to_string(Action{12, ActionType::RECV_F, 7}) == "12RECV_F7");
}

TEST_CASE("every action type round-trips through text") {
  for (ActionType type :
       {ActionType::F, ActionType::B, ActionType::I, ActionType::W, ActionType::SEND_F,
        ActionType::RECV_F, ActionType::SEND_B, ActionType::RECV_B}) {
    for (int stage : {0, 3, 17})
      for (int mb : {0, 1, 42}) {
        Action a{stage, type, mb};
        CHECK(trellis::parse_action(trellis::to_string(a)) == a);
      }
  }
}

TEST_CASE("surrounding whitespace is ignored") {
  CHECK(trellis::parse_action("  3W1 ") == Action{3, ActionType::W, 1});
}

TEST_CASE("malformed actions are input errors that show the expected form") {
  for (const char* bad :
       {"", "F0", "2F", "2X0", "2SEND0", "2F0x", "-1F0", "2 F0", "2f0", "99999999999F0"}) {
    INFO(bad);
    CHECK_THROWS_WITH_AS(trellis::parse_action(bad), doctest::Contains("<stage><type><microbatch>"),
                         trellis::InputError);
  }
}

TEST_CASE("compute actions are F, B, I and W") {
  CHECK(trellis::is_compute(ActionType::F));
  CHECK(trellis::is_compute(ActionType::W));
  CHECK_FALSE(trellis::is_compute(ActionType::SEND_F));
  CHECK_FALSE(trellis::is_compute(ActionType::RECV_B));
}
