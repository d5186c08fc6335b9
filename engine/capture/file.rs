//! Opening capture files and reading several as one input.
//!
//! A file is opened and checked once ([`CaptureFile`]), then mapped once
//! ([`Mapping`]) and read in place. A window moves along each mapping as the
//! input is read: the window two ahead is faulted in with one call
//! (`MADV_POPULATE_READ`, far cheaper than a page fault per 64 KiB) and a
//! window behind is released (`MADV_DONTNEED`), so resident memory stays at
//! a few windows however large the file. How far behind depends on who
//! reads the packets: one thread is done with a window once it has left it;
//! followers read packets the lead handed them a while ago (a window
//! released under them would be faulted in again and then stay). The reader does this itself:
//! handing it to another thread was measured slower (the reader then
//! faulted on pages not yet populated). Several
//! files are read either one after the other ([`Order::Sequential`]: each
//! file's flows end with the file) or interleaved by timestamp as one stream
//! ([`Order::Merged`]: packets taken in timestamp order, ties by file order).

#![allow(unsafe_code)] // See the SAFETY comment of each block.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::pcap::PcapReader;
use super::pcapng::PcapngReader;
use super::{CaptureError, RawPacket};

/// A capture file, checked to start like a capture. A file on disk is
/// opened again when mapped, and no descriptor is held between: any number
/// of files can be named in one call. A stream (`-` for standard input, a
/// FIFO, a character device) is copied as it arrives into an unnamed
/// temporary file, which is then read like any other.
pub struct CaptureFile {
    path: PathBuf,
    spool: Option<File>,
    len: u64,
}

/// Opens every capture named, in order (see [`CaptureFile::open`]).
/// Standard input (`-`) can be read once.
pub fn open_all(paths: &[PathBuf]) -> Result<Vec<CaptureFile>, OpenError> {
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(OpenError::Io {
            path: "-".into(),
            reason: "standard input can be named only once".into(),
        });
    }
    paths.iter().map(|p| CaptureFile::open(p)).collect()
}

/// A read-only mapping of a capture file.
pub struct Mapping {
    map: Option<Mmap>,
}

/// Size of the read-ahead and release window: 4 MiB keeps a one-thread run
/// near 40 MiB (8 MiB windows, two kept behind: 63), at the same speed
/// (benches/HISTORY.md).
const WINDOW: usize = 4 << 20;

/// Windows kept behind the reader when other threads read its packets
/// later: 32 MiB, well over the work in flight to followers.
pub const BEHIND_SHARED: usize = 8;

impl Mapping {
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// Reading reached `offset`; `next` is the offset at which to call
    /// again. Faults in the window two ahead and releases the one `behind`
    /// windows back.
    fn advance(&self, offset: usize, next: &mut usize, behind: usize) {
        let Some(map) = &self.map else { return };
        if offset < *next {
            return;
        }
        let k = offset / WINDOW;
        let windows = map.len().div_ceil(WINDOW);
        let ahead: &[usize] = if k == 0 { &[0, 1, 2] } else { &[k + 2] };
        for &w in ahead.iter().filter(|&&w| w < windows) {
            let from = w * WINDOW;
            // Advice is an optimisation: without it, pages fault in as usual.
            let _ = map.advise_range(
                memmap2::Advice::PopulateRead,
                from,
                WINDOW.min(map.len() - from),
            );
        }
        if k >= behind {
            let from = (k - behind) * WINDOW;
            // SAFETY: a read-only, file-backed mapping: MADV_DONTNEED only
            // drops resident pages, which the kernel reads back from the
            // file if anything touches them again.
            let _ = unsafe {
                map.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    from,
                    WINDOW.min(map.len() - from),
                )
            };
        }
        *next = (k + 1) * WINDOW;
    }
}

/// Why a file could not be opened as a capture.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{path}: {problem}")]
    Format { path: String, problem: CaptureError },
}
/// A file in the temporary directory that has no name: `O_TMPFILE` where
/// the file system has it, else created and unlinked at once.
fn unnamed_temp_file() -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = std::env::temp_dir();
    if let Ok(f) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(&dir)
    {
        return Ok(f);
    }
    for attempt in 0..100u32 {
        let path = dir.join(format!("sift-spool-{}-{attempt}", std::process::id()));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => {
                std::fs::remove_file(&path)?;
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary file name",
    ))
}

fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied (cannot read the file)".into(),
        _ if e.raw_os_error() == Some(21) => "is a directory, not a capture file".into(),
        _ => e.to_string(),
    }
}

