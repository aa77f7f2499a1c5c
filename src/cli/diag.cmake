# `dcpbench diag`: the diag subcommand as a small library, included from src/cli/CMakeLists.txt
# after dcp_cli_run (it uses the run context and the NCCL version queries from there). Guarded:
# including it twice is harmless.
if(NOT TARGET dcp_cli_diag)
  add_library(dcp_cli_diag STATIC ${CMAKE_CURRENT_LIST_DIR}/diag_command.cpp)
  target_link_libraries(dcp_cli_diag
    PUBLIC dcp_cli_run CLI11::CLI11
    PRIVATE dcp_diag dcp_report dcp_warnings)
  dcp_library_headers(dcp_cli_diag FOLDER cli HEADERS diag_command.hpp)
endif()
