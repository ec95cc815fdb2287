//! Which folders sit on network file systems, where inotify hears nothing
//! of changes made by other machines (SMB, NFS, sshfs ...).
//!
//! Reads `/proc/self/mounts`; never fails: unknown means "local".

use std::path::Path;

const NETWORK: &[&str] = &[
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "ncpfs",
    "afs",
    "9p",
    "fuse.sshfs",
    "fuse.rclone",
    "davfs",
    "fuse.davfs2",
    "glusterfs",
    "ceph",
];

/// The file system type of the mount holding `path`, if it can be told.
pub fn fs_type(path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_dev, point, kind) = (f.next()?, f.next()?, f.next()?);
            // /proc/mounts escapes spaces as \040.
            Some((point.replace("\\040", " "), kind.to_string()))
        })
        .filter(|(point, _)| path.starts_with(point))
        .max_by_key(|(point, _)| point.len())
        .map(|(_, kind)| kind)
}

/// Whether inotify cannot be trusted for `path`.
pub fn is_network(path: &Path) -> bool {
    fs_type(path).is_some_and(|k| NETWORK.contains(&k.as_str()) || k.starts_with("fuse."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_folders_are_not_network() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(fs_type(tmp.path()).is_some());
        assert!(!is_network(tmp.path()));
    }
}
