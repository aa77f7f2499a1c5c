# `dcpbench compare`: the compare subcommand as a small library. It needs only CLI11 and
# dcp_report (no CUDA, no MPI), so it also builds in host-only builds, where
# tests/unit/report.cmake includes this file to test it. Guarded: including it twice is harmless.
if(NOT TARGET dcp_cli_compare)
  add_library(dcp_cli_compare STATIC ${PROJECT_SOURCE_DIR}/src/cli/compare_command.cpp)
  target_link_libraries(dcp_cli_compare PUBLIC dcp_report CLI11::CLI11 PRIVATE dcp_warnings)
  dcp_library_headers(dcp_cli_compare FOLDER cli HEADERS compare_command.hpp)
endif()
