#pragma once
/// @file
/// Inputs of the DCP reduction that exercise the merge: partial outputs and LSEs as pure
/// functions of (seed, call, source rank, destination rank, entry, element), like the exchange's
/// core/pattern.hpp, so that any rank (and the device checker) can compute what a merge must
/// produce without talking to its peers. Fresh values on every call index.
///
/// Rank `src` holds, for every destination `dst` and entry e, the partial output row
/// partial_o[e, dst, :] = reduce_o_bits(c) and the LSE lse[e, dst] = reduce_lse(c) with
/// c = {seed, call, src, dst, e, element}; the merge on rank dst combines the cp rows (e, dst)
/// of all sources.
///
/// Distribution (natural-log units; base-2 LSEs are the same values times log2(e), rounded):
///  - all-empty entries: 1 in kAllEmptyEntryOneIn entries of (call, dst) have every shard empty;
///  - empty shards: otherwise each (src, dst, e) shard is empty with probability
///    1 / kEmptyShardOneIn; an empty shard's LSE is -inf (half of them), +inf or a NaN (a
///    quarter each), and its payload is NaN or +-Inf bit patterns that poison any sum that
///    reads them;
///  - live shards: LSE = b + delta, b per entry uniform in [-8, 24) (fixed point, 2^-16),
///    delta per shard in [-2, 2) with a full random mantissa; 1 in kGapOneIn live shards sits a
///    further gap in [60, 120) below, so that its weight is a tiny normal, a subnormal or 0
///    (base e: subnormal weights for gaps of about 87.3..103.3, zero beyond 103.97; base 2:
///    gaps become 86.6..173 log2 units, subnormal from 126, zero from 150);
///  - live payload: |x| in [2^-8, 4) with a random sign and a random mantissa (never zero, Inf
///    or NaN).
///
/// C++17 and host-compilable: included by CUDA translation units.

#include <cstdint>

#include "core/host_device.hpp"
#include "core/pattern.hpp"
#include "merge/merge_routine.hpp"
#include "merge/rounded_ops.hpp"

