; NSIS installer hooks for Tauri's bundler on Windows (packaging/windows/bundle.json →
; bundle.windows.nsis.installerHooks). The browser host is registered by the CLI, as by our own
; installer (packaging/windows/installer.nsi): a manifest and its key under
; HKCU\Software\<browser>\NativeMessagingHosts for each browser installed for this user.
; lit-companion:// is registered by the deep-link plugin's configuration in tauri.conf.json.
; The app's "start at login" entry, the value "Lit Companion" of
; HKCU\Software\Microsoft\Windows\CurrentVersion\Run that its first run writes
; (crates/platform/src/autostart.rs), needs no hook: Tauri's NSIS uninstaller deletes the Run
; value named after the product (${PRODUCTNAME}) unless it runs for an update.

!macro NSIS_HOOK_POSTINSTALL
  nsExec::ExecToLog '"$INSTDIR\lit-companion.exe" install-browser-host'
  Pop $0
!macroend

!macro NSIS_HOOK_PREUNINSTALL
  nsExec::ExecToLog '"$INSTDIR\lit-companion.exe" uninstall-browser-host'
  Pop $0
!macroend
