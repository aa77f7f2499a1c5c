# bench: the pure parts of the measurement engine (no GPU needed to run them).
dcp_unit_test(test_bench_timing_plan SOURCES bench/test_timing_plan.cpp LIBS dcp_bench)
