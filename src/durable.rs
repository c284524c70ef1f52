//! Replacing a file crash-safely: the KV store (`KVConfigManager#persist`) and
//! the 318 config store (`Configuration#persist`) both write through
//! [`write_file_durably`]. Upstream's `MixAll#string2File` copies the old file to
//! `<path>.bak` and then overwrites the file in place, so a crash mid-write
//! leaves it truncated; here the new content goes to a temporary file that is
//! synced and renamed over it, and the directory entry is synced too, before the
//! caller is answered.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Whether a file's content holds nothing (0 bytes or only whitespace).
pub(crate) fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// [`is_blank`] for a file, reading only up to its first non-blank byte (the
/// first byte of any real file).
fn is_blank_file(path: &Path) -> io::Result<bool> {
    let mut file = File::open(path)?;
    let mut chunk = [0u8; 8192];
    loop {
        match file.read(&mut chunk)? {
            0 => return Ok(true),
            n if !is_blank(&chunk[..n]) => return Ok(false),
            _ => {}
        }
    }
}

pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Replaces the file at `path` with `bytes` so that a crash leaves either the old
/// or the new content: creates the parent directories, copies the existing file
/// to `<path>.bak` (upstream keeps one) unless it is empty (so a truncated file
/// never replaces the last good backup), writes `<path>.tmp`, fsyncs it, renames
/// it over `path` and fsyncs the directory. A symlink at `path` is followed (the
/// link's target is replaced, as upstream's in-place write would change it).
///
/// Blocking; call it from a blocking thread. Writers of the same path must be
/// serialized by the caller (they share the `.tmp` name).
pub fn write_file_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let target = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;

    if target.is_file() && !is_blank_file(&target)? {
        fs::copy(&target, with_suffix(&target, ".bak"))?;
    }

    let tmp = with_suffix(&target, ".tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    if let Err(e) = fs::rename(&tmp, &target) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    File::open(&dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_never_backed_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let bak = with_suffix(&path, ".bak");
        fs::write(&bak, b"good").expect("write");
        fs::write(&path, b"  ").expect("write");
        write_file_durably(&path, b"new").expect("write");
        assert_eq!(fs::read(&bak).expect("bak"), b"good");
        write_file_durably(&path, b"newer").expect("write");
        assert_eq!(fs::read(&bak).expect("bak"), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn write_through_symlink() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        fs::write(&real, b"old").expect("write");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        write_file_durably(&link, b"new").expect("write");
        assert!(fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).expect("read"), b"new");
        assert_eq!(fs::read(with_suffix(&real, ".bak")).expect("bak"), b"old");
    }
}
