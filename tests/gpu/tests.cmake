# The device path. GPU tests (label "cuda") exit 77 without a usable GPU, which ctest reports
# as skipped; the "sim" tests run the same code on the CPU stand-in of a device everywhere.
add_executable(parity ${CMAKE_CURRENT_LIST_DIR}/parity.c)
target_link_libraries(parity PRIVATE ds_engine_internal)
add_executable(train_parity ${CMAKE_CURRENT_LIST_DIR}/train_parity.c)
target_link_libraries(train_parity PRIVATE ds_engine_internal)

set(_fx ${DS_TESTS_DIR}/fixtures)
set(_env "DS_FIXTURES=${_fx}")

# On any machine: the stand-in device.
add_test(NAME sim_parity COMMAND parity --device sim --quiet)
add_test(NAME sim_train_parity COMMAND train_parity --device sim)
add_test(NAME sim_train_parity_16mixed COMMAND train_parity --device sim --precision 16-mixed)
set_tests_properties(sim_parity sim_train_parity sim_train_parity_16mixed PROPERTIES LABELS "cpu;device" ENVIRONMENT "${_env}")
# The CUDA-graph path's host side (host pass, signature, decisions, fallback when capture is
# declined) on the stand-in: results must not change.
add_test(NAME sim_train_parity_graphs COMMAND train_parity --device sim)
set_tests_properties(sim_train_parity_graphs PROPERTIES LABELS "cpu;device" ENVIRONMENT "${_env};DS_SIM_GRAPHS=1")

# On a GPU.
add_test(NAME cuda_parity COMMAND parity --device cuda)
add_test(NAME cuda_parity_bf16 COMMAND parity --device cuda --precision bf16-mixed)
add_test(NAME cuda_train_parity COMMAND train_parity --device cuda)
add_test(NAME cuda_train_parity_bf16 COMMAND train_parity --device cuda --precision bf16-mixed)
set_tests_properties(cuda_parity cuda_parity_bf16 cuda_train_parity cuda_train_parity_bf16 PROPERTIES
  LABELS "cuda" SKIP_RETURN_CODE 77 ENVIRONMENT "${_env}" TIMEOUT 300)

file(GLOB _cases LIST_DIRECTORIES true ${_fx}/*)
foreach(dir ${_cases})
  if(IS_DIRECTORY ${dir} AND EXISTS ${dir}/io.json)
    get_filename_component(case ${dir} NAME)
    add_test(NAME fixture_sim_${case} COMMAND diffstudio check-fixture ${dir} --device sim)
    set_tests_properties(fixture_sim_${case} PROPERTIES LABELS "cpu;device" ENVIRONMENT "DS_SIM_GRAPHS=1")
    add_test(NAME fixture_cuda_${case} COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/fixture.sh $<TARGET_FILE:diffstudio> ${dir} cuda)
    set_tests_properties(fixture_cuda_${case} PROPERTIES LABELS "cuda" SKIP_RETURN_CODE 77 TIMEOUT 300)
  endif()
endforeach()

# The commands with --device (train, checkpoint, resume, demos, sample).
add_test(NAME cli_device_sim COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/cli_device.sh $<TARGET_FILE:diffstudio> sim)
set_tests_properties(cli_device_sim PROPERTIES LABELS "cpu;device;cli" TIMEOUT 600)
add_test(NAME cli_device_cuda COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/cli_device.sh $<TARGET_FILE:diffstudio> cuda)
set_tests_properties(cli_device_cuda PROPERTIES LABELS "cuda;cli" SKIP_RETURN_CODE 77 TIMEOUT 600)
