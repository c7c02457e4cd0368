# The config loader under libFuzzer (clang, ASan, UBSan) for a bounded time; skipped (77)
# when clang or its fuzzer runtime is missing. DS_FUZZ_SECONDS sets the time (default 60).
add_test(NAME config_fuzz
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/run_fuzz.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/fuzz 60)
set_tests_properties(config_fuzz PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS fuzz)
