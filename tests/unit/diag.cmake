# diag unit tests (no GPU, no MPI): every group's verdict rule on crafted facts (healthy, each
# failure, missing library or entry point, disagreement across ranks), the remedy of every FAIL
# and WARN row, check-group parsing, the facts wire format, the exit code from verdicts, the
# LL128 probe's line format and counting, the host-side probes (shm, pcie over a crafted /sys),
# and the printers (table, JSON and --explain golden files in tests/golden/diag_*, JSON fields,
# round trip, reader errors). Golden files: run with DCP_UPDATE_GOLDEN=1 to rewrite them, then
# review the diff.
dcp_unit_test(test_diag
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_verdict.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_versions.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_shm.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_fabric_manager.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_nvlink_pairs.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_imex.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_pcie.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_paths.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_store_load.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_ll128_order.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_wire.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_diag_report.cpp
  LIBS dcp_diag_verdict dcp_report)
target_compile_definitions(test_diag PRIVATE DCP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# Full builds: the group registry (one object per group, in kCheckGroups' order) constructs
# without a GPU.
if(TARGET dcp_diag)
  dcp_unit_test(test_diag_registry
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/diag/test_registry.cpp
    LIBS dcp_diag)
endif()
