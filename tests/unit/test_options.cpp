// Plugin options: typed getters with fallbacks.
#include <doctest/doctest.h>

#include "trellis/config.h"
#include "trellis/error.h"

TEST_CASE("options return their values, or the fallback when absent") {
  trellis::Options options;
  options.set("tls", std::string("shm"));
  options.set("rails", std::int64_t{2});
  options.set("ratio", 0.5);
  options.set("eager", true);
  CHECK(options.get_string("tls", "tcp") == "shm");
  CHECK(options.get_int("rails", 1) == 2);
  CHECK(options.get_number("ratio", 1.0) == 0.5);
  CHECK(options.get_number("rails", 1.0) == 2.0);  // integers serve where numbers are wanted
  CHECK(options.get_bool("eager", false));
  CHECK(options.get_string("missing", "fallback") == "fallback");
  CHECK(options.get_int("missing", 7) == 7);
}

TEST_CASE("a getter of the wrong type is an error naming the option") {
  trellis::Options options;
  options.set("tls", std::string("shm"));
  CHECK_THROWS_WITH_AS(options.get_int("tls", 0), doctest::Contains("'tls'"), trellis::Error);
}
