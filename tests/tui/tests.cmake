# Scenario tests of the studio: the real program in a real terminal (tmux), driven with
# send-keys and read with capture-pane. Each makes its own tiny dataset, config, HOME (ALSA's
# null device) and tmux server; they skip (77) without tmux. Label "tui"; `ctest -L tui`.
set(DS_TUI_SCENARIOS config_edit train demo_play quit frame_time no_tty)
foreach(t ${DS_TUI_SCENARIOS})
  add_test(NAME tui_${t} COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/${t}.sh)
  set(_env "DS_BIN=$<TARGET_FILE:diffstudio>")
  set_tests_properties(tui_${t} PROPERTIES SKIP_RETURN_CODE 77 LABELS "tui" TIMEOUT 120 ENVIRONMENT "${_env}")
endforeach()
# The UI thread, the worker and the audio threads together: also under ThreadSanitizer.
set_tests_properties(tui_train tui_demo_play PROPERTIES LABELS "tui;thread")
