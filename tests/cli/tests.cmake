# Command-line scenarios, run exactly as a user types them.
add_test(NAME cli_train COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/cli_train.sh $<TARGET_FILE:diffstudio>)
set_tests_properties(cli_train PROPERTIES LABELS "cpu;cli" TIMEOUT 600)
