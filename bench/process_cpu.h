// CPU time of this process, for benchmarks that print CPU per answer beside their rates.
#pragma once

namespace gh::bench {

// CPU seconds (user + system) this process has used so far, all threads together.
double own_cpu_seconds();

}  // namespace gh::bench
