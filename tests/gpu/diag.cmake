# ---- diag: the probes on one GPU (ping-pong between two streams, bounded spins and waits,
# signatures, timed copies) and a whole single-rank quick diag run (MPI singleton).
dcp_gpu_test(diag_probes_gpu_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/diag_probes_test.cpp
  LIBS dcp_diag dcp_kernels)
# The ll128_order probe's kernels on one GPU: the counting self-test (deliberate tears counted),
# the shipped layout's zero tears, and both no-progress timeouts.
dcp_gpu_test(diag_ll128_gpu_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/diag_ll128_test.cpp
  LIBS dcp_diag)
