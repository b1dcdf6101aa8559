#include <doctest/doctest.h>

#include "config/did_you_mean.h"

using trellis::closest_match;
using trellis::edit_distance;

TEST_CASE("edit distance counts inserts, deletes, substitutions and swaps, ignoring case") {
  CHECK(edit_distance("tensor", "tensor") == 0);
  CHECK(edit_distance("tensr", "tensor") == 1);
  CHECK(edit_distance("tesnor", "tensor") == 1);  // neighbours swapped
  CHECK(edit_distance("Tensor", "tensor") == 0);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("closest_match suggests near words only") {
  const std::vector<std::string> keys = {"tensor",         "tensor_mode", "pipeline", "schedule",
                                         "virtual_stages", "context",     "data",     "order"};
  CHECK(closest_match("tensr", keys) == "tensor");
  CHECK(closest_match("pipline", keys) == "pipeline");
  CHECK(closest_match("virtual_stage", keys) == "virtual_stages");
  CHECK(closest_match("shedule", keys) == "schedule");
  CHECK_FALSE(closest_match("banana", keys).has_value());
  CHECK_FALSE(closest_match("xy", keys).has_value());
}

TEST_CASE("a word cut short or run on is suggested too") {
  CHECK(closest_match("vocab", {"vocab_size", "seq_len"}) == "vocab_size");
  CHECK(closest_match("micro_batch_size", {"micro_batch", "global_batch"}) == "micro_batch");
}

TEST_CASE("did_you_mean is ready to append") {
  CHECK(trellis::did_you_mean("tensr", {"tensor"}) == " (did you mean 'tensor'?)");
  CHECK(trellis::did_you_mean("zzzzzz", {"tensor"}).empty());
}
