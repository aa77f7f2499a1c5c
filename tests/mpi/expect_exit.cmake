# cmake -P helper for tests that must FAIL in a specific way:
#   -DCMD="a;b;c" -DEXPECT_CODE=n [-DMAX_SECONDS=s] [-DEXPECT_REGEX=re] [-DREJECT_REGEX=re]
#   [-DNO_FILE=path]
# Runs CMD, then checks its exit code, its wall time, that its combined output matches
# EXPECT_REGEX (and not REJECT_REGEX), and that NO_FILE does not exist afterwards.
string(TIMESTAMP t0 "%s")
execute_process(COMMAND ${CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
  TIMEOUT 600)
string(TIMESTAMP t1 "%s")
math(EXPR elapsed "${t1} - ${t0}")
set(all "${out}${err}")
message("exit code ${rc} after ${elapsed} s; output:\n${all}")
if(NOT "${rc}" STREQUAL "${EXPECT_CODE}")
  message(FATAL_ERROR "expected exit code ${EXPECT_CODE}, got ${rc}")
endif()
if(DEFINED MAX_SECONDS AND elapsed GREATER MAX_SECONDS)
  message(FATAL_ERROR "took ${elapsed} s, more than ${MAX_SECONDS} s")
endif()
if(DEFINED EXPECT_REGEX AND NOT all MATCHES "${EXPECT_REGEX}")
  message(FATAL_ERROR "output does not match '${EXPECT_REGEX}'")
endif()
if(DEFINED REJECT_REGEX AND all MATCHES "${REJECT_REGEX}")
  message(FATAL_ERROR "output matches '${REJECT_REGEX}'")
endif()
if(DEFINED NO_FILE AND EXISTS "${NO_FILE}")
  message(FATAL_ERROR "${NO_FILE} exists but must not")
endif()
