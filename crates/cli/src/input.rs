//! Reading keys and stdin safely.

use std::{fs, io::Read, path::Path};

use zeroize::Zeroizing;

use crate::cmd::Failure;

/// The most we read from stdin: far above any real request, far below memory trouble.
const STDIN_LIMIT: u64 = 4 * 1024 * 1024;

/// Reads a key file holding hex (`0x` optional). Files readable or writable by group or others
/// are refused, as ssh does for private keys.
pub(crate) fn read_key_file(path: &Path) -> Result<Zeroizing<String>, Failure> {
    let meta = fs::metadata(path)
        .map_err(|e| Failure::input(format!("cannot read key file {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(Failure::input(format!(
            "key file {} is not a regular file",
            path.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Failure::input(format!(
                "key file {} is accessible by others (mode {mode:o}); run: chmod 600 {}",
                path.display(),
                path.display()
            )));
        }
    }
    if meta.len() > 4096 {
        return Err(Failure::input(format!(
            "key file {} is too large to hold a key",
            path.display()
        )));
    }
    let bytes =
        Zeroizing::new(fs::read(path).map_err(|e| {
            Failure::input(format!("cannot read key file {}: {e}", path.display()))
        })?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::input(format!("key file {} is not text", path.display())))?;
    Ok(Zeroizing::new(text.trim().to_owned()))
}

/// Reads all of stdin as UTF-8, up to a limit.
pub(crate) fn read_stdin() -> Result<String, Failure> {
    let mut buf = Vec::new();
    std::io::stdin()
        .take(STDIN_LIMIT + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Failure::input(format!("cannot read stdin: {e}")))?;
    if buf.len() as u64 > STDIN_LIMIT {
        return Err(Failure::input("stdin is larger than 4 MiB"));
    }
    String::from_utf8(buf).map_err(|_| Failure::input("stdin is not UTF-8"))
}