namespace dcp::merge {

/// One (call, dst) entry in this many has every shard empty.
inline constexpr std::uint32_t kAllEmptyEntryOneIn = 32;
/// Otherwise one shard in this many is empty.
inline constexpr std::uint32_t kEmptyShardOneIn = 8;
/// One live shard in this many sits a gap of [60, 120) natural-log units below the others.
inline constexpr std::uint32_t kGapOneIn = 8;

namespace detail {

/// Salts separating the reduce pattern's hashes from each other and from the exchange's.
inline constexpr std::uint64_t kSaltEntry = 0x5EED0E17A11E0001ull;
inline constexpr std::uint64_t kSaltShard = 0x5EED0E17A11E0002ull;
inline constexpr std::uint64_t kSaltO = 0x5EED0E17A11E0003ull;

/// Hash of an entry of (call, dst): independent of the source and the element.
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint64_t entry_hash(const pattern::Coord& c) {
  std::uint64_t h = pattern::mix64(c.seed ^ kSaltEntry);
  h = pattern::mix64(h ^ (static_cast<std::uint64_t>(c.call) << 32 | c.dst));
  return pattern::mix64(h ^ c.entry);
}

/// Hash of a shard (src, dst, entry) of a call: independent of the element.
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint64_t shard_hash(const pattern::Coord& c) {
  std::uint64_t h = pattern::mix64(c.seed ^ kSaltShard);
  h = pattern::mix64(h ^ (static_cast<std::uint64_t>(c.call) << 32 | c.src));
  h = pattern::mix64(h ^ c.dst);
  return pattern::mix64(h ^ c.entry);
}

/// Hash of one payload element.
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint64_t o_hash(const pattern::Coord& c) {
  std::uint64_t h = pattern::mix64(c.seed ^ kSaltO);
  h = pattern::mix64(h ^ (static_cast<std::uint64_t>(c.call) << 32 | c.src));
  h = pattern::mix64(h ^ (static_cast<std::uint64_t>(c.dst) << 32 | c.element));
  return pattern::mix64(h ^ c.entry);
}

}  // namespace detail

/// True when every shard of the entry (call, dst, entry) is empty by construction (other
/// entries may still end up all empty by chance, mostly at small cp).
DCP_HOST_DEVICE DCP_FORCEINLINE bool reduce_entry_all_empty(const pattern::Coord& c) {
  return detail::entry_hash(c) % kAllEmptyEntryOneIn == 0;
}

/// True when shard (src, dst, entry) of the call is empty (its LSE is -inf, +inf or NaN).
DCP_HOST_DEVICE DCP_FORCEINLINE bool reduce_shard_empty(const pattern::Coord& c) {
  if (reduce_entry_all_empty(c)) return true;
  return detail::shard_hash(c) % kEmptyShardOneIn == 0;
}

/// The LSE of shard (src, dst, entry) of the call, in `base` (c.element is ignored).
DCP_HOST_DEVICE DCP_FORCEINLINE float reduce_lse(const pattern::Coord& c, LseBase base) {
  const std::uint64_t h = detail::shard_hash(c);
  if (reduce_shard_empty(c)) {
    const std::uint32_t kind = static_cast<std::uint32_t>(h >> 8) & 3u;
    if (kind == 2) {  // a NaN of random sign and non-zero payload
      const auto sign = static_cast<std::uint32_t>(h >> 63) << 31;
      const auto payload = 1u + static_cast<std::uint32_t>((h >> 10) % 0x7FFFFFu);
      return bits_float(sign | 0x7F800000u | payload);
    }
    return kind == 3 ? plus_inf() : minus_inf();
  }
  // b: per entry, [-8, 24) in steps of 2^-16 (exact). delta: [-2, 2) with 23 random bits.
  const std::uint64_t he = detail::entry_hash(c);
  const float b = add_rn(-8.0f, mul_rn(static_cast<float>((he >> 8) & 0x1FFFFFu), 0x1p-16f));
  const float one_to_two =
      bits_float(0x3F800000u | static_cast<std::uint32_t>((h >> 12) & 0x7FFFFFu));
  float l = add_rn(b, mul_rn(sub_rn(one_to_two, 1.5f), 4.0f));
  if ((h >> 40) % kGapOneIn == 0) {
    // gap: [60, 120) in steps of 2^-14 (exact), subtracted with one rounding.
    const auto steps = static_cast<float>(((h >> 44) & 0xFFFFFu) % (60u << 14));
    l = sub_rn(l, add_rn(60.0f, mul_rn(steps, 0x1p-14f)));
  }
  return base == LseBase::kTwo ? mul_rn(l, detail::kLog2e) : l;
}

/// Bits of element c.element of shard (src, dst, entry)'s partial output (bf16 or fp16).
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint16_t reduce_o_bits(const pattern::Coord& c, bool fp16) {
  const std::uint64_t h = detail::o_hash(c);
  const auto sign = static_cast<std::uint16_t>((h >> 63) << 15);
  if (reduce_shard_empty(c)) {
    // Garbage that poisons a sum: a NaN with a random non-zero payload, or +-Inf.
    const bool inf = (h & 3u) == 0;
    if (fp16) {
      const auto payload = static_cast<std::uint16_t>(inf ? 0u : 1u + (h >> 2) % 0x3FFu);
      return static_cast<std::uint16_t>(sign | 0x7C00u | payload);
    }
    const auto payload = static_cast<std::uint16_t>(inf ? 0u : 1u + (h >> 2) % 0x7Fu);
    return static_cast<std::uint16_t>(sign | 0x7F80u | payload);
  }
  // |x| in [2^-8, 4): unbiased exponent -8..1 and a random mantissa.
  const auto exponent = static_cast<std::uint16_t>((h >> 20) % 10u);  // 0..9 -> 2^-8..2^1
  if (fp16) {
    return static_cast<std::uint16_t>(sign | ((7u + exponent) << 10) | (h & 0x3FFu));
  }
  return static_cast<std::uint16_t>(sign | ((119u + exponent) << 7) | (h & 0x7Fu));
}

}  // namespace dcp::merge
