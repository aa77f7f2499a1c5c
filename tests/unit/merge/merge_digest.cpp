// Prints a 64-bit digest of the merge routine's results (exp/log sweeps and whole merges of the
// reduce pattern over many shapes), and whether this build may use FMA instructions. Built
// several times by tests/unit/merge.cmake: with the project's host compiler, with a second
// compiler (clang++ or g++) at -O3 -march=native -ffp-contract=off, and a control at
// -ffp-contract=fast. The first two must print the same digest (the routine is one source and
// its arithmetic is compiler-independent); the control must differ where the CPU has FMA (the
// comparison can see a contraction). Header-only: links nothing.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "core/pattern.hpp"
#include "merge/exp_log.hpp"
#include "merge/merge_routine.hpp"
#include "merge/reduce_pattern.hpp"

namespace {

using namespace dcp::merge;

struct Digest {
  std::uint64_t h = 0x243F6A8885A308D3ull;
  void add(std::uint64_t v) { h = dcp::pattern::mix64(h ^ v); }
};

}  // namespace

int main() {
  Digest d;
  const int n = 1 << 20;
  for (int i = 0; i < n; ++i) {
    const float x = -160.0f * static_cast<float>(i) / static_cast<float>(n);
    d.add(float_bits(exp2_rn(x)) | std::uint64_t{float_bits(exp_rn(x))} << 32);
    const float w = 1.0f + 63.0f * static_cast<float>(i) / static_cast<float>(n);
    d.add(float_bits(log2_rn(w)) | std::uint64_t{float_bits(ln_rn(w))} << 32);
  }
  std::uint64_t merged = 0;
  for (int cp : {1, 2, 3, 4, 5, 8, 16, 64}) {
    for (int variant = 0; variant < 4; ++variant) {
      const bool fp16 = (variant & 1) != 0;
      const LseBase base = (variant & 2) != 0 ? LseBase::kTwo : LseBase::kE;
      const int dim = 48;
      const int entries = cp >= 16 ? 100 : 400;
      std::vector<std::uint16_t> o(static_cast<std::size_t>(cp * dim));
      std::vector<float> lse(static_cast<std::size_t>(cp));
      std::vector<std::uint16_t> out(static_cast<std::size_t>(dim));
      for (std::uint32_t call = 0; call < 2; ++call) {
        for (int e = 0; e < entries; ++e) {
          for (int s = 0; s < cp; ++s) {
            dcp::pattern::Coord c{2026,
                                  call,
                                  static_cast<std::uint32_t>(s),
                                  static_cast<std::uint32_t>(cp - 1),
                                  static_cast<std::uint64_t>(e),
                                  0};
            lse[static_cast<std::size_t>(s)] = reduce_lse(c, base);
            for (int k = 0; k < dim; ++k) {
              c.element = static_cast<std::uint32_t>(k);
              o[static_cast<std::size_t>(s * dim + k)] = reduce_o_bits(c, fp16);
            }
          }
          const float l =
              merge_entry(o.data(), dim, lse.data(), 1, cp, dim, fp16, base, out.data());
          d.add(float_bits(l));
          for (std::uint16_t v : out)
            d.add(v);
          ++merged;
        }
      }
    }
  }
#if defined(__FMA__)
  const int fma = 1;
#else
  const int fma = 0;
#endif
  std::printf("entries=%llu fma=%d digest=%016llx\n", static_cast<unsigned long long>(merged), fma,
              static_cast<unsigned long long>(d.h));
  return 0;
}