impl CaptureFile {
    /// Checks that `path` starts like a capture: a regular file is mapped
    /// and its header read, then closed; `-` (standard input), a FIFO or a
    /// device is checked on its first bytes and spooled (see the type).
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let shown = path.display().to_string();
        let io_err = |e: io::Error| OpenError::Io {
            path: shown.clone(),
            reason: io_reason(&e),
        };
        if path.as_os_str() == "-" {
            return Self::spool(path, io::stdin().lock(), "standard input");
        }
        let file = File::open(path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if meta.is_dir() {
            return Err(OpenError::Io {
                path: shown,
                reason: "is a directory, not a capture file".into(),
            });
        }
        if !meta.is_file() {
            return Self::spool(path, file, "a stream");
        }
        let f = CaptureFile {
            path: path.to_path_buf(),
            spool: None,
            len: meta.len(),
        };
        let m = f.map_file(&file).map_err(io_err)?;
        Reader::new(m.bytes()).map_err(|problem| OpenError::Format {
            path: shown,
            problem,
        })?;
        Ok(f)
    }

    /// Copies a stream into an unnamed temporary file (on disk, in the
    /// temporary directory, gone when sift exits), after checking that its
    /// first bytes are a capture's: `/dev/zero` is refused at once, not
    /// copied forever.
    fn spool(path: &Path, mut from: impl Read, what: &str) -> Result<Self, OpenError> {
        let shown = path.display().to_string();
        let io_err = |e: io::Error| OpenError::Io {
            path: shown.clone(),
            reason: format!("reading {what}: {}", io_reason(&e)),
        };
        let mut head = [0u8; 4];
        let mut got = 0;
        while got < head.len() {
            match from.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(e)),
            }
        }
        let format_err = |problem| OpenError::Format {
            path: shown.clone(),
            problem,
        };
        if got < head.len() {
            return Err(format_err(CaptureError::TooShort(got)));
        }
        if !PcapngReader::sniff(&head) && !PcapReader::sniff(&head) {
            return Err(format_err(CaptureError::NotACapture(head.to_vec())));
        }
        let tmp_err = |e: io::Error| OpenError::Io {
            path: shown.clone(),
            reason: format!(
                "cannot spool {what} to the temporary directory {}: {}",
                std::env::temp_dir().display(),
                io_reason(&e)
            ),
        };
        let mut spool = unnamed_temp_file().map_err(tmp_err)?;
        spool.write_all(&head).map_err(tmp_err)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(e)),
            };
            spool.write_all(&buf[..n]).map_err(tmp_err)?;
        }
        let len = spool.metadata().map_err(tmp_err)?.len();
        let f = CaptureFile {
            path: path.to_path_buf(),
            spool: Some(spool),
            len,
        };
        let m = f.map().map_err(tmp_err)?;
        Reader::new(m.bytes()).map_err(format_err)?;
        Ok(f)
    }

    /// Maps the file (opening it again by its path unless it was spooled).
    pub fn map(&self) -> io::Result<Mapping> {
        if self.len == 0 {
            return Ok(Mapping { map: None });
        }
        match &self.spool {
            Some(f) => self.map_file(f),
            None => self.map_file(&File::open(&self.path)?),
        }
    }

    fn map_file(&self, file: &File) -> io::Result<Mapping> {
        if self.len == 0 {
            return Ok(Mapping { map: None });
        }
        // SAFETY: the map is read-only; sift never writes capture files.
        // A file truncated by another process while mapped would fault,
        // which is the accepted behaviour of every mmap-based reader.
        let map = unsafe { Mmap::map(file) }?;
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(Mapping { map: Some(map) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A reader over either format.
pub enum Reader<'a> {
    Pcap(PcapReader<'a>),
    Pcapng(PcapngReader<'a>),
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Result<Self, CaptureError> {
        if PcapngReader::sniff(data) {
            Ok(Reader::Pcapng(PcapngReader::new(data)?))
        } else if PcapReader::sniff(data) {
            Ok(Reader::Pcap(PcapReader::new(data)?))
        } else if data.len() < 4 {
            Err(CaptureError::TooShort(data.len()))
        } else {
            Err(CaptureError::NotACapture(data[..4].to_vec()))
        }
    }

    #[inline]
    pub fn next_packet(&mut self) -> Option<Result<RawPacket<'a>, CaptureError>> {
        match self {
            Reader::Pcap(r) => r.next_packet(),
            Reader::Pcapng(r) => r.next_packet(),
        }
    }

    /// The next record; None at the end or at an error, which
    /// [`take_error`](Self::take_error) then gives.
    #[inline]
    pub fn next_record(&mut self) -> Option<RawPacket<'a>> {
        match self {
            Reader::Pcap(r) => r.next_record(),
            Reader::Pcapng(r) => r.next_record(),
        }
    }

    /// Why the last [`next_record`](Self::next_record) found none.
    pub fn take_error(&mut self) -> Option<CaptureError> {
        match self {
            Reader::Pcap(r) => r.take_error(),
            Reader::Pcapng(r) => r.take_error(),
        }
    }

    pub fn offset(&self) -> usize {
        match self {
            Reader::Pcap(r) => r.offset(),
            Reader::Pcapng(r) => r.offset(),
        }
    }
}

/// How several capture files make one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Order {
    /// One file after the other; flows end with their file.
    #[default]
    Sequential,
    /// All files interleaved by packet timestamp, as one capture.
    Merged,
}

/// What an input yields: packets, and the end of each file.
#[derive(Debug)]
pub enum Item<'a> {
    Packet {
        file: usize,
        packet: RawPacket<'a>,
    },
    /// File `file` has no more packets; `error` says why it stopped early.
    /// In [`Order::Sequential`] this is also where its flows end.
    FileEnd {
        file: usize,
        error: Option<CaptureError>,
    },
}

