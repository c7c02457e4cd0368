# Config tests through the command a user runs (`diffstudio config ...`).
set(DS_CONFIG_TESTS ${CMAKE_CURRENT_LIST_DIR})

# The broken-config battery: exit status, line:col, path and message of every case.
add_test(NAME config_broken
         COMMAND sh ${DS_CONFIG_TESTS}/run_broken.sh $<TARGET_FILE:diffstudio> ${DS_CONFIG_TESTS}/broken)

# Every bundled config (SAT's, the fixtures', the bench configs, the example) checks out.
file(GLOB DS_GOOD_CONFIGS CONFIGURE_DEPENDS
     ${DS_TESTS_DIR}/sat-configs/*.json ${DS_TESTS_DIR}/bench-configs/*.json
     ${DS_TESTS_DIR}/fixtures/*/config.json ${CMAKE_SOURCE_DIR}/configs/*.json)
add_test(NAME config_check_good COMMAND diffstudio config check ${DS_GOOD_CONFIGS})
set_tests_properties(config_check_good PROPERTIES FIXTURES_REQUIRED example_data)

# The effective config of SAT's own SA2.0 config: defaults marked, values as written.
add_test(NAME config_show_sat COMMAND diffstudio config show
         ${DS_TESTS_DIR}/sat-configs/model_configs__txt2audio__stable_audio_2_0.json)
set_tests_properties(config_show_sat PROPERTIES PASS_REGULAR_EXPRESSION
  "model.diffusion.config.patch_size += 1  # default\n.*model.diffusion.config.embed_dim += 1536\n")
add_test(NAME config_schema_cli COMMAND diffstudio config schema model.diffusion.config.num_heads)
set_tests_properties(config_schema_cli PROPERTIES PASS_REGULAR_EXPRESSION "head dim")
add_test(NAME config_help COMMAND diffstudio --help)
set_tests_properties(config_help PROPERTIES PASS_REGULAR_EXPRESSION "config +check, show and describe configs")
