//! Output files that appear only when complete: each is written under a
//! temporary name in its destination directory and renamed at commit; a file
//! dropped before commit is removed, so a failed or interrupted run leaves
//! nothing half-written and never replaces a good file with a broken one.
//!
//! A set of files ([`OutputSet`], a run directory) is published as one
//! unit: the files it replaces or retires are first moved aside, then the
//! new ones renamed in; if any step fails, what was done is undone, so the
//! earlier set is complete and untouched. Directories created for files
//! that are never published are removed again, and temporary files left by
//! a killed run are removed by the next one writing the same file.

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
    /// Directories created for it, deepest first; removed again (when
    /// empty) if the file is dropped unpublished.
    created_dirs: Vec<PathBuf>,
}

/// The temporary name of `dest` for process `pid`.
fn temporary_name(name: &str, pid: u32) -> String {
    format!(".{name}.tmp-{pid}")
}

/// Whether process `pid` is running (Linux: /proc; elsewhere assumed so,
/// which keeps its files).
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// Removes the temporary files of `name` in `dir` left by processes that
/// are gone (killed before they could remove them).
pub fn remove_stale_temporaries(dir: &Path, name: &str) {
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Creates `dir` and its missing parents; returns those it created,
/// deepest first.
fn create_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut d = dir;
    while !d.as_os_str().is_empty() && !d.exists() {
        missing.push(d.to_path_buf());
        match d.parent() {
            Some(p) => d = p,
            None => break,
        }
    }
    std::fs::create_dir_all(dir)?;
    Ok(missing)
}

impl PendingFile {
    /// Creates the temporary file beside `dest` (creating its directory).
    pub fn create(dest: impl AsRef<Path>) -> Result<(PendingFile, File)> {
        let dest = dest.as_ref().to_path_buf();
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let created_dirs = create_dirs(dir).map_err(|e| IoError::write(dir, e))?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        remove_stale_temporaries(dir, &name);
        let tmp = dir.join(temporary_name(&name, std::process::id()));
        let pending = PendingFile {
            tmp,
            dest,
            done: false,
            created_dirs,
        };
        let file = File::create(&pending.tmp).map_err(|e| IoError::write(&pending.dest, e))?;
        Ok((pending, file))
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
            remove_empty_dirs(&self.created_dirs);
        }
    }
}

/// Removes each of `dirs` (deepest first) that is empty.
fn remove_empty_dirs(dirs: &[PathBuf]) {
    for d in dirs {
        let _ = std::fs::remove_dir(d);
    }
}

/// Several pending files published together at the end of a run, with the
/// earlier files they replace or retire.
#[derive(Debug, Default)]
pub struct OutputSet {
    files: Vec<PendingFile>,
    /// Earlier outputs that the new set does not hold, removed when it is
    /// published.
    retired: Vec<PathBuf>,
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

    /// Removes `path`, an earlier output the new set does not replace, when
    /// the set is published (and only then).
    pub fn retire(&mut self, path: impl AsRef<Path>) {
        self.retired.push(path.as_ref().to_path_buf());
    }

    /// Destinations, in the order added.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.files.iter().map(|f| f.dest.clone()).collect()
    }

    /// Publishes every file as one unit: the files replaced or retired are
    /// moved aside, the new ones renamed into place, then what was moved
    /// aside is deleted. On a failure every step done is undone: the
    /// earlier files are back as they were and the new ones are gone.
    pub fn commit(mut self) -> Result<()> {
        let files = std::mem::take(&mut self.files);
        let pid = std::process::id();
        // (original, where it was moved)
        let mut aside: Vec<(PathBuf, PathBuf)> = Vec::new();
        let mut published: Vec<PathBuf> = Vec::new();
        let undo = |aside: &[(PathBuf, PathBuf)], published: &[PathBuf]| {
            for p in published {
                let _ = std::fs::remove_file(p);
            }
            for (original, moved) in aside.iter().rev() {
                let _ = std::fs::rename(moved, original);
            }
        };
        let old: Vec<PathBuf> = files
            .iter()
            .map(|f| f.dest.clone())
            .chain(self.retired.iter().cloned())
            .filter(|p| p.symlink_metadata().is_ok())
            .collect();
        for original in old {
            let name = original
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let moved = original.with_file_name(format!(".{name}.old-{pid}"));
            if let Err(e) = std::fs::rename(&original, &moved) {
                undo(&aside, &published);
                return Err(IoError::write(&original, e));
            }
            aside.push((original, moved));
        }
        let mut pending = files.into_iter();
        for mut f in pending.by_ref() {
            if let Err(e) = std::fs::rename(&f.tmp, &f.dest) {
                undo(&aside, &published);
                return Err(IoError::write(&f.dest, e));
            }
            f.done = true;
            published.push(f.dest.clone());
        }
        for (_, moved) in aside {
            let _ = std::fs::remove_file(moved);
        }
        Ok(())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        // The files remove their temporaries and try their directories;
        // a directory shared by several is empty only once all are gone.
        let dirs: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|f| !f.done)
            .flat_map(|f| f.created_dirs.clone())
            .collect();
        self.files.clear();
        remove_empty_dirs(&dirs);
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

    #[test]
    fn a_set_dropped_unpublished_removes_the_directories_it_made() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("new/run");
        {
            let mut set = OutputSet::new();
            set.add_bytes(run.join("a.txt"), b"a").unwrap();
            set.add_bytes(run.join("b.txt"), b"b").unwrap();
        }
        assert!(!dir.path().join("new").exists());
    }

    #[test]
    fn a_failed_publication_restores_the_earlier_set() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.txt"), "old a").unwrap();
        std::fs::write(d.join("stale.svg"), "old svg").unwrap();
        let mut set = OutputSet::new();
        set.add_bytes(d.join("a.txt"), b"new a").unwrap();
        set.retire(d.join("stale.svg"));
        // A destination that cannot be replaced: a non-empty directory.
        std::fs::create_dir(d.join("b.txt")).unwrap();
        std::fs::write(d.join("b.txt/keep"), "").unwrap();
        set.add_bytes(d.join("b.txt"), b"new b").unwrap();
        // Moving b.txt aside works (rename of a directory), so make the
        // new file's rename fail instead: its temporary is gone.
        let tmp = d.join(temporary_name("b.txt", std::process::id()));
        std::fs::remove_file(&tmp).unwrap();
        assert!(set.commit().is_err());
        assert_eq!(std::fs::read_to_string(d.join("a.txt")).unwrap(), "old a");
        assert_eq!(
            std::fs::read_to_string(d.join("stale.svg")).unwrap(),
            "old svg"
        );
        assert!(d.join("b.txt/keep").exists());
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a.txt", "b.txt", "stale.svg"]);
        // Published, the retired file goes.
        let mut set = OutputSet::new();
        set.add_bytes(d.join("a.txt"), b"new a").unwrap();
        set.retire(d.join("stale.svg"));
        set.commit().unwrap();
        assert_eq!(std::fs::read_to_string(d.join("a.txt")).unwrap(), "new a");
        assert!(!d.join("stale.svg").exists());
    }

    #[test]
    fn temporaries_of_a_killed_run_are_removed_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        // No process has this id (above the kernel's pid_max).
        let left = dir.path().join(temporary_name("p.csv", 4_194_305));
        std::fs::write(&left, "half").unwrap();
        let p = PendingFile::with_bytes(dir.path().join("p.csv"), b"x").unwrap();
        assert!(!left.exists());
        p.commit().unwrap();
    }
}
