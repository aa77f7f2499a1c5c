# ---- diag: the probes on one GPU (ping-pong between two streams, bounded spins and waits,
# signatures, timed copies) and a whole single-rank quick diag run (MPI singleton).
dcp_gpu_test(diag_probes_gpu_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/diag_probes_test.cpp
  LIBS dcp_diag dcp_kernels)
