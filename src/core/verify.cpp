#include "core/verify.hpp"

#include <fmt/format.h>

#include "core/pattern.hpp"

namespace dcp {

void VerifyOutcome::merge(const VerifyOutcome& other) {
  calls_checked += other.calls_checked;
  rows_checked += other.rows_checked;
  bad_rows += other.bad_rows;
  mismatched_elements += other.mismatched_elements;
  if (!first && other.first) first = other.first;
}

std::string VerifyOutcome::summary() const {
  if (ok() && rows_checked == 0) {
    return fmt::format("ok: empty exchange (E = 0), no rows to check, {} calls", calls_checked);
  }
  if (ok()) {
    return fmt::format("ok: 0 bad rows of {} over {} calls", rows_checked, calls_checked);
  }
  std::string s = fmt::format("{} bad rows of {} ({} wrong elements)", bad_rows, rows_checked,
                              mismatched_elements);
  if (first) {
    s += fmt::format(
        "; first: rank {} {}[entry {}, from rank {}, element {}] call {}: expected 0x{:x}, got "
        "0x{:x}",
        first->dst_rank, first->tensor, first->entry, first->src_rank, first->element, first->call,
        first->expected_bits, first->actual_bits);
  }
  return s;
}

std::optional<std::string> verification_defect(std::int64_t entries, const VerifyOutcome& v) {
  if (v.calls_checked == 0) {
    return std::string("verification checked no call: the outputs were not verified");
  }
  if (entries > 0 && v.rows_checked == 0) {
    return fmt::format(
        "verification checked no row of a non-empty exchange (E = {}) over {} calls: the outputs "
        "were not verified",
        entries, v.calls_checked);
  }
  return std::nullopt;
}

void fill_inputs_host(const ExchangeShape& shape, std::uint64_t seed, std::uint32_t call, int src,
                      std::uint16_t* in_o, std::uint32_t* in_stats) {
  for (std::int64_t e = 0; e < shape.entries; ++e) {
    for (int p = 0; p < shape.cp_size; ++p) {
      const std::int64_t row = shape.row_index(e, p);
      pattern::Coord c{seed,
                       call,
                       static_cast<std::uint32_t>(src),
                       static_cast<std::uint32_t>(p),
                       static_cast<std::uint64_t>(e),
                       0};
      for (int k = 0; k < shape.head_dim; ++k) {
        c.element = static_cast<std::uint32_t>(k);
        in_o[row * shape.head_dim + k] = pattern::o_bits(shape.fp16, c);
      }
      for (int k = 0; k < shape.stats_dim; ++k) {
        c.element = static_cast<std::uint32_t>(k);
        in_stats[row * shape.stats_dim + k] = pattern::stats_bits(c);
      }
    }
  }
}

void poison_outputs_host(const ExchangeShape& shape, std::uint16_t* out_o,
                         std::uint32_t* out_stats) {
  const std::int64_t rows = shape.rows();
  for (std::int64_t i = 0; i < rows * shape.head_dim; ++i)
    out_o[i] = pattern::kPoisonO;
  for (std::int64_t i = 0; i < rows * shape.stats_dim; ++i)
    out_stats[i] = pattern::kPoisonStats;
}

VerifyOutcome verify_outputs_host(const ExchangeShape& shape, std::uint64_t seed,
                                  std::uint32_t call, int dst, const std::uint16_t* out_o,
                                  const std::uint32_t* out_stats, bool check_stats) {
  VerifyOutcome out;
  out.calls_checked = 1;
  for (std::int64_t e = 0; e < shape.entries; ++e) {
    for (int p = 0; p < shape.cp_size; ++p) {
      const std::int64_t row = shape.row_index(e, p);
      // Output row (e, p) on rank dst came from rank p's input row (e, dst).
      pattern::Coord c{seed,
                       call,
                       static_cast<std::uint32_t>(p),
                       static_cast<std::uint32_t>(dst),
                       static_cast<std::uint64_t>(e),
                       0};
      bool row_bad = false;
      auto record = [&](const char* tensor, int k, std::uint32_t want, std::uint32_t got) {
        ++out.mismatched_elements;
        row_bad = true;
        if (!out.first) {
          out.first = Mismatch{tensor, dst, p, e, k, call, want, got};
        }
      };
      for (int k = 0; k < shape.head_dim; ++k) {
        c.element = static_cast<std::uint32_t>(k);
        const std::uint16_t want = pattern::o_bits(shape.fp16, c);
        const std::uint16_t got = out_o[row * shape.head_dim + k];
        if (want != got) record("partial_o", k, want, got);
      }
      if (check_stats) {
        for (int k = 0; k < shape.stats_dim; ++k) {
          c.element = static_cast<std::uint32_t>(k);
          const std::uint32_t want = pattern::stats_bits(c);
          const std::uint32_t got = out_stats[row * shape.stats_dim + k];
          if (want != got) record("softmax_stats", k, want, got);
        }
      }
      ++out.rows_checked;
      if (row_bad) ++out.bad_rows;
    }
  }
  return out;
}

}  // namespace dcp
