//! The registry, for what a per-user install registers: string values under the current user's
//! hive (`HKEY_CURRENT_USER`), and whether a key exists there or machine-wide. Nothing here asks
//! for administrator rights. Keys are opened in the 64-bit view (`KEY_WOW64_64KEY`), the one the
//! browsers read.

use std::{io, ptr::null_mut};

use windows_sys::Win32::{
    Foundation::{ERROR_FILE_NOT_FOUND, ERROR_SUCCESS, WIN32_ERROR},
    System::Registry::{
        RegCloseKey, RegCreateKeyExW, RegDeleteKeyValueW, RegDeleteTreeW, RegGetValueW,
        RegOpenKeyExW, RegSetValueExW, HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, KEY_READ,
        KEY_WOW64_64KEY, KEY_WRITE, REG_OPTION_NON_VOLATILE, REG_SZ, REG_VALUE_TYPE,
        RRF_RT_REG_BINARY, RRF_RT_REG_SZ, RRF_SUBKEY_WOW6464KEY,
    },
};

/// A root of the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hive {
    /// `HKEY_CURRENT_USER`: this user's settings; writable without administrator rights.
    CurrentUser,
    /// `HKEY_LOCAL_MACHINE`: machine-wide settings; only read here.
    LocalMachine,
}

impl Hive {
    fn handle(self) -> HKEY {
        match self {
            Self::CurrentUser => HKEY_CURRENT_USER,
            Self::LocalMachine => HKEY_LOCAL_MACHINE,
        }
    }
}

/// A NUL-terminated UTF-16 copy of `s`.
fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn check(rc: WIN32_ERROR) -> io::Result<()> {
    if rc == ERROR_SUCCESS {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc as i32))
    }
}

/// An open key, closed on drop.
struct Key(HKEY);

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: the key was opened by us and is closed once, here.
        unsafe { RegCloseKey(self.0) };
    }
}

/// Sets the string value `name` (`None`: the key's default value) of `HKCU\<key>`, creating the
/// key and any missing parents.
pub fn set_user_string(key: &str, name: Option<&str>, value: &str) -> io::Result<()> {
    let key_w = wide(key);
    let mut opened: HKEY = null_mut();
    // SAFETY: `key_w` is NUL-terminated and outlives the call; `opened` receives a key we own.
    check(unsafe {
        RegCreateKeyExW(
            HKEY_CURRENT_USER,
            key_w.as_ptr(),
            0,
            std::ptr::null(),
            REG_OPTION_NON_VOLATILE,
            KEY_WRITE | KEY_WOW64_64KEY,
            std::ptr::null(),
            &mut opened,
            null_mut(),
        )
    })?;
    let opened = Key(opened);
    let name_w = name.map(wide);
    let data = wide(value);
    let bytes = u32::try_from(data.len() * 2).map_err(|_| io::Error::other("value too long"))?;
    // SAFETY: `opened` is a live key with write access; `data` is a NUL-terminated UTF-16
    // string of `bytes` bytes (REG_SZ counts the NUL), and the name is NUL-terminated or null.
    check(unsafe {
        RegSetValueExW(
            opened.0,
            name_w.as_ref().map_or(std::ptr::null(), |n| n.as_ptr()),
            0,
            REG_SZ,
            data.as_ptr().cast(),
            bytes,
        )
    })
}

/// The string value `name` (`None`: the default value) of `<hive>\<key>`; `None` when the key or
/// the value does not exist.
pub fn string(hive: Hive, key: &str, name: Option<&str>) -> io::Result<Option<String>> {
    let Some(buf) = value(hive, key, name, RRF_RT_REG_SZ)? else {
        return Ok(None);
    };
    let wide: Vec<u16> = buf
        .chunks_exact(2)
        .map(|c| u16::from_ne_bytes([c[0], c[1]]))
        .collect();
    let len = wide.iter().position(|&c| c == 0).unwrap_or(wide.len());
    Ok(Some(String::from_utf16_lossy(&wide[..len])))
}

