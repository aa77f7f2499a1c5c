# ---- baseline (NCCL baselines) across ranks, one GPU per rank: exits 77 (skipped) where this
# host has fewer GPUs than ranks. Any -np works when run by hand (-np 1 on one GPU).
add_executable(baseline_nccl_mpi_test ${CMAKE_CURRENT_LIST_DIR}/baseline_nccl_mpi_test.cpp)
target_link_libraries(baseline_nccl_mpi_test
  PRIVATE dcp_baseline dcp_bench dcp_core_rt GTest::gtest dcp_warnings)
set_target_properties(baseline_nccl_mpi_test PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin/tests)
dcp_mpi_test(baseline_nccl_mpi_2ranks NP 2 COMMAND $<TARGET_FILE:baseline_nccl_mpi_test> GPU)
# ---- the --op reduce NCCL strategies across ranks through the runner (issue 15) ----
add_executable(baseline_reduce_mpi_test ${CMAKE_CURRENT_LIST_DIR}/baseline_reduce_mpi_test.cpp)
target_link_libraries(baseline_reduce_mpi_test
  PRIVATE dcp_baseline dcp_bench dcp_core_rt GTest::gtest dcp_warnings)
set_target_properties(baseline_reduce_mpi_test PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin/tests)
dcp_mpi_test(baseline_reduce_mpi_2ranks NP 2 COMMAND $<TARGET_FILE:baseline_reduce_mpi_test> GPU)
