# ---- baseline (NCCL baselines): one GPU, every NCCL impl with one rank, and the pack/unpack
# kernels for several simulated ranks. See baseline_nccl_test.cpp for its environment knobs.
dcp_gpu_test(baseline_nccl_gpu_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/baseline_nccl_test.cpp
  LIBS dcp_baseline dcp_bench)
