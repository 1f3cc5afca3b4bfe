#include "parley-bench/proc_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace parley::bench {
namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<std::uint64_t> to_u64(std::string_view text) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::uint64_t> process_cpu_us(int pid) {
  const auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces: count
  // fields from the last ')'. utime and stime are fields 14 and 15.
  const auto close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::string_view rest = std::string_view(*stat).substr(close + 1);
  std::optional<std::uint64_t> utime;
  std::optional<std::uint64_t> stime;
  int field = 2;
  while (!rest.empty() && !stime) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto end = rest.find(' ');
    const std::string_view token = rest.substr(0, end);
    ++field;
    if (field == 14) utime = to_u64(token);
    if (field == 15) stime = to_u64(token);
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  if (!utime || !stime) return std::nullopt;
  const long ticks = ::sysconf(_SC_CLK_TCK);
  if (ticks <= 0) return std::nullopt;
  return (*utime + *stime) * 1000000 / static_cast<std::uint64_t>(ticks);
}

std::optional<std::uint64_t> process_rss_kib(int pid) {
  const auto status = read_file("/proc/" + std::to_string(pid) + "/status");
  if (!status) return std::nullopt;
  const auto at = status->find("\nVmRSS:");
  if (at == std::string::npos) return std::nullopt;
  std::string_view rest = std::string_view(*status).substr(at + 7);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  return to_u64(rest);
}

std::uint64_t self_cpu_us() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto us = [](const timeval& t) {
    return static_cast<std::uint64_t>(t.tv_sec) * 1000000 + static_cast<std::uint64_t>(t.tv_usec);
  };
  return us(u.ru_utime) + us(u.ru_stime);
}

std::uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000 +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t raise_open_files_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  return lim.rlim_cur;
}

CpuSample sample_cpu(std::optional<int> server_pid) {
  CpuSample s;
  s.wall_ns = monotonic_ns();
  s.self_us = self_cpu_us();
  if (server_pid) s.server_us = process_cpu_us(*server_pid);
  return s;
}

}  // namespace parley::bench
