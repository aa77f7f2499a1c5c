#pragma once
/// @file
/// The CSV report: one row per (case, impl), a header row, fixed columns (csv_columns()), in SI
/// units. Quoting follows RFC 4180: a field holding a comma, a double quote, CR or LF is
/// enclosed in double quotes, with inner quotes doubled. Rows end with LF.
///
/// Columns: key, exchange_key, impl, cp, batch, head_dim, stats_dim, dtype, launch, pdl,
/// workspace, status, count, min_s, p5_s, p50_s, p95_s, p99_s, mean_s, stddev_s, ci_low_s,
/// ci_high_s, alg_bw_Bps, bus_bw_Bps, bytes_per_rank, workspace_bytes, bad_rows, rows_checked,
/// skip_reason_or_error, max_s, calls_checked, mismatched_elements, first_mismatch, detail,
/// then (schema 1.2) op, tokens, heads, model, lse_base (empty where not given), the accuracy of
/// a reduce row: acc_identical (yes|no), acc_rows_checked, acc_rows_identical, acc_ulp_max,
/// acc_ulp_mean, acc_lse_ulp_max, acc_first_difference (empty without an accuracy block), the
/// parts' medians parts_p50_s ("exchange=1.2e-06;merge=3e-07") and hang (the FIFO state
/// after a device-side timeout, compact text).
/// Timing cells are empty for a row without timing; ci_* are empty without a CI. New columns
/// are only ever appended.

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace dcp::report {

/// The column names, in order.
const std::vector<std::string>& csv_columns();

/// One field quoted per RFC 4180 (unchanged when it needs no quotes).
std::string csv_escape(std::string_view field);

/// Writes the header row and one row per result.
void write_csv(const RunReport& report, std::ostream& out);

}  // namespace dcp::report
