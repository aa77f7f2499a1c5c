# diag unit tests (no GPU, no MPI): every verdict rule, check-group parsing, the facts wire
# format, the exit code from verdicts, the printers (table and JSON golden files in
# tests/golden/diag_*, JSON fields, round trip, reader errors) and the NVML loader's SKIP path.
# Golden files: run with DCP_UPDATE_GOLDEN=1 to rewrite them, then review the diff.
dcp_unit_test(test_diag
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_verdict.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_diag_report.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/test_nvml.cpp
  LIBS dcp_diag_verdict dcp_report)
target_compile_definitions(test_diag PRIVATE DCP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
