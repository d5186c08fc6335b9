//! Opening capture files and reading several as one input.
//!
//! A file is memory-mapped once and shared read-only by every worker
//! ([`CaptureFile`]); each worker walks it with its own [`Reader`]. Several
//! files are read either one after the other ([`Order::Sequential`]: each
//! file's flows end with the file) or interleaved by timestamp as one stream
//! ([`Order::Merged`]: packets taken in timestamp order, ties by file order).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::pcap::PcapReader;
use super::pcapng::PcapngReader;
use super::{CaptureError, RawPacket};

/// A capture file mapped into memory.
pub struct CaptureFile {
    path: PathBuf,
    bytes: Bytes,
}

enum Bytes {
    Mapped(Mmap),
    Empty,
}

/// Why a file could not be opened as a capture.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{path}: {source}")]
    Format { path: String, source: CaptureError },
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
    /// Opens and maps `path`, and checks that it starts like a capture.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let shown = path.display().to_string();
        let io_err = |e: io::Error| OpenError::Io {
            path: shown.clone(),
            reason: io_reason(&e),
        };
        let file = File::open(path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if meta.is_dir() {
            return Err(OpenError::Io {
                path: shown,
                reason: "is a directory, not a capture file".into(),
            });
        }
        let bytes = if meta.len() == 0 {
            Bytes::Empty
        } else {
            // SAFETY: the map is read-only; sift never writes capture files.
            // A file truncated by another process while mapped would fault,
            // which is the accepted behaviour of every mmap-based reader.
            Bytes::Mapped(unsafe { Mmap::map(&file) }.map_err(io_err)?)
        };
        let f = CaptureFile {
            path: path.to_path_buf(),
            bytes,
        };
        Reader::new(f.bytes()).map_err(|source| OpenError::Format {
            path: shown,
            source,
        })?;
        Ok(f)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Mapped(m) => m,
            Bytes::Empty => &[],
        }
    }

    pub fn len(&self) -> usize {
        self.bytes().len()
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
    readers: Vec<Option<Reader<'a>>>,
    /// Merged order: the next packet of each file, read ahead.
    heads: Vec<Option<RawPacket<'a>>>,
    current: usize,
    pending_end: Vec<Item<'a>>,
    primed: bool,
}

impl<'a> Input<'a> {
    pub fn new(files: &'a [CaptureFile], order: Order) -> Self {
        let readers = files
            .iter()
            .map(|f| Reader::new(f.bytes()).ok())
            .collect::<Vec<_>>();
        let n = readers.len();
        Input {
            order,
            readers,
            heads: vec![None; n],
            current: 0,
            pending_end: Vec::new(),
            primed: false,
        }
    }

    /// Bytes consumed so far, over all files (for progress).
    pub fn offset(&self) -> usize {
        self.readers.iter().flatten().map(Reader::offset).sum()
    }

    /// Advances file `i`'s reader; records its end if it has none left.
    fn pull(&mut self, i: usize) -> Option<RawPacket<'a>> {
        let r = self.readers[i].as_mut()?;
        match r.next_packet() {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                self.readers[i] = None;
                self.pending_end.push(Item::FileEnd {
                    file: i,
                    error: Some(e),
                });
                None
            }
            None => {
                self.readers[i] = None;
                self.pending_end.push(Item::FileEnd {
                    file: i,
                    error: None,
                });
                None
            }
        }
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
            if let Some(packet) = self.pull(self.current) {
                return Some(Item::Packet {
                    file: self.current,
                    packet,
                });
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
mod tests {
    use super::*;
    use crate::capture::pcap::tests::build;

    fn mapped(bytes: Vec<u8>) -> (tempfile_path::TempPath, CaptureFile) {
        let t = tempfile_path::TempPath::with(&bytes);
        let f = CaptureFile::open(t.path()).unwrap();
        (t, f)
    }

    /// A minimal self-deleting temporary file, to keep tests dependency-free.
    mod tempfile_path {
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
        let mut input = Input::new(files, order);
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
