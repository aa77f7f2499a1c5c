# report unit tests: JSON round trip and strict reader, CSV quoting, the human table (golden),
# atomic writes, compare verdicts on crafted reports (tests/golden/), the compare command, and
# the plot and regression scripts. Golden files: run a test with DCP_UPDATE_GOLDEN=1 to rewrite
# them, then review the diff.

# The compare subcommand needs only CLI11 and dcp_report; src/cli/ is not built in host-only
# builds, so include it here to test it there too (the file guards against a second definition).
include(${PROJECT_SOURCE_DIR}/src/cli/compare.cmake)

add_library(dcp_report_test_support STATIC
  ${CMAKE_CURRENT_LIST_DIR}/report/report_fixtures.cpp
  ${CMAKE_CURRENT_LIST_DIR}/report/golden.cpp)
target_include_directories(dcp_report_test_support PUBLIC ${CMAKE_CURRENT_LIST_DIR}/report)
target_compile_definitions(dcp_report_test_support PUBLIC
  DCP_GOLDEN_DIR="${PROJECT_SOURCE_DIR}/tests/golden"
  DCP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(dcp_report_test_support
  PUBLIC dcp_report GTest::gtest PRIVATE dcp_test_catalog dcp_warnings)

dcp_unit_test(report_json_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/report/json_report_test.cpp
  LIBS dcp_report_test_support)
dcp_unit_test(report_context_json_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/report/context_json_test.cpp
  LIBS dcp_report)
dcp_unit_test(report_csv_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/report/csv_report_test.cpp
  LIBS dcp_report_test_support)
dcp_unit_test(report_table_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/report/table_report_test.cpp
  LIBS dcp_report_test_support)
dcp_unit_test(report_atomic_file_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/report/atomic_file_test.cpp
  LIBS dcp_report_test_support)
dcp_unit_test(report_compare_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/report/compare_test.cpp
  LIBS dcp_report_test_support)
dcp_unit_test(report_reduce_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/report/reduce_report_test.cpp
  LIBS dcp_report_test_support)
# Bugs the fuzz targets found (tests/fuzz/), one test each.
dcp_unit_test(report_fuzz_regression_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/report/fuzz_regression_test.cpp
  LIBS dcp_report)
dcp_unit_test(compare_command_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/report/compare_command_test.cpp
  LIBS dcp_report_test_support dcp_cli_compare)

# The compare subcommand as a stand-alone binary, for the script tests.
add_executable(dcp_compare_tool ${CMAKE_CURRENT_LIST_DIR}/report/compare_tool.cpp)
target_link_libraries(dcp_compare_tool PRIVATE dcp_cli_compare dcp_warnings)
set_target_properties(dcp_compare_tool PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin/tests)

# scripts/regression.sh with a stand-in dcpbench (its `run` copies a crafted report, its
# `compare` is dcp_compare_tool): exit codes and the markdown report.
add_test(NAME regression_script
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/report/regression_script_test.sh
    ${PROJECT_SOURCE_DIR} $<TARGET_FILE:dcp_compare_tool> ${CMAKE_CURRENT_BINARY_DIR}/regression_script)
set_tests_properties(regression_script PROPERTIES LABELS unit TIMEOUT 120)

# scripts/plot_report.py on the crafted reports (Agg backend); SKIPPED (77) without matplotlib.
add_test(NAME plot_report_script
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/report/plot_report_test.sh
    ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/plot_report_script)
set_tests_properties(plot_report_script PROPERTIES LABELS unit TIMEOUT 300
  SKIP_RETURN_CODE ${DCP_SKIP_RETURN_CODE})
