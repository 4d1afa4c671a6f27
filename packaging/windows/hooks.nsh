; NSIS installer hooks (packaging/windows/bundle.json → bundle.windows.nsis.installerHooks).
; Chrome, Edge, Chromium and Firefox find a native-messaging host through a registry key naming
; its manifest; the manifests sit beside the host, whose path they give relative to themselves.
; lit-companion:// is registered by the deep-link plugin's configuration in tauri.conf.json.

!macro NSIS_HOOK_POSTINSTALL
  FileOpen $0 "$INSTDIR\app.litcompanion.host.json" w
  FileWrite $0 '{"name":"app.litcompanion.host","description":"Lit Companion","path":"lit-companion-host.exe","type":"stdio","allowed_origins":["chrome-extension://ilaebllfbkgdbaeahkmhkdhchcamhekg/"]}'
  FileClose $0
  FileOpen $0 "$INSTDIR\app.litcompanion.host.firefox.json" w
  FileWrite $0 '{"name":"app.litcompanion.host","description":"Lit Companion","path":"lit-companion-host.exe","type":"stdio","allowed_extensions":["companion@litcompanion.app"]}'
  FileClose $0
  WriteRegStr HKCU "Software\Google\Chrome\NativeMessagingHosts\app.litcompanion.host" "" "$INSTDIR\app.litcompanion.host.json"
  WriteRegStr HKCU "Software\Chromium\NativeMessagingHosts\app.litcompanion.host" "" "$INSTDIR\app.litcompanion.host.json"
  WriteRegStr HKCU "Software\Microsoft\Edge\NativeMessagingHosts\app.litcompanion.host" "" "$INSTDIR\app.litcompanion.host.json"
  WriteRegStr HKCU "Software\Mozilla\NativeMessagingHosts\app.litcompanion.host" "" "$INSTDIR\app.litcompanion.host.firefox.json"
!macroend

!macro NSIS_HOOK_POSTUNINSTALL
  DeleteRegKey HKCU "Software\Google\Chrome\NativeMessagingHosts\app.litcompanion.host"
  DeleteRegKey HKCU "Software\Chromium\NativeMessagingHosts\app.litcompanion.host"
  DeleteRegKey HKCU "Software\Microsoft\Edge\NativeMessagingHosts\app.litcompanion.host"
  DeleteRegKey HKCU "Software\Mozilla\NativeMessagingHosts\app.litcompanion.host"
  Delete "$INSTDIR\app.litcompanion.host.json"
  Delete "$INSTDIR\app.litcompanion.host.firefox.json"
!macroend
