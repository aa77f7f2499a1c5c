// Check group `fabric`, measured: the fabric-handle attribute, cuMemCreate + export of one
// granule with CU_MEM_HANDLE_TYPE_FABRIC, then import + map of every peer's handle.
#include <cuda.h>

#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "diag/context.hpp"
#include "diag/groups/fabric.hpp"
#include "diag/registry.hpp"
#include "diag/rules.hpp"
#include "fabric/cumem.hpp"
#include "fabric/driver_api.hpp"
#include "fabric/explain.hpp"

namespace dcp::diag {

namespace {

class FabricGroup final : public CheckGroup {
 public:
  FabricGroup() : CheckGroup(kFabricGroup) {}

  void run(Context& ctx, DiagReport& report) override {
    FabricFacts f;
    CUdevice cu_device = 0;
    const std::string attr_error = capture_error([&] {
      f.attribute = fabric::query_sharing_caps(ctx.device()).fabric;
      cu_device = fabric::current_cu_device();
    });
    const fabric::ImexStatus imex = fabric::probe_imex();
    f.imex = imex.summary();
    fabric::Allocation allocation;
    CUmemFabricHandle handle{};
    if (!attr_error.empty()) {
      f.error = attr_error;
    } else if (f.attribute) {
      create(ctx, f, imex, cu_device, allocation, handle);
    }
    const auto all = ctx.gather(f, "diag fabric facts");
    std::vector<FabricImportFacts> imports;
    if (ctx.size() > 1) imports = import_all(ctx, f, cu_device, handle);
    append_rows(report, fabric_checks(ctx.ranks(), all, imports));
  }

 private:
  static void create(Context& ctx, FabricFacts& f, const fabric::ImexStatus& imex,
                     CUdevice cu_device, fabric::Allocation& allocation,
                     CUmemFabricHandle& handle) {
    f.attempted = true;
    fabric::FabricStep step = fabric::FabricStep::kGranularity;
    f.failed_step = "cuMemGetAllocationGranularity(CU_MEM_HANDLE_TYPE_FABRIC)";
    try {
      const std::size_t bytes =
          fabric::allocation_granularity(cu_device, fabric::HandleType::kFabric);
      f.bytes = bytes;
      step = fabric::FabricStep::kCreate;
      f.failed_step = "cuMemCreate(CU_MEM_HANDLE_TYPE_FABRIC)";
      allocation = fabric::Allocation::create(bytes, cu_device, fabric::HandleType::kFabric);
      step = fabric::FabricStep::kExport;
      f.failed_step = "cuMemExportToShareableHandle(CU_MEM_HANDLE_TYPE_FABRIC)";
      handle = allocation.export_fabric();
      f.create_ok = true;
      f.failed_step.clear();
    } catch (const fabric::DriverError& e) {
      f.cu_result = static_cast<int>(e.result());
      f.cu_name = fabric::cu_error_name(e.result());
      f.cu_text = fabric::cu_error_string(e.result());
      f.error = e.what();
    } catch (const TimeoutError&) {
      throw;
    } catch (const Error& e) {
      f.error = e.what();
    }
    if (!f.create_ok) {
      fabric::FabricFailure ff;
      ff.step = step;
      ff.failed_ranks = std::to_string(ctx.me());
      ff.cu_result = f.cu_result;
      ff.cu_name = f.cu_name;
      ff.cu_text = f.cu_text;
      ff.local_error = f.error;
      ff.imex = imex;
      ff.single_host = ctx.single_host();
      ff.host = ctx.world().host();
      ff.world_size = ctx.size();
      f.explanation = fabric::explain_fabric_failure(ff);
    }
  }

  static std::vector<FabricImportFacts> import_all(Context& ctx, const FabricFacts& f,
                                                   CUdevice cu_device,
                                                   const CUmemFabricHandle& handle) {
    struct HandleWire {
      std::int32_t ok;
      std::uint64_t bytes;
      CUmemFabricHandle handle;
    };
    HandleWire wire{};
    wire.ok = f.create_ok ? 1 : 0;
    wire.bytes = f.bytes;
    wire.handle = handle;
    const auto wires = ctx.world().allgather(wire, "diag fabric handles");
    std::vector<FabricImportFacts> mine;
    for (int p = 0; p < ctx.size(); ++p) {
      if (p == ctx.me()) continue;
      FabricImportFacts im;
      im.importer = ctx.me();
      im.exporter = p;
      const HandleWire& w = wires[static_cast<std::size_t>(p)];
      if (f.create_ok && w.ok != 0) {
        im.attempted = true;
        try {
          const auto bytes = static_cast<std::size_t>(w.bytes);
          fabric::Allocation imported = fabric::Allocation::import_fabric(w.handle, bytes);
          fabric::VaRange range(bytes, bytes);
          fabric::Mapping mapping(range.base(), imported);
          mapping.allow_access(cu_device);
          im.ok = true;
        } catch (const fabric::DriverError& e) {
          im.cu_result = static_cast<int>(e.result());
          im.cu_name = fabric::cu_error_name(e.result());
          im.cu_text = fabric::cu_error_string(e.result());
          im.error = e.what();
        } catch (const TimeoutError&) {
          throw;
        } catch (const Error& e) {
          im.error = e.what();
        }
      }
      mine.push_back(std::move(im));
    }
    // Gathering also keeps every exported allocation alive until all imports are done.
    return ctx.gather_flat(mine, "diag fabric imports");
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_fabric_group() {
  return std::make_unique<FabricGroup>();
}

}  // namespace dcp::diag
