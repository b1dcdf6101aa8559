// trellis-train CONFIG [--set section.key=value]... [--dry-run] [--help]  (train_command.cpp)
#include "train_command.h"

int main(int argc, char** argv) {
  return trellis_train_command(argc, argv, {});
}
