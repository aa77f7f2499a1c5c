# cli: option handling and config files (no GPU, no MPI).
dcp_unit_test(test_cli_options SOURCES cli/test_run_options.cpp LIBS dcp_cli_options dcp_test_catalog)
target_compile_definitions(test_cli_options PRIVATE DCP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
