#include "kernels/impls.hpp"

#include <array>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/error.hpp"
#include "core/limits.hpp"
#include "kernels/ll128_layout.hpp"
#include "kernels/native_auto.hpp"
#include "kernels/native_direct.hpp"
#include "kernels/native_fused.hpp"
#include "kernels/native_strategy.hpp"

namespace dcp::kernels {

namespace {

// The kernel's peer table and the sweep's cp limit are the same number (core/limits.hpp is its
// home; ll128_layout.hpp should take it from there).
static_assert(ll128::kMaxCp == kMaxCpSize, "the kernel addresses every cp the sweep accepts");

std::unique_ptr<AllToAllImpl> make_native(ImplEnv& env) {
  return std::make_unique<NativeStrategy>(env.world());
}

std::unique_ptr<AllToAllImpl> make_native_fused(ImplEnv& env) {
  return std::make_unique<NativeFused>(env.world());
}

/// The direct rows read the workspace capacity the CLI may have stored (kDirectCapacityKey).
DirectOptions direct_options(ImplEnv& env) {
  DirectOptions o;
  o.capacity = *env.shared<DirectCapacity>(kDirectCapacityKey,
                                           [] { return std::make_shared<DirectCapacity>(); });
  return o;
}

std::unique_ptr<AllToAllImpl> make_native_direct(ImplEnv& env) {
  return std::make_unique<NativeDirect>(env.world(), DirectScheme::kFused, direct_options(env));
}

std::unique_ptr<AllToAllImpl> make_direct_staged(ImplEnv& env) {
  return std::make_unique<NativeDirect>(env.world(), DirectScheme::kStaged, direct_options(env));
}

/// The crossover file: $DCP_CROSSOVER, else configs/crossover.txt from the working directory;
/// none found = no rules (native-auto runs LL128 and says so in every row's detail).
std::shared_ptr<Crossover> load_crossover() {
  const char* env = std::getenv("DCP_CROSSOVER");
  const std::string path = env != nullptr && *env != 0 ? env : "configs/crossover.txt";
  std::ifstream in(path);
  if (!in) {
    if (env != nullptr && *env != 0) {
      throw ConfigError("crossover: DCP_CROSSOVER=" + path + " cannot be read");
    }
    auto none = std::make_shared<Crossover>();
    none->source = "no crossover file (" + path + "; dcpbench crossover REPORT.json writes it)";
    return none;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return std::make_shared<Crossover>(parse_crossover(text.str(), path));
}

std::unique_ptr<AllToAllImpl> make_native_auto(ImplEnv& env) {
  return std::make_unique<NativeAuto>(
      env.world(), env.shared<Crossover>(kCrossoverKey, load_crossover), direct_options(env));
}

/// A native row: every launch mode, a workspace, both tensors moved, bit-exact, and the same
/// needs (peer load/store; sim runs every rank on one GPU). What differs is passed.
constexpr ImplInfo native_row(std::string_view name, std::string_view summary, OpSet ops,
                              bool uses_pdl, std::string_view speedups_against,
                              bool in_default_sweep, ImplFactory make) {
  return ImplInfo{
      .name = name,
      .summary = summary,
      .ops = ops,
      .launches = kAllLaunches,
      .traits = {.uses_pdl = uses_pdl,
                 .uses_workspace = true,
                 .moves_stats = true,
                 .exact = true,
                 .ulp_bound = 0},
      .needs = {.one_gpu_per_rank = false, .min_world = 1, .min_nccl = {}, .peer_load_store = true},
      .speedups_against = speedups_against,
      .in_default_sweep = in_default_sweep,
      .make = make};
}

constexpr std::array kRows{
    native_row(kNativeName,
               "native fused LL128 exchange: one kernel per rank moves both tensors through "
               "per-peer FIFOs in a mapped workspace (reduce: then the merge kernel)",
               {Op::kExchange, Op::kReduce}, true, "*", true, &make_native),
    native_row(kNativeFusedName,
               "native LL128 exchange and merge in ONE kernel per rank: each CTA receives its "
               "entries from every source into shared memory and merges them (reduce only)",
               {Op::kReduce}, true, "*", true, &make_native_fused),
    native_row(kNativeDirectName,
               "native fused direct-store exchange (+ merge): one kernel per rank writes rows "
               "into the peers' receive buffers, flags per block with release/acquire",
               {Op::kExchange, Op::kReduce}, false, "*", true, &make_native_direct),
    native_row(kDirectStagedName,
               "vLLM's four-launch direct path (advance, write, signal, wait+merge) on "
               "dcpbench's direct workspace: the baseline of native-direct",
               {Op::kExchange, Op::kReduce}, false, "", true, &make_direct_staged),
    native_row(kNativeAutoName,
               "native or native-direct per case, from the crossover measured on this machine "
               "(configs/crossover.txt, written by dcpbench crossover)",
               {Op::kExchange, Op::kReduce}, false, "", false, &make_native_auto),
};

}  // namespace

std::span<const ImplInfo> native_impls() {
  return kRows;
}

}  // namespace dcp::kernels
