# ---- bench: the sweep runner's verification depth with a copy exchange (issue 13 item 9) ----
dcp_gpu_test(bench_runner_gpu_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_runner_test.cpp
  LIBS dcp_bench)
