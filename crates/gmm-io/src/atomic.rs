//! Output files that appear only when complete: each is written under a
//! temporary name in its destination directory and renamed at commit; a file
//! dropped before commit is removed, so a failed or interrupted run leaves
//! nothing half-written and never replaces a good file with a broken one.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{IoError, Result};

/// A file being written to a temporary name.
#[derive(Debug)]
pub struct PendingFile {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl PendingFile {
    /// Creates the temporary file beside `dest` (creating its directory).
    pub fn create(dest: impl AsRef<Path>) -> Result<(PendingFile, File)> {
        let dest = dest.as_ref().to_path_buf();
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| IoError::write(dir, e))?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let file = File::create(&tmp).map_err(|e| IoError::write(&dest, e))?;
        Ok((
            PendingFile {
                tmp,
                dest,
                done: false,
            },
            file,
        ))
    }

    /// Writes all of `bytes` to a pending file.
    pub fn with_bytes(dest: impl AsRef<Path>, bytes: &[u8]) -> Result<PendingFile> {
        let (pending, mut file) = PendingFile::create(dest)?;
        file.write_all(bytes)
            .and_then(|_| file.sync_all())
            .map_err(|e| IoError::write(&pending.dest, e))?;
        Ok(pending)
    }

    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Renames the file to its destination.
    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| IoError::write(&self.dest, e))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Several pending files committed together at the end of a run.
#[derive(Debug, Default)]
pub struct OutputSet {
    files: Vec<PendingFile>,
}

impl OutputSet {
    pub fn new() -> Self {
        OutputSet::default()
    }

    pub fn add(&mut self, file: PendingFile) {
        self.files.push(file);
    }

    pub fn add_bytes(&mut self, dest: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
        self.files.push(PendingFile::with_bytes(dest, bytes)?);
        Ok(())
    }

    /// Destinations, in the order added.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.files.iter().map(|f| f.dest.clone()).collect()
    }

    /// Renames every file into place.
    pub fn commit(self) -> Result<()> {
        for f in self.files {
            f.commit()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_files_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.txt");
        {
            let _p = PendingFile::with_bytes(&dest, b"x").unwrap();
        }
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut set = OutputSet::new();
        set.add_bytes(&dest, b"hello").unwrap();
        assert!(!dest.exists());
        set.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "hello");
    }
}
