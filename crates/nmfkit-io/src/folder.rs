//! Output folders written whole. Every file goes into a hidden staging
//! folder beside the target; when all are written, the staging folder
//! replaces the target by two renames, so a folder never mixes two runs
//! (an earlier fit's plots or factor files never survive a new fit) and a
//! failed run leaves the old folder as it was. A folder nmfkit wrote holds
//! the marker file [`MARKER`]; a folder with other files is replaced only
//! when asked (`--force`).

use crate::error::Error;
use crate::formats::{self, describe_io, Matrix};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The file that marks a folder as nmfkit's.
pub const MARKER: &str = ".nmfkit";

/// A folder being written (see the module's notes).
pub struct Staged {
    out: PathBuf,
    stage: PathBuf,
    committed: bool,
}

/// Whether `dir` may be replaced: it is nmfkit's, or empty.
fn replaceable(dir: &Path) -> Result<bool, Error> {
    if dir.join(MARKER).is_file() {
        return Ok(true);
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| Error::output(dir, describe_io(&e)))?;
    Ok(entries.next().is_none())
}

impl Staged {
    /// Starts writing the folder `out`. An existing `out` that holds files
    /// nmfkit did not write is refused unless `force`.
    pub fn new(out: &Path, force: bool) -> Result<Staged, Error> {
        if out.exists() {
            if !out.is_dir() {
                return Err(Error::output(out, "exists and is not a folder"));
            }
            if !force && !replaceable(out)? {
                return Err(Error::usage(format!(
                    "{} holds files that nmfkit did not write: choose another --out, or add --force to replace the folder",
                    out.display()
                )));
            }
        }
        let name = out
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| *n != "..")
            .ok_or_else(|| Error::output(out, "not a folder name"))?
            .to_string();
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| Error::output(&parent, describe_io(&e)))?;
        let stage = parent.join(format!(".{name}.nmfkit-partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&stage);
        std::fs::create_dir(&stage).map_err(|e| Error::output(&stage, describe_io(&e)))?;
        std::fs::write(stage.join(MARKER), b"written by nmfkit\n")
            .map_err(|e| Error::output(&stage, describe_io(&e)))?;
        Ok(Staged {
            out: out.to_path_buf(),
            stage,
            committed: false,
        })
    }

    /// The staging folder (what becomes the output folder).
    pub fn dir(&self) -> &Path {
        &self.stage
    }

    /// Where the file `name` is staged.
    pub fn path(&self, name: &str) -> PathBuf {
        self.stage.join(name)
    }

    pub fn matrix(&mut self, name: &str, m: &Matrix) -> Result<(), Error> {
        formats::write_matrix(&self.path(name), m)
    }

    pub fn json(&mut self, name: &str, v: &impl Serialize) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(v).map_err(|e| Error::Internal(e.to_string()))?;
        let p = self.path(name);
        std::fs::write(&p, text.as_bytes()).map_err(|e| Error::output(&p, describe_io(&e)))
    }

    /// A file written by `write` (given its staged path), e.g. a plot.
    pub fn file(
        &mut self,
        name: &str,
        write: impl FnOnce(&Path) -> Result<(), Error>,
    ) -> Result<(), Error> {
        write(&self.path(name))
    }

    /// Replaces the folder with everything staged.
    pub fn commit(mut self) -> Result<(), Error> {
        let out = self.out.clone();
        let old = self.stage.with_file_name(
            self.stage
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("out")
                .replace("nmfkit-partial", "nmfkit-old"),
        );
        let had = out.exists();
        if had {
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(&out, &old).map_err(|e| Error::output(&out, describe_io(&e)))?;
        }
        if let Err(e) = std::fs::rename(&self.stage, &out) {
            if had {
                let _ = std::fs::rename(&old, &out);
            }
            return Err(Error::output(&out, describe_io(&e)));
        }
        self.committed = true;
        if had {
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.stage);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_folder_replaces_the_old_one_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("m");
        let mut s = Staged::new(&out, false).unwrap();
        s.file("a.txt", |p| {
            std::fs::write(p, "1").map_err(|e| Error::output(p, e.to_string()))
        })
        .unwrap();
        s.commit().unwrap();
        let mut s = Staged::new(&out, false).unwrap();
        s.file("b.txt", |p| {
            std::fs::write(p, "2").map_err(|e| Error::output(p, e.to_string()))
        })
        .unwrap();
        s.commit().unwrap();
        assert!(
            !out.join("a.txt").exists(),
            "an earlier run's file survived"
        );
        assert!(out.join("b.txt").exists() && out.join(MARKER).exists());
        // Nothing staged is left beside it.
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn foreign_folders_need_force_and_failures_leave_the_old_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mine");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("thesis.tex"), "keep me").unwrap();
        let err = Staged::new(&out, false).err().unwrap();
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(err.exit_code(), 2);
        // A staged folder dropped without commit changes nothing.
        let s = Staged::new(&out, true).unwrap();
        drop(s);
        assert!(out.join("thesis.tex").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // An empty folder is fine.
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        Staged::new(&empty, false).unwrap().commit().unwrap();
        assert!(empty.join(MARKER).exists());
    }
}
