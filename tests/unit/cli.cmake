# cli: option handling and config files (no GPU, no MPI; host-only builds too).
dcp_unit_test(test_cli_options SOURCES cli/test_run_options.cpp LIBS dcp_cli_options dcp_test_catalog)
target_compile_definitions(test_cli_options PRIVATE DCP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
dcp_unit_test(test_cli_shapes SOURCES cli/test_shape_options.cpp
  LIBS dcp_cli_options dcp_test_catalog)
# The registry rows (full builds: the rows live in kernels/ and baseline/) and the fault kinds of
# --inject as run takes them, with the messages of the native setup checks they provoke.
if(TARGET dcp_cli_run)
  dcp_unit_test(test_cli_registry SOURCES cli/test_registry.cpp
    LIBS dcp_cli_run dcp_cli_options dcp_test_catalog)
  target_compile_definitions(test_cli_registry PRIVATE DCP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  dcp_unit_test(test_cli_fault_kinds SOURCES cli/test_fault_kinds.cpp
    LIBS dcp_cli_options dcp_kernels dcp_test_catalog)
endif()
