# ---- baseline (NCCL baselines): one GPU, every NCCL impl with one rank, and the pack/unpack
# kernels for several simulated ranks. See baseline_nccl_test.cpp for its environment knobs.
dcp_gpu_test(baseline_nccl_gpu_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/baseline_nccl_test.cpp
  LIBS dcp_baseline dcp_bench)
# ---- baseline: the --op reduce strategies (nccl-2x, nccl-packed, nccl-ag-rs) through the runner
# at cp = 1, and their kernels at cp = 2..8 with the collectives emulated (issue 15) ----
dcp_gpu_test(baseline_reduce_gpu_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/baseline_reduce_test.cpp
  LIBS dcp_baseline dcp_bench)
