; Lit Companion for Windows: a per-user installer (no administrator rights) built on Linux with
; Debian's makensis (`scripts/package --windows`), holding the command-line companion and the
; browser host. Tauri's own NSIS bundler is not used: it downloads its nsis_tauri_utils plugin
; at build time, and it packages the desktop app, which is only compiled for Windows here.
;
;   makensis -DVERSION=0.1.0 -DBINDIR=<dir with the two .exe> -DOUTFILE=<installer.exe> installer.nsi
;
; It installs into %LOCALAPPDATA%\Programs\Lit Companion, then lets the CLI register what it
; registers on every platform, so the installer and `lit-companion` share one code path:
;   lit-companion install-browser-host   the host manifest, and its key under
;                                        HKCU\Software\<browser>\NativeMessagingHosts, for each
;                                        browser installed for this user (none when none is)
;   lit-companion register-url-handler   HKCU\Software\Classes\lit-companion (open-url "%1")
; The uninstaller runs the matching uninstall commands, removes the desktop app's "start at login"
; entry when it starts a program from this folder, then removes the files it installed and its
; own entry in Apps & features. Wallets, sessions and settings (%APPDATA%\lit-companion, the
; Credential Manager) are the user's and stay.

; makensis runs from this folder: relative paths below start here.
Unicode true
Target amd64-unicode
SetCompressor /SOLID lzma
RequestExecutionLevel user

!ifndef VERSION
  !error "define VERSION, BINDIR and OUTFILE (see the top of this file)"
!endif
!ifndef BINDIR
  !error "define VERSION, BINDIR and OUTFILE (see the top of this file)"
!endif
!ifndef OUTFILE
  !error "define VERSION, BINDIR and OUTFILE (see the top of this file)"
!endif

!define PRODUCT "Lit Companion"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\LitCompanion"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
Icon "../../icons/icon.ico"
UninstallIcon "../../icons/icon.ico"
ShowInstDetails show
ShowUninstDetails show
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${PRODUCT} installer"
VIAddVersionKey "LegalCopyright" "MIT OR Apache-2.0"

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

Section "Install"
  SetOutPath "$INSTDIR"
  File "${BINDIR}/lit-companion.exe"
  File "${BINDIR}/lit-companion-host.exe"
  File "/oname=lit-companion.ico" "../../icons/icon.ico"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PRODUCT}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\lit-companion.ico"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1

  ; No browser installed yet is not a failure: `lit-companion install-browser-host` registers
  ; the host later, once there is one.
  DetailPrint "Registering the browser host for the browsers installed here"
  nsExec::ExecToLog '"$INSTDIR\lit-companion.exe" install-browser-host'
  Pop $0
  StrCmp $0 0 +2
    DetailPrint "No browser host registered now (exit $0); run lit-companion install-browser-host after installing a browser"

  DetailPrint "Registering lit-companion:// links"
  nsExec::ExecToLog '"$INSTDIR\lit-companion.exe" register-url-handler'
  Pop $0
  StrCmp $0 0 +3
    SetErrorLevel 3
    Abort "lit-companion register-url-handler failed (exit $0)"
SectionEnd

Section "Uninstall"
  DetailPrint "Removing the browser host and lit-companion:// registrations"
  nsExec::ExecToLog '"$INSTDIR\lit-companion.exe" uninstall-browser-host'
  Pop $0
  nsExec::ExecToLog '"$INSTDIR\lit-companion.exe" unregister-url-handler'
  Pop $0
  ; The desktop app's "start at login" entry (the value "Lit Companion" of HKCU\...\Run, see
  ; crates/platform/src/autostart.rs), when it starts a program from this folder; an entry
  ; pointing elsewhere belongs to another install and stays.
  ReadRegStr $0 HKCU "Software\Microsoft\Windows\CurrentVersion\Run" "Lit Companion"
  StrLen $1 '"$INSTDIR\'
  StrCpy $2 $0 $1
  StrCmp $2 '"$INSTDIR\' 0 +3
    DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Run" "Lit Companion"
    DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run" "Lit Companion"
  Delete "$INSTDIR\lit-companion.exe"
  Delete "$INSTDIR\lit-companion-host.exe"
  Delete "$INSTDIR\lit-companion.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd
