# Benchmark tools (built, not run by ctest: they measure, they do not pass or fail a build).
add_executable(example_check ${CMAKE_CURRENT_LIST_DIR}/example_check.c ${CMAKE_SOURCE_DIR}/assets/synth.c)
target_include_directories(example_check PRIVATE ${CMAKE_SOURCE_DIR}/assets)
target_link_libraries(example_check PRIVATE ds_audio ${MATH_LIB})
