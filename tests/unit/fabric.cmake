# fabric unit tests (no GPU, no MPI): workspace layout math, fd passing between threads
# (credentials, paths, cleanup, timeouts), and the messages that explain fabric/IMEX failures.
dcp_unit_test(test_fabric
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/fabric/test_layout.cpp
    ${CMAKE_CURRENT_LIST_DIR}/fabric/test_explain.cpp
    ${CMAKE_CURRENT_LIST_DIR}/fabric/test_fd_passing.cpp
  LIBS dcp_fabric)
