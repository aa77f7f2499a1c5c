# merge: the merge kernel is bit-identical to the CPU reference, and the device checker agrees
# with the host checker (one GPU; exit 77 without one).
dcp_gpu_test(merge_kernel_test
  SOURCES merge_kernel_test.cpp
  LIBS dcp_merge)
