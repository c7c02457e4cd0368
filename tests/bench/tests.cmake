# Benchmark tools (built, not run by ctest: they measure, they do not pass or fail a build).
add_executable(example_check ${CMAKE_CURRENT_LIST_DIR}/example_check.c ${CMAKE_SOURCE_DIR}/assets/synth.c)
target_include_directories(example_check PRIVATE ${CMAKE_SOURCE_DIR}/assets)
target_link_libraries(example_check PRIVATE ds_audio ${MATH_LIB})

file(GLOB DS_BENCH_SOURCES CONFIGURE_DEPENDS ${DS_TESTS_DIR}/bench/bench_*.c)
foreach(src ${DS_BENCH_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${DS_TESTS_DIR}/unit)
  target_link_libraries(${name} PRIVATE ds_engine_internal)
endforeach()