/// The binary value `name` of `<hive>\<key>`; `None` when the key or the value does not exist.
pub fn binary(hive: Hive, key: &str, name: Option<&str>) -> io::Result<Option<Vec<u8>>> {
    value(hive, key, name, RRF_RT_REG_BINARY)
}

/// The bytes of a value of the type `kind` allows.
fn value(
    hive: Hive,
    key: &str,
    name: Option<&str>,
    kind: REG_VALUE_TYPE,
) -> io::Result<Option<Vec<u8>>> {
    let key_w = wide(key);
    let name_w = name.map(wide);
    let name_ptr = name_w.as_ref().map_or(std::ptr::null(), |n| n.as_ptr());
    let flags = kind | RRF_SUBKEY_WOW6464KEY;
    let get = |data: *mut std::ffi::c_void, size: &mut u32| {
        // SAFETY: the key and name are NUL-terminated and outlive the call; `data` is null (a
        // size query) or holds `*size` bytes, which on success receive the NUL-terminated value.
        unsafe {
            RegGetValueW(
                hive.handle(),
                key_w.as_ptr(),
                name_ptr,
                flags,
                null_mut(),
                data,
                size,
            )
        }
    };
    let mut size = 0u32;
    let rc = get(null_mut(), &mut size);
    if rc == ERROR_FILE_NOT_FOUND {
        return Ok(None);
    }
    check(rc)?;
    // Whole UTF-16 units, with room for a string's terminating NUL, which RegGetValueW may add.
    let mut buf = vec![0u16; (size as usize).div_ceil(2) + 1];
    let mut size = u32::try_from(buf.len() * 2).map_err(|_| io::Error::other("value too long"))?;
    check(get(buf.as_mut_ptr().cast(), &mut size))?;
    Ok(Some(
        buf.iter()
            .flat_map(|u| u.to_ne_bytes())
            .take(size as usize)
            .collect(),
    ))
}

/// Deletes the value `name` of `HKCU\<key>`. Returns whether it existed.
pub fn delete_user_value(key: &str, name: &str) -> io::Result<bool> {
    let key_w = wide(key);
    let name_w = wide(name);
    // SAFETY: both strings are NUL-terminated and outlive the call.
    match unsafe { RegDeleteKeyValueW(HKEY_CURRENT_USER, key_w.as_ptr(), name_w.as_ptr()) } {
        ERROR_FILE_NOT_FOUND => Ok(false),
        rc => check(rc).map(|()| true),
    }
}

/// Whether `<hive>\<key>` exists (and we may read it).
pub fn key_exists(hive: Hive, key: &str) -> bool {
    let key_w = wide(key);
    let mut opened: HKEY = null_mut();
    // SAFETY: `key_w` is NUL-terminated; on success `opened` is a key we own and close below.
    let rc = unsafe {
        RegOpenKeyExW(
            hive.handle(),
            key_w.as_ptr(),
            0,
            KEY_READ | KEY_WOW64_64KEY,
            &mut opened,
        )
    };
    if rc != ERROR_SUCCESS {
        return false;
    }
    drop(Key(opened));
    true
}

/// Deletes `HKCU\<key>` with everything under it. Returns whether it existed. (The current
/// user's `Software` keys have one view for 32- and 64-bit programs, so no view is named here.)
pub fn delete_user_tree(key: &str) -> io::Result<bool> {
    let key_w = wide(key);
    // SAFETY: `key_w` is NUL-terminated; with a subkey name, RegDeleteTreeW removes that key, its
    // values and all its descendants (the predefined handle has every right it needs).
    match unsafe { RegDeleteTreeW(HKEY_CURRENT_USER, key_w.as_ptr()) } {
        ERROR_FILE_NOT_FOUND => Ok(false),
        rc => check(rc).map(|()| true),
    }
}
