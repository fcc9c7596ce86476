// Every command the UI may call, once. `build.rs` makes each an `allow-...` permission from this
// list, `commands.rs` registers the same list with Tauri and names it for the UI's types
// (`Command` in `ui/src/generated/ipc.ts`); the shell's tests hold the capability to it.
app_commands![
    current_state,
    sign_in,
    cancel_sign_in,
    open_sign_in_page_again,
    copy_sign_in_link,
    choose_role,
    change_role,
    keep_current_role,
    sign_out,
    stay_signed_in,
    note_activity,
    use_profile,
    set_testers_view,
    dismiss_notice,
    copy_notice_details,
    copy_access_token,
    export_sign_in_record,
    save_profile,
    remove_profile,
    store_credential,
    check_profile,
];
