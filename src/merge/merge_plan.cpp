// MergePlan: validation and launch geometry of the merge kernel (merge/merge_plan.hpp).
#include "merge/merge_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "core/error.hpp"

namespace dcp::merge {

std::string MergePlan::problem(const MergeShape& shape) {
  if (shape.cp < 1 || shape.cp > kMaxCp) {
    return fmt::format("merge: cp = {} is out of range (accepted: 1..{})", shape.cp, kMaxCp);
  }
  if (shape.head_dim < 1 || shape.head_dim > kMaxHeadDim) {
    return fmt::format("merge: head_dim = {} is out of range (accepted: 1..{})", shape.head_dim,
                       kMaxHeadDim);
  }
  if (shape.base != LseBase::kE && shape.base != LseBase::kTwo) {
    return fmt::format("merge: lse base {} is not accepted (accepted: e|2)",
                       static_cast<int>(shape.base));
  }
  // E x cp x D elements must be addressable with int64, and the grid at most 2^31 - 1 CTAs.
  const std::int64_t max_entries = std::min<std::int64_t>(
      INT64_MAX / 4 / (std::int64_t{shape.cp} * shape.head_dim), std::int64_t{INT32_MAX});
  if (shape.entries < 0 || shape.entries > max_entries) {
    return fmt::format("merge: entries = {} is out of range (accepted: 0..{})", shape.entries,
                       max_entries);
  }
  return {};
}

MergePlan::MergePlan(const MergeShape& shape) : shape_(shape) {
  if (std::string p = problem(shape); !p.empty()) throw ConfigError(p);
  vector_width_ = shape.head_dim % 8 == 0 ? 8 : 1;
  const int chunks = shape.head_dim / vector_width_;
  // Enough (entry, chunk) pairs for two rounds of the CTA's threads, within the cap.
  entries_per_cta_ = std::clamp(2 * kThreads / chunks, 1, kMaxEntriesPerCta);
  ctas_ = (shape.entries + entries_per_cta_ - 1) / entries_per_cta_;
}

std::size_t MergePlan::shared_bytes() const {
  return static_cast<std::size_t>(entries_per_cta_) *
         (sizeof(std::uint64_t) + sizeof(float) * static_cast<std::size_t>(shape_.cp));
}

MergeStrides MergePlan::strides(const MergeBuffers& b) const {
  return b.strides ? *b.strides
                   : MergeStrides::contiguous(shape_.cp, shape_.head_dim, b.lse_stride);
}

std::string MergePlan::buffers_problem(const MergeBuffers& b) const {
  if (!b.strides && b.lse_stride < 1) {
    return fmt::format("merge: lse_stride = {} (accepted: >= 1)", b.lse_stride);
  }
  const MergeStrides st = strides(b);
  if (st.o_entry < 0 || st.o_source < 0 || st.lse_entry < 0 || st.lse_source < 0) {
    return fmt::format(
        "merge: strides o_entry={} o_source={} lse_entry={} lse_source={} (accepted: >= 0)",
        st.o_entry, st.o_source, st.lse_entry, st.lse_source);
  }
  if (shape_.entries == 0) return {};
  if (b.recv_o == nullptr || b.recv_lse == nullptr || b.out == nullptr || b.lse_out == nullptr) {
    return "merge: a buffer pointer is null";
  }
  const auto misaligned = [](const void* p, std::uintptr_t a) {
    return reinterpret_cast<std::uintptr_t>(p) % a != 0;
  };
  if (misaligned(b.recv_lse, 4) || misaligned(b.lse_out, 4)) {
    return "merge: recv_lse and lse_out must be 4-byte aligned";
  }
  if (misaligned(b.recv_o, 2) || misaligned(b.out, 2)) {
    return "merge: recv_o and out must be 2-byte aligned";
  }
  if (vector_width_ == 8 && (misaligned(b.recv_o, 16) || misaligned(b.out, 16))) {
    return fmt::format("merge: recv_o and out must be 16-byte aligned for head_dim {}",
                       shape_.head_dim);
  }
  if (vector_width_ == 8 && (st.o_entry % 8 != 0 || st.o_source % 8 != 0)) {
    return fmt::format(
        "merge: the row strides (o_entry={}, o_source={} elements) must be multiples of 8 for "
        "16-byte vectors (head_dim {})",
        st.o_entry, st.o_source, shape_.head_dim);
  }
  return {};
}

void MergePlan::require_buffers(const MergeBuffers& buffers) const {
  if (std::string p = buffers_problem(buffers); !p.empty()) throw Error(p);
}

}  // namespace dcp::merge
