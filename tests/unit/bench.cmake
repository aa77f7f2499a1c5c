# bench: the pure parts of the measurement engine (no GPU needed to run them).
dcp_unit_test(test_bench_timing_plan SOURCES bench/test_timing_plan.cpp LIBS dcp_bench)
# How many fresh-input calls the native exchange asks the correctness pass for (pure host math
# over the LL128 layout; links dcp_kernels only for the function, runs without a GPU).
dcp_unit_test(test_bench_fresh_calls SOURCES bench/test_fresh_calls.cpp LIBS dcp_kernels)
