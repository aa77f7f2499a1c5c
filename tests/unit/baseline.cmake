# baseline unit tests: the NCCL baselines' data path simulated on the host. Only the
# header-only index math (baseline/transpose.hpp) and core's oracle are needed, so this builds in
# host-only builds too (no CUDA, NCCL or MPI).
dcp_unit_test(baseline_transpose_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/baseline_transpose_test.cpp
  LIBS dcp_baseline_math)
