# Audio tests: tests/audio/test_audio_*.c, one program each, linked to ds_audio (plus its
# private headers). Every sound they use is generated at run time into a temporary folder.
# `ctest -R audio` selects them; they are also the ThreadSanitizer target
# (`make test SANITIZE=thread CTEST_ARGS='-R audio'`).
file(GLOB DS_AUDIO_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/test_audio_*.c)
foreach(src ${DS_AUDIO_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} ${CMAKE_CURRENT_LIST_DIR}/atest.c ${DS_TESTS_DIR}/unit/testutil.c)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_LIST_DIR} ${DS_TESTS_DIR}/unit)
  target_link_libraries(${name} PRIVATE ds_audio_internal ${MATH_LIB})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS "cpu;audio;thread" TIMEOUT 600)
endforeach()

# Throughput numbers for the README (not a test: timings are not pass/fail material).
add_executable(bench_audio ${CMAKE_CURRENT_LIST_DIR}/bench_audio.c ${CMAKE_CURRENT_LIST_DIR}/atest.c
               ${DS_TESTS_DIR}/unit/testutil.c)
target_include_directories(bench_audio PRIVATE ${CMAKE_CURRENT_LIST_DIR} ${DS_TESTS_DIR}/unit)
target_link_libraries(bench_audio PRIVATE ds_audio_internal ${MATH_LIB})