/// Packets of several files in the chosen [`Order`].
pub struct Input<'a> {
    order: Order,
    maps: &'a [Mapping],
    /// Per file: the offset at which to move its window next.
    windows: Vec<usize>,
    readers: Vec<Option<Reader<'a>>>,
    /// Merged order: the next packet of each file, read ahead.
    heads: Vec<Option<RawPacket<'a>>>,
    current: usize,
    pending_end: Vec<Item<'a>>,
    primed: bool,
    /// Windows kept behind the reader ([`Input::shared_with_followers`]).
    behind: usize,
}

impl<'a> Input<'a> {
    /// The input over files mapped by [`CaptureFile::map`].
    pub fn new(maps: &'a [Mapping], order: Order) -> Self {
        let readers = maps
            .iter()
            .map(|m| Reader::new(m.bytes()).ok())
            .collect::<Vec<_>>();
        let n = readers.len();
        Input {
            order,
            maps,
            windows: vec![0; n],
            readers,
            heads: vec![None; n],
            current: 0,
            pending_end: Vec::new(),
            primed: false,
            // In merged order a file's next packet is read before the one
            // returned is used: that one may lie a window back.
            behind: if order == Order::Sequential { 1 } else { 2 },
        }
    }

    /// Other threads read the packets later: windows are kept
    /// [`BEHIND_SHARED`] behind the reader rather than one or two.
    pub fn shared_with_followers(mut self) -> Self {
        self.behind = BEHIND_SHARED;
        self
    }

    /// Bytes consumed so far, over all files (for progress).
    pub fn offset(&self) -> usize {
        self.readers.iter().flatten().map(Reader::offset).sum()
    }

