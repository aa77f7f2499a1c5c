# merge unit tests: the merge routine and its arithmetic, the conversions, the reduce input
# pattern, the CPU reference and host checker, the kernel's plan (dcp_merge_host is CUDA-free,
# so all of these run in host-only and sanitizer builds too). -ffp-contract=off comes with
# dcp_merge_host (INTERFACE).
dcp_unit_test(merge_math_test SOURCES merge/merge_math_test.cpp LIBS dcp_merge_host)
dcp_unit_test(half_convert_test SOURCES merge/half_convert_test.cpp LIBS dcp_merge_host)
dcp_unit_test(merge_routine_test SOURCES merge/merge_routine_test.cpp LIBS dcp_merge_host)
dcp_unit_test(reduce_pattern_test SOURCES merge/reduce_pattern_test.cpp LIBS dcp_merge_host)
dcp_unit_test(merge_reference_test SOURCES merge/merge_reference_test.cpp LIBS dcp_merge_host)
