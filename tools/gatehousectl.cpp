// gatehousectl: the operators' tool (docs/operations.md). A thin main over tools/ctl.
#include <iostream>
#include <string>
#include <vector>

#include "tools/ctl/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return gh::ctl::run(args, std::cin, std::cout, std::cerr);
}
