# baseline unit tests: the NCCL baselines' data path simulated on the host. Only the
# header-only index math (baseline/transpose.hpp) and core's oracle are needed, so this builds in
# host-only builds too (no CUDA, NCCL or MPI).
dcp_unit_test(baseline_transpose_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/baseline_transpose_test.cpp
  LIBS dcp_baseline_math)
# nccl-packed's layout (pack, emulated all-to-all, unpack / in-place merge) and nccl-ag-rs's
# arithmetic with NCCL's summation orders emulated (the stated ulp bound holds), on the host.
dcp_unit_test(baseline_packed_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/baseline_packed_test.cpp
  LIBS dcp_baseline_math)
dcp_unit_test(baseline_ag_rs_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/baseline_ag_rs_test.cpp
  LIBS dcp_baseline_math)
