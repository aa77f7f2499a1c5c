// native-auto's crossover without a GPU: the file format (round trip, refusals naming the line),
// the pick, and the derivation from measured results (including a non-monotone table).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "kernels/crossover.hpp"

namespace dcp::kernels {
namespace {

CaseResult result(std::string impl, Op op, int cp, int d, std::int64_t e, double p50_us,
                  LaunchMode launch = LaunchMode::kGraph, CaseStatus st = CaseStatus::kOk) {
  CaseResult r;
  r.impl = std::move(impl);
  r.c.op = op;
  r.c.cp_size = cp;
  r.c.head_dim = d;
  r.c.batch = e;
  r.c.launch = launch;
  r.status = st;
  Timing t;
  t.stats.p50 = p50_us * 1e-6;
  r.timing = t;
  return r;
}

TEST(Crossover, FileRoundTripsAndPicks) {
  const Crossover x = parse_crossover(
      "# measured on a test GPU\n\nreduce 2 512 4096\nreduce 8 512 128\nexchange 2 128 never\n",
      "t.txt");
  EXPECT_EQ(x.source, " measured on a test GPU");
  ASSERT_EQ(x.rules.size(), 3u);
  EXPECT_EQ(parse_crossover(format_crossover(x), "rt").rules, x.rules);
  EXPECT_FALSE(picks_direct(x, Op::kReduce, 2, 512, 4095));
  EXPECT_TRUE(picks_direct(x, Op::kReduce, 2, 512, 4096));
  EXPECT_TRUE(picks_direct(x, Op::kReduce, 8, 512, 128));
  EXPECT_FALSE(picks_direct(x, Op::kReduce, 8, 128, 100000));     // no rule for D 128: LL128
  EXPECT_FALSE(picks_direct(x, Op::kExchange, 2, 128, 1 << 30));  // never
  EXPECT_FALSE(picks_direct(x, Op::kReduce, 4, 512, 1 << 30));    // no rule for cp 4
}

TEST(Crossover, BadLinesAreRefusedNamingTheLine) {
  const auto error_of = [](const char* text) {
    try {
      (void)parse_crossover(text, "f.txt");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("reduce 2 512\n"),
            "crossover: f.txt line 1: four fields expected ('reduce 2 512'); accepted: "
            "<exchange|reduce> <cp 1..64> <head_dim> <E >= 0 or never>");
  EXPECT_NE(error_of("# c\nsum 2 512 8\n").find("line 2: unknown op"), std::string::npos);
  EXPECT_NE(error_of("reduce 0 512 8\n").find("cp out of range"), std::string::npos);
  EXPECT_NE(error_of("reduce 2 512 -1\n").find("bad entry count"), std::string::npos);
  EXPECT_NE(error_of("reduce 2 512 x\n").find("not a number"), std::string::npos);
  EXPECT_NE(error_of("reduce 2 512 8\nreduce 2 512 9\n").find("a second rule"), std::string::npos);
}

TEST(Crossover, DerivedFromTheLargestEntriesDown) {
  std::vector<CaseResult> rs = {
      // reduce cp 2 D 512: LL128 wins small, direct from E = 1024 on (E = 256 direct wins too, but
      // LL128 wins at 512 again: the rule starts where direct keeps winning).
      result("native", Op::kReduce, 2, 512, 16, 6.0),
      result("native-direct", Op::kReduce, 2, 512, 16, 7.0),
      result("native", Op::kReduce, 2, 512, 256, 9.0),
      result("native-direct", Op::kReduce, 2, 512, 256, 8.5),
      result("native", Op::kReduce, 2, 512, 512, 12.0),
      result("native-direct", Op::kReduce, 2, 512, 512, 13.0),
      result("native", Op::kReduce, 2, 512, 1024, 22.0),
      result("native-direct", Op::kReduce, 2, 512, 1024, 21.0),
      result("native", Op::kReduce, 2, 512, 4096, 59.0),
      result("native-direct", Op::kReduce, 2, 512, 4096, 52.0),
      // cp 4: direct never wins; eager rows, other impls and failed rows are ignored.
      result("native", Op::kReduce, 4, 512, 16, 8.0),
      result("native-direct", Op::kReduce, 4, 512, 16, 10.0),
      result("native-direct", Op::kReduce, 4, 512, 16, 1.0, LaunchMode::kEager),
      result("native-direct", Op::kReduce, 4, 512, 16, 1.0, LaunchMode::kGraph,
             CaseStatus::kVerifyFailed),
      result("nccl-2x", Op::kReduce, 4, 512, 16, 0.5),
      // cp 8: one strategy only: no rule.
      result("native", Op::kReduce, 8, 512, 16, 8.0),
  };
  const Crossover x = derive_crossover(rs, "native", "native-direct", "unit test");
  ASSERT_EQ(x.rules.size(), 2u);
  EXPECT_EQ(x.rules[0], (CrossoverRule{Op::kReduce, 2, 512, 1024}));
  EXPECT_EQ(x.rules[1], (CrossoverRule{Op::kReduce, 4, 512, kDirectNever}));
  EXPECT_EQ(x.source, "unit test");
}

}  // namespace
}  // namespace dcp::kernels
