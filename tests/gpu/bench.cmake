# ---- bench: the sweep runner's verification depth with a copy exchange (issue 13 item 9) ----
dcp_gpu_test(bench_runner_gpu_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_runner_test.cpp
  LIBS dcp_bench)
# ---- bench: the runner's --op reduce path in sim mode (copies + the merge kernel; issue 15) ----
dcp_gpu_test(bench_reduce_gpu_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_reduce_test.cpp ${CMAKE_CURRENT_LIST_DIR}/reduce_test_kernels.cu
  LIBS dcp_bench)
target_include_directories(bench_reduce_gpu_test PRIVATE ${CMAKE_CURRENT_LIST_DIR})
