#pragma once
/// @file
/// The human-readable report, nccl-tests style, and the unit formatting it (and the comparison
/// printers) use. This is the only place that scales units for display: records stay in
/// seconds, bytes and bytes/s.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "core/result.hpp"

namespace dcp::report {

/// A duration for humans: "850 ns", "1.85 us", "1.234 ms", "2.500 s"; "n/a" if not finite.
std::string format_seconds(double s);
/// `s` in the unit format_seconds would pick for `reference`, without the unit ("1.84").
std::string format_seconds_in_unit_of(double s, double reference);
/// The unit format_seconds picks for `reference`: "ns", "us", "ms" or "s".
std::string time_unit_of(double reference);
/// An interval in the unit of `reference`: "[1.84, 1.86] us"; "n/a" when absent.
std::string format_interval_s(const std::optional<Interval>& ci, double reference);
/// Bandwidth in decimal GB/s, as nccl-tests prints it: "4.46 GB/s" ("0.285 GB/s" below 1).
std::string format_bandwidth(double bytes_per_s);
/// A size in binary units: "528 B", "8.25 KiB", "69.0 MiB", "1.50 GiB".
std::string format_bytes(std::uint64_t bytes);
/// A ratio: "6.65x".
std::string format_ratio(double r);
/// A relative change: "+12.3%" ("n/a" when absent or not finite).
std::string format_percent(std::optional<double> rel);

/// Writes the report for humans: a context header (tool, GPUs, driver, CUDA, NCCL, hosts), the
/// results grouped by exchange (one line per impl variant: p50, p95, p99, CI of the median,
/// algbw, busbw, workspace size, verification), the native-vs-baseline speedups with their
/// intervals, the launch floors, and the skipped, failed and errored rows with their reasons.
void write_table(const RunReport& report, std::ostream& out);

}  // namespace dcp::report
