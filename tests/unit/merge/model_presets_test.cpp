// The model presets (configs/models/*.json) follow their schema (configs/models/README.md):
// every field present with its type and no other, the name is the file name, heads divide by
// TP, D agrees with the cited config fields, and the set covers the shapes issue 15 asks for
// (MLA with D = 512, a 64-head GQA model with D = 128, a model with D = 64).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<fs::path> preset_files() {
  std::vector<fs::path> files;
  for (const auto& entry :
       fs::directory_iterator(fs::path(DCP_SOURCE_DIR) / "configs" / "models")) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  return files;
}

TEST(ModelPresets, FollowTheSchema) {
  const std::set<std::string> fields = {"schema",
                                        "name",
                                        "model",
                                        "attention",
                                        "tp",
                                        "num_attention_heads",
                                        "heads_per_rank",
                                        "head_dim",
                                        "head_dim_field",
                                        "lse_base",
                                        "lse_base_note",
                                        "dtype",
                                        "config_url",
                                        "config_fields",
                                        "confirmed_via",
                                        "notes"};
  const auto files = preset_files();
  ASSERT_GE(files.size(), 4u);
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    std::ifstream in(file);
    const json p = json::parse(in);  // throws on malformed JSON (comments included)
    ASSERT_TRUE(p.is_object());
    for (const auto& [key, value] : p.items())
      EXPECT_TRUE(fields.count(key)) << "unknown " << key;
    for (const std::string& f : fields)
      ASSERT_TRUE(p.contains(f)) << "missing " << f;
    EXPECT_EQ(p["schema"], "dcpbench-model/1");
    EXPECT_EQ(p["name"].get<std::string>(), file.stem().string());
    for (const char* s : {"model", "head_dim_field", "lse_base_note", "config_url", "notes"}) {
      EXPECT_TRUE(p[s].is_string() && !p[s].get<std::string>().empty()) << s;
    }
    EXPECT_EQ(p["config_url"].get<std::string>().rfind("https://huggingface.co/", 0), 0u);
    EXPECT_TRUE(p["attention"] == "mla" || p["attention"] == "gqa");
    EXPECT_TRUE(p["lse_base"] == "e" || p["lse_base"] == "2");
    EXPECT_TRUE(p["dtype"] == "bf16" || p["dtype"] == "fp16");
    const int tp = p["tp"].get<int>();
    const int heads = p["num_attention_heads"].get<int>();
    const int per_rank = p["heads_per_rank"].get<int>();
    const int d = p["head_dim"].get<int>();
    ASSERT_GE(tp, 1);
    EXPECT_EQ(heads % tp, 0);
    EXPECT_EQ(per_rank * tp, heads);
    EXPECT_GT(d, 0);
    const json& cfg = p["config_fields"];
    ASSERT_TRUE(cfg.is_object());
    EXPECT_EQ(cfg.at("num_attention_heads").get<int>(), heads);
    if (p["attention"] == "mla") {
      EXPECT_EQ(p["head_dim_field"], "kv_lora_rank");
      EXPECT_EQ(cfg.at("kv_lora_rank").get<int>(), d);
    } else if (cfg.contains("head_dim")) {
      EXPECT_EQ(cfg["head_dim"].get<int>(), d);
    } else {
      EXPECT_EQ(cfg.at("hidden_size").get<int>() / heads, d);
      EXPECT_EQ(cfg.at("hidden_size").get<int>() % heads, 0);
    }
    ASSERT_TRUE(p["confirmed_via"].is_array());
    EXPECT_FALSE(p["confirmed_via"].empty());
    for (const json& c : p["confirmed_via"])
      EXPECT_TRUE(c.is_string());
  }
}

TEST(ModelPresets, CoverTheShapesOfIssue15) {
  bool mla512 = false, gqa64_128 = false, d64 = false;
  std::set<std::string> names;
  for (const fs::path& file : preset_files()) {
    std::ifstream in(file);
    const json p = json::parse(in);
    names.insert(p["name"].get<std::string>());
    const int d = p["head_dim"].get<int>();
    if (p["attention"] == "mla" && d == 512) mla512 = true;
    if (p["attention"] == "gqa" && d == 128 && p["num_attention_heads"] == 64) gqa64_128 = true;
    if (d == 64) d64 = true;
  }
  EXPECT_TRUE(mla512 && gqa64_128 && d64);
  EXPECT_TRUE(names.count("deepseek-v3") && names.count("kimi-k2"));
}

}  // namespace
