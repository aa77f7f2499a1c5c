# core: CUDA-free vocabulary (runs in host-only and sanitizer builds too).
dcp_unit_test(test_core_sweep SOURCES core/test_sweep.cpp LIBS dcp_core dcp_test_catalog)
dcp_unit_test(test_core_resolve SOURCES core/test_resolve.cpp LIBS dcp_core dcp_test_catalog)
dcp_unit_test(test_core_shapes SOURCES core/test_shapes.cpp LIBS dcp_core dcp_test_catalog)
dcp_unit_test(test_core_stats SOURCES core/test_stats.cpp LIBS dcp_core dcp_test_catalog)
dcp_unit_test(test_core_pattern SOURCES core/test_pattern_verify.cpp LIBS dcp_core)
dcp_unit_test(test_core_types SOURCES core/test_types.cpp LIBS dcp_core)
dcp_unit_test(test_core_spec_json SOURCES core/test_spec_json.cpp LIBS dcp_report dcp_test_catalog)
dcp_unit_test(test_core_watchdog SOURCES core/test_watchdog.cpp LIBS dcp_core)
