//! Paths from data never leave the run directory: a level's label (read
//! from `sweep.json`, which a shard or anyone may have written) becomes one
//! directory name inside the run, and every file written is checked to be
//! inside the run directory it belongs to.

use std::borrow::Cow;
use std::path::{Component, Path};

/// Why `label` is not one directory name inside a run, or `None` when it
/// is: it must be a plain name (no `/`, `\`, NUL, not empty, `.` or `..`,
/// not absolute).
pub fn unsafe_label(label: &str) -> Option<&'static str> {
    if label.is_empty() {
        Some("it is empty")
    } else if label.contains(['/', '\\']) {
        Some("it holds a path separator")
    } else if label.contains('\0') {
        Some("it holds a NUL byte")
    } else if label.chars().all(|c| c == '.') {
        Some("it names a directory, not a level")
    } else {
        None
    }
}

/// `label` as one directory name: unchanged when safe ([`unsafe_label`]),
/// else with separators and NUL as `_` and a name of dots alone (or
/// nothing) made a plain name.
pub fn level_dir_name(label: &str) -> Cow<'_, str> {
    if unsafe_label(label).is_none() {
        return Cow::Borrowed(label);
    }
    let name: String = label
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect();
    if name.chars().all(|c| c == '.') {
        Cow::Owned(format!("_{name}"))
    } else {
        Cow::Owned(name)
    }
}

/// Whether `path` is `root` or below it, judged on the names alone: after
/// `root`, only plain names (no `..`, no root, no prefix).
pub fn inside(path: &Path, root: &Path) -> bool {
    path.strip_prefix(root)
        .is_ok_and(|rest| rest.components().all(|c| matches!(c, Component::Normal(_))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_from_data_become_one_name() {
        for bad in ["", ".", "..", "../x", "/abs/dir", "a\\b", "a\0b", "..."] {
            assert!(unsafe_label(bad).is_some(), "{bad:?}");
            let name = level_dir_name(bad);
            let p = Path::new("/runs/out").join(name.as_ref());
            assert!(
                inside(&p, Path::new("/runs/out")),
                "{bad:?} → {}",
                p.display()
            );
            assert_eq!(p.parent(), Some(Path::new("/runs/out")), "{bad:?}");
        }
        for good in ["c4", "p512", "r2.5", "t1.5x", "c4..5"] {
            assert_eq!(unsafe_label(good), None);
            assert_eq!(level_dir_name(good), good);
        }
    }

    #[test]
    fn inside_is_judged_on_names() {
        let root = Path::new("/runs/out");
        assert!(inside(Path::new("/runs/out/c4/run.json"), root));
        assert!(inside(root, root));
        assert!(!inside(Path::new("/runs/out/../victim/run.json"), root));
        assert!(!inside(Path::new("/runs/victim/run.json"), root));
    }
}
