//! Least privilege for live capture: once the capture handles are open,
//! `sift live` started as root becomes an unprivileged user (by default
//! `nobody`, as tcpdump's `-Z` and Suricata's `run-as` do) and keeps no
//! capability. What it still needs was opened before: the capture sockets,
//! the output file, the sinks' connections and the metrics listener.
//! Rule files are read again on SIGHUP as that user, so they must be
//! readable by it (a world-readable file is); see `sift live --help`.
//!
//! This module is one of the few that call the C library directly: each
//! call is a plain system call wrapper, and each block says why it is sound.

#![allow(unsafe_code)] // See the SAFETY comment of each block.

use std::ffi::{CStr, CString};

/// The user and group to run as after the drop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunAs {
    pub user: String,
    pub uid: u32,
    pub gid: u32,
}

/// The user `nobody`, taken when root gives no `--user`.
pub const DEFAULT_USER: &str = "nobody";

/// Whether the process runs with root's effective user id.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Resolves `user` (a name or a numeric id) and `group` (likewise; default:
/// the user's primary group).
pub fn resolve(user: &str, group: Option<&str>) -> Result<RunAs, String> {
    let (uid, primary) = match user.parse::<u32>() {
        Ok(uid) => (uid, lookup_user_by_id(uid).map(|(_, g)| g)),
        Err(_) => {
            let (uid, gid) = lookup_user(user)?
                .ok_or_else(|| format!("--user {user}: no such user on this system"))?;
            (uid, Some(gid))
        }
    };
    let gid = match group {
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => lookup_group(g)?
                .ok_or_else(|| format!("--group {g}: no such group on this system"))?,
        },
        None => primary.ok_or_else(|| {
            format!("--user {user}: has no entry in the user database; give --group too")
        })?,
    };
    Ok(RunAs {
        user: user.to_string(),
        uid,
        gid,
    })
}

/// Becomes `to`: supplementary groups replaced by its group, then the group
/// id, then the user id (in that order: after the last nothing else may be
/// changed), then checks that root cannot be regained and that no
/// capability is left.
pub fn drop_to(to: &RunAs) -> Result<(), String> {
    let groups = [to.gid as libc::gid_t];
    // SAFETY: `groups` is a valid array of one gid for the call's duration.
    if unsafe { libc::setgroups(1, groups.as_ptr()) } != 0 {
        return Err(format!("setgroups: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: plain system call wrappers; glibc applies them to every thread.
    if unsafe { libc::setgid(to.gid) } != 0 {
        return Err(format!(
            "setgid({}): {}",
            to.gid,
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: as above.
    if unsafe { libc::setuid(to.uid) } != 0 {
        return Err(format!(
            "setuid({}): {}",
            to.uid,
            std::io::Error::last_os_error()
        ));
    }
    if to.uid != 0 {
        // SAFETY: as above; success here would be a failed drop.
        if unsafe { libc::setuid(0) } == 0 {
            return Err("root could be regained after the drop; refusing to run".into());
        }
        let caps = effective_capabilities();
        if caps != Some(0) {
            return Err(format!("capabilities left after the drop: {caps:x?}"));
        }
    }
    Ok(())
}

/// The effective capability set, from `/proc/self/status`.
pub fn effective_capabilities() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// Buffer for the `get*_r` calls, grown while they say it is too small.
fn with_buffer<T>(
    mut call: impl FnMut(&mut [libc::c_char]) -> Result<Option<T>, i32>,
) -> Result<Option<T>, String> {
    let mut size = 1024;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        match call(&mut buf) {
            Ok(v) => return Ok(v),
            Err(libc::ERANGE) if size < 1 << 20 => size *= 4,
            Err(e) => return Err(std::io::Error::from_raw_os_error(e).to_string()),
        }
    }
}

fn lookup_user(name: &str) -> Result<Option<(u32, u32)>, String> {
    let c = CString::new(name).map_err(|_| format!("--user {name:?}: not a user name"))?;
    with_buffer(|buf| {
        // SAFETY: zeroed passwd is a valid out-parameter; `buf` outlives the
        // call and its length is passed; `found` is checked before use.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; `buf.len()` is its size.
        let r = unsafe {
            libc::getpwnam_r(c.as_ptr(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut found)
        };
        match r {
            0 if found.is_null() => Ok(None),
            0 => Ok(Some((pw.pw_uid, pw.pw_gid))),
            e => Err(e),
        }
    })
}

fn lookup_user_by_id(uid: u32) -> Option<(String, u32)> {
    with_buffer(|buf| {
        // SAFETY: as in `lookup_user`; pw_name points into `buf`, copied
        // out before the buffer is dropped.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; `buf.len()` is its size.
        let r = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut found) };
        match r {
            0 if found.is_null() => Ok(None),
            0 => {
                // SAFETY: a NUL-terminated string inside `buf`.
                let name = unsafe { CStr::from_ptr(pw.pw_name) };
                Ok(Some((name.to_string_lossy().into_owned(), pw.pw_gid)))
            }
            e => Err(e),
        }
    })
    .ok()
    .flatten()
}

fn lookup_group(name: &str) -> Result<Option<u32>, String> {
    let c = CString::new(name).map_err(|_| format!("--group {name:?}: not a group name"))?;
    with_buffer(|buf| {
        // SAFETY: as in `lookup_user`, for the group database.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; `buf.len()` is its size.
        let r = unsafe {
            libc::getgrnam_r(c.as_ptr(), &mut gr, buf.as_mut_ptr(), buf.len(), &mut found)
        };
        match r {
            0 if found.is_null() => Ok(None),
            0 => Ok(Some(gr.gr_gid)),
            e => Err(e),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_nobody_resolve() {
        let root = resolve("root", None).unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        let nobody = resolve(DEFAULT_USER, None).unwrap();
        assert_eq!(nobody.uid, 65534);
        assert_eq!(resolve("65534", Some("0")).unwrap().gid, 0);
        assert!(resolve("no-such-user-here", None)
            .unwrap_err()
            .contains("no such user"));
        assert!(resolve("root", Some("no-such-group-here"))
            .unwrap_err()
            .contains("no such group"));
    }
}