    /// Advances file `i`'s reader; records its end if it has none left.
    fn pull(&mut self, i: usize) -> Option<RawPacket<'a>> {
        let r = self.readers[i].as_mut()?;
        self.maps[i].advance(r.offset(), &mut self.windows[i], self.behind);
        let packet = r.next_record();
        if packet.is_none() {
            self.end_file(i);
        }
        packet
    }

    /// File `i` has no packet left: its end (with its error, if any) is
    /// given next.
    #[cold]
    fn end_file(&mut self, i: usize) {
        let error = self.readers[i].as_mut().and_then(Reader::take_error);
        self.readers[i] = None;
        self.pending_end.push(Item::FileEnd { file: i, error });
    }

    #[inline]
    pub fn next_item(&mut self) -> Option<Item<'a>> {
        match self.order {
            Order::Sequential => self.next_sequential(),
            Order::Merged => self.next_merged(),
        }
    }

    fn next_sequential(&mut self) -> Option<Item<'a>> {
        loop {
            if let Some(end) = self.pending_end.pop() {
                self.current += 1;
                return Some(end);
            }
            if self.current >= self.readers.len() {
                return None;
            }
            if self.readers[self.current].is_none() {
                // A file that failed to open in this reader (never happens
                // after `CaptureFile::open` succeeded) ends at once.
                let file = self.current;
                self.current += 1;
                return Some(Item::FileEnd { file, error: None });
            }
            // `pull` by hand: the record goes from the reader into the
            // item, not through an `Option` of its own first (which the
            // profile-guided build copied with loads wider than the stores
            // that had just written it: a failed store forward per packet).
            let file = self.current;
            if let Some(r) = self.readers[file].as_mut() {
                self.maps[file].advance(r.offset(), &mut self.windows[file], self.behind);
                if let Some(packet) = r.next_record() {
                    return Some(Item::Packet { file, packet });
                }
                self.end_file(file);
            }
        }
    }

    fn next_merged(&mut self) -> Option<Item<'a>> {
        if !self.primed {
            self.primed = true;
            for i in 0..self.readers.len() {
                self.heads[i] = self.pull(i);
            }
        }
        if let Some(end) = self.pending_end.pop() {
            return Some(end);
        }
        // Few files: a linear scan beats a heap.
        let mut best: Option<usize> = None;
        for (i, h) in self.heads.iter().enumerate() {
            if let Some(p) = h {
                if best.is_none_or(|b| p.ts < self.heads[b].as_ref().map_or(u64::MAX, |q| q.ts)) {
                    best = Some(i);
                }
            }
        }
        let i = best?;
        let packet = self.heads[i].take()?;
        self.heads[i] = self.pull(i);
        Some(Item::Packet { file: i, packet })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::capture::pcap::tests::build;

    fn mapped(bytes: Vec<u8>) -> (tempfile_path::TempPath, CaptureFile) {
        let t = tempfile_path::TempPath::with(&bytes);
        let f = CaptureFile::open(t.path()).unwrap();
        (t, f)
    }

    /// A minimal self-deleting temporary file, to keep tests dependency-free.
    pub(crate) mod tempfile_path {
        use std::path::{Path, PathBuf};
        use std::sync::atomic::{AtomicUsize, Ordering};
        pub struct TempPath(PathBuf);
        static N: AtomicUsize = AtomicUsize::new(0);
        impl TempPath {
            pub fn with(bytes: &[u8]) -> Self {
                let n = N.fetch_add(1, Ordering::Relaxed);
                let p =
                    std::env::temp_dir().join(format!("sift-test-{}-{n}.pcap", std::process::id()));
                std::fs::write(&p, bytes).unwrap();
                TempPath(p)
            }
            pub fn path(&self) -> &Path {
                &self.0
            }
        }
        impl Drop for TempPath {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    fn timestamps(files: &[CaptureFile], order: Order) -> Vec<String> {
        let maps: Vec<Mapping> = files.iter().map(|f| f.map().unwrap()).collect();
        let mut input = Input::new(&maps, order);
        let mut out = Vec::new();
        while let Some(item) = input.next_item() {
            out.push(match item {
                Item::Packet { file, packet } => format!("{file}@{}", packet.ts / 1_000_000_000),
                Item::FileEnd { file, error } => {
                    format!("end{file}{}", if error.is_some() { "!" } else { "" })
                }
            });
        }
        out
    }

    #[test]
    fn sequential_and_merged_orders() {
        let (_a, fa) = mapped(build(1, &[(1, 0, b"a"), (3, 0, b"a"), (5, 0, b"a")]));
        let (_b, fb) = mapped(build(1, &[(2, 0, b"b"), (4, 0, b"b")]));
        let files = [fa, fb];
        assert_eq!(
            timestamps(&files, Order::Sequential),
            ["0@1", "0@3", "0@5", "end0", "1@2", "1@4", "end1"]
        );
        assert_eq!(
            timestamps(&files, Order::Merged),
            ["0@1", "1@2", "0@3", "1@4", "end1", "0@5", "end0"]
        );
    }

    /// A file cut inside a record ends with its error, after every whole
    /// record, in either order; the files around it read on.
    #[test]
    fn a_cut_file_ends_with_its_error() {
        let (_a, fa) = mapped(build(1, &[(1, 0, b"a"), (3, 0, b"a")]));
        let mut cut = build(1, &[(2, 0, b"bbbb"), (4, 0, b"bbbb")]);
        cut.truncate(cut.len() - 2);
        let (_b, fb) = mapped(cut);
        let (_c, fc) = mapped(build(1, &[(5, 0, b"c")]));
        let files = [fa, fb, fc];
        assert_eq!(
            timestamps(&files, Order::Sequential),
            ["0@1", "0@3", "end0", "1@2", "end1!", "2@5", "end2"]
        );
        assert_eq!(
            timestamps(&files, Order::Merged),
            ["0@1", "1@2", "end1!", "0@3", "end0", "2@5", "end2"]
        );
    }

    #[test]
    fn open_errors_name_the_problem() {
        let e = CaptureFile::open(Path::new("/nonexistent/x.pcap"))
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "/nonexistent/x.pcap: no such file");
        let t = tempfile_path::TempPath::with(b"GET / HTTP/1.1\r\n\r\n");
        let e = CaptureFile::open(t.path()).err().unwrap();
        assert!(
            e.to_string().contains("not a pcap or pcapng capture"),
            "{e}"
        );
        let t = tempfile_path::TempPath::with(b"");
        let e = CaptureFile::open(t.path()).err().unwrap();
        assert!(
            e.to_string()
                .ends_with("file too short for a capture header (0 bytes)"),
            "{e}"
        );
    }
}
