//! Compiled name databases kept on disk, so that a rule set with a million
//! names loads in milliseconds after its first compile.
//!
//! One file per content key (a SHA-256 of the patterns, their flags and
//! Hyperscan's version; see `names::content_key`): `<key>.hsdb`, holding a
//! magic, a SHA-256 of everything after it, the number of literal
//! databases, then each literal database and the regex database as a length
//! and Hyperscan's serialized form (length 0: none). Hyperscan
//! deserializes only bytes whose digest matches: a file damaged on disk or
//! written by something else is never handed to it. A file that cannot be
//! read, fails the digest or that Hyperscan refuses (another CPU) is
//! ignored and replaced; files are written to a temporary name and renamed,
//! so readers never see half a file.

#![allow(unsafe_code)] // See the SAFETY comment of each block.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use hyperscan::prelude::*;
use hyperscan::Serialized;
use sha2::Digest as _;

const MAGIC: &[u8; 8] = b"SIFTHS03";
const DIGEST: usize = 32;

pub fn path_for(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.hsdb"))
}

/// The databases stored at `path` (literal databases, regex database), if
/// it holds a valid entry. The file is mapped, not read: Hyperscan copies
/// each database out of it once.
pub fn load(path: &Path) -> Option<(Vec<BlockDatabase>, Option<BlockDatabase>)> {
    let file = fs::File::open(path).ok()?;
    // SAFETY: the mapping is read-only and only read while `map` lives;
    // cache files are replaced by rename, never written in place.
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    let rest = map.strip_prefix(MAGIC.as_slice())?;
    let (digest, rest) = (rest.get(..DIGEST)?, rest.get(DIGEST..)?);
    if sha2::Sha256::digest(rest).as_slice() != digest {
        return None;
    }
    let count = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
    let mut rest = &rest[8..];
    let mut literal = Vec::new();
    for _ in 0..count {
        let (body, after) = section(rest)?;
        literal.push(body.deserialize().ok()?);
        rest = after;
    }
    let (re, rest) = section(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let regex = if re.is_empty() {
        None
    } else {
        Some(re.deserialize().ok()?)
    };
    Some((literal, regex))
}

fn section(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u64::from_le_bytes(b.get(..8)?.try_into().ok()?);
    let len = usize::try_from(len).ok()?;
    let body = b.get(8..8usize.checked_add(len)?)?;
    Some((body, &b[8 + len..]))
}

/// Writes the databases to `path`. Err: why not (the caller warns).
pub fn store(
    path: &Path,
    literal: &[BlockDatabase],
    re: Option<&BlockDatabase>,
) -> Result<(), String> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[0; DIGEST]);
    out.extend_from_slice(&(literal.len() as u64).to_le_bytes());
    for db in literal.iter().map(Some).chain([re]) {
        match db {
            Some(db) => {
                let s = db
                    .serialize()
                    .map_err(|e| format!("cannot serialize a database: {e}"))?;
                let s: &[u8] = s.as_ref();
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s);
            }
            None => out.extend_from_slice(&0u64.to_le_bytes()),
        }
    }
    let digest = sha2::Sha256::digest(&out[MAGIC.len() + DIGEST..]);
    out[MAGIC.len()..MAGIC.len() + DIGEST].copy_from_slice(&digest);
    write_entry(path, &out)
}

/// Writes a cache entry whole or not at all: into a file of its own beside
/// `path` (the folder made if need be), synced, then renamed over `path`,
/// so a reader never sees half an entry. Err: why not (the caller warns).
pub fn write_entry(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the rule cache {}: {e}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("cannot write the rule cache {}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_bytes_never_reach_hyperscan() {
        let db: BlockDatabase = "example".parse::<Pattern>().unwrap().build().unwrap();
        let dir = std::env::temp_dir().join(format!("sift-cache-test-{}", std::process::id()));
        let path = path_for(&dir, "k");
        store(&path, std::slice::from_ref(&db), None).unwrap();
        assert!(matches!(load(&path), Some((l, None)) if l.len() == 1));
        let good = fs::read(&path).unwrap();
        // One bit flipped inside the serialized database.
        let mut bad = good.clone();
        let at = good.len() - 40;
        bad[at] ^= 1;
        fs::write(&path, &bad).unwrap();
        assert!(load(&path).is_none());
        // A file of the previous format (no digest) is not read either.
        let mut old = b"SIFTHS02".to_vec();
        old.extend_from_slice(&good[MAGIC.len() + DIGEST..]);
        fs::write(&path, &old).unwrap();
        assert!(load(&path).is_none());
        fs::write(&path, &good).unwrap();
        assert!(load(&path).is_some());
        let _ = fs::remove_dir_all(&dir);
    }
}
