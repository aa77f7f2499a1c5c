#pragma once
/// @file
/// The one definition of expected data.
///
/// Every input value is a pure function of (seed, call, source rank, destination rank, entry,
/// element), callable from host and device. Any rank can therefore compute what it must receive
/// without talking to its peers, and misrouted data is recognisable because the value encodes
/// where it came from. Values are never zero, never Inf and never NaN; the poison written into
/// outputs before every verified call is a NaN pattern that no input ever takes, so an output
/// word that was not written can never pass.
///
/// Semantics checked (dcp-a2a-spec.md §1.3): on rank r, out_o[e, p, :] = partial_o(rank p)[e, r,
/// :], so input (src = p, dst = r, entry e) lands in rank r's output row (e, p).
///
/// C++17 and host-compilable: included by CUDA translation units.

#include <cstdint>

#include "core/host_device.hpp"

namespace dcp::pattern {

/// Which tensor a value belongs to (part of the hash, so the tensors never share values).
enum class Tensor : std::uint32_t { kO = 0, kStats = 1 };

/// Bits written into every partial_o output element before a verified call (NaN in bf16 and fp16).
inline constexpr std::uint16_t kPoisonO = 0xFFFF;
/// Bits written into every softmax_stats output element before a verified call (fp32 NaN).
inline constexpr std::uint32_t kPoisonStats = 0xFFFFFFFFu;

/// splitmix64 finalizer: a cheap bijective mixer.
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

/// Coordinates of one element of one input tensor.
struct Coord {
  std::uint64_t seed;
  std::uint32_t call;     ///< index of the input set (ring slot or stress call)
  std::uint32_t src;      ///< rank that owns the input
  std::uint32_t dst;      ///< rank the row is sent to (the input's cp index)
  std::uint64_t entry;    ///< e, the flattened batch index
  std::uint32_t element;  ///< index within the row
};

/// 64 well-mixed bits for a coordinate of `tensor`.
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint64_t hash(Tensor tensor, const Coord& c) {
  std::uint64_t h = mix64(c.seed ^ (static_cast<std::uint64_t>(tensor) << 62));
  h = mix64(h ^ (static_cast<std::uint64_t>(c.call) << 32 | c.src));
  h = mix64(h ^ (static_cast<std::uint64_t>(c.dst) << 32 | c.element));
  h = mix64(h ^ c.entry);
  return h;
}

/// Bits of a partial_o element. bf16: sign, exponent 112..143 (2^-15..2^16), 7 random mantissa
/// bits. fp16: sign, exponent 8..23, 10 random mantissa bits. Never zero, Inf, NaN or subnormal.
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint16_t o_bits(bool fp16, const Coord& c) {
  const std::uint64_t h = hash(Tensor::kO, c);
  const auto sign = static_cast<std::uint16_t>((h >> 63) << 15);
  if (fp16) {
    const auto exponent = static_cast<std::uint16_t>(8u + ((h >> 10) & 15u));
    return static_cast<std::uint16_t>(sign | (exponent << 10) | (h & 0x3FFu));
  }
  const auto exponent = static_cast<std::uint16_t>(112u + ((h >> 7) & 31u));
  return static_cast<std::uint16_t>(sign | (exponent << 7) | (h & 0x7Fu));
}

/// Bits of a softmax_stats element (fp32): sign, exponent 112..143, 23 random mantissa bits.
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint32_t stats_bits(const Coord& c) {
  const std::uint64_t h = hash(Tensor::kStats, c);
  const auto sign = static_cast<std::uint32_t>((h >> 63) << 31);
  const auto exponent = static_cast<std::uint32_t>(112u + ((h >> 23) & 31u));
  return sign | (exponent << 23) | static_cast<std::uint32_t>(h & 0x7FFFFFu);
}

}  // namespace dcp::pattern
