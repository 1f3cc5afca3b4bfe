// What the run reports about processes: the server's CPU time and memory
// from /proc (Linux), the generator's own CPU time (getrusage), the clock,
// and the open-files limit.
#pragma once

#include <cstdint>
#include <optional>

namespace parley::bench {

// utime + stime of process `pid` in microseconds (/proc/PID/stat).
std::optional<std::uint64_t> process_cpu_us(int pid);
// VmRSS of process `pid` in KiB (/proc/PID/status).
std::optional<std::uint64_t> process_rss_kib(int pid);
// This process's user + system CPU time in microseconds, all threads.
std::uint64_t self_cpu_us();
std::uint64_t monotonic_ns();
// Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force.
std::uint64_t raise_open_files_limit();

// CPU time of the generator and (if a pid was given) of the server at one
// moment, to report their use over an interval.
struct CpuSample {
  std::uint64_t wall_ns = 0;
  std::uint64_t self_us = 0;
  std::optional<std::uint64_t> server_us;
};
CpuSample sample_cpu(std::optional<int> server_pid);

}  // namespace parley::bench
