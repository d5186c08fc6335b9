//! EVE lines into Redis, the way Suricata's `filetype: redis` output puts
//! them there, so that what reads Suricata's keys reads sift's:
//!
//! | mode (`--redis-mode`) | command per record |
//! |---|---|
//! | `list`, `lpush` (default) | `LPUSH key line` |
//! | `rpush` | `RPUSH key line` |
//! | `channel`, `publish` | `PUBLISH key line` |
//! | `stream`, `xadd` | `XADD key MAXLEN ~ N * eve line` (`=` with `--redis-stream-trim-exact`; no `MAXLEN` when N is 0) |
//!
//! The key defaults to `suricata`, the stream length to 100,000, as in
//! Suricata. Several sensors can write one stream; a consumer group reads
//! it (`XREADGROUP`).
//!
//! Lines go through a bounded queue ([`RedisConfig::queue`] records) to a
//! sender thread that writes them pipelined (up to [`BATCH_RECORDS`] per
//! round trip) and reads every reply. A connection that breaks is made
//! again with exponential backoff ([`BACKOFF_FIRST`] doubling up to
//! [`BACKOFF_MAX`]) and the unacknowledged batch is sent again (a record
//! Redis applied just before the break may then be there twice: counted
//! as `resent`). Nothing is dropped silently: a full queue drops the new
//! record and counts it (`overflow`, [`Overflow::Drop`], the live
//! capture's choice: the packets cannot wait), or makes the caller wait
//! ([`Overflow::Wait`], `analyze`'s: a file can) for at most
//! [`WAIT_FOR_ROOM`] before it counts drops as well; a record Redis
//! refuses (an error reply such as `WRONGTYPE`) or still queued when the
//! run ends and Redis stays unreachable for [`DRAIN_TIME`] is `lost`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};

use super::record::Event;
use super::sink::{Sink, SinkStats};

/// Records written per round trip.
pub const BATCH_RECORDS: usize = 512;
/// First wait before connecting again.
pub const BACKOFF_FIRST: Duration = Duration::from_millis(50);
/// Longest wait between two connection attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// How long a caller with [`Overflow::Wait`] waits for room before it
/// drops (and counts) records while the queue stays full.
pub const WAIT_FOR_ROOM: Duration = Duration::from_secs(5);
/// At the end of a run, how long queued records may wait for an
/// unreachable server before they are counted lost.
pub const DRAIN_TIME: Duration = Duration::from_secs(5);
/// Connecting, writing and reading give up after this long.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest reply line read (error messages, integers, stream ids).
const MAX_REPLY_LINE: usize = 4096;

/// Which Redis command carries a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedisMode {
    Lpush,
    Rpush,
    Publish,
    Xadd,
}

impl RedisMode {
    /// Suricata's mode names and their aliases.
    pub fn parse(s: &str) -> Option<RedisMode> {
        Some(match s {
            "list" | "lpush" => RedisMode::Lpush,
            "rpush" => RedisMode::Rpush,
            "channel" | "publish" => RedisMode::Publish,
            "stream" | "xadd" => RedisMode::Xadd,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RedisMode::Lpush => "lpush",
            RedisMode::Rpush => "rpush",
            RedisMode::Publish => "publish",
            RedisMode::Xadd => "xadd",
        }
    }
}

/// What a full queue does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Drop the new record and count it.
    Drop,
    /// Wait for room (at most [`WAIT_FOR_ROOM`] while the server does not
    /// take records), then drop and count.
    Wait,
}

#[derive(Clone, Debug)]
pub struct RedisConfig {
    /// `host:port`.
    pub server: String,
    pub mode: RedisMode,
    pub key: String,
    /// Stream mode: `MAXLEN` (0: none).
    pub stream_maxlen: u64,
    /// Stream mode: trim exactly (`MAXLEN =`) instead of `MAXLEN ~`.
    pub stream_trim_exact: bool,
    /// Records queued at most.
    pub queue: usize,
    pub overflow: Overflow,
    /// At the end of the run, how long queued records wait for an
    /// unreachable server ([`DRAIN_TIME`]).
    pub drain_time: Duration,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            server: "127.0.0.1:6379".to_string(),
            mode: RedisMode::Lpush,
            key: "suricata".to_string(),
            stream_maxlen: 100_000,
            stream_trim_exact: false,
            queue: 65_536,
            overflow: Overflow::Drop,
            drain_time: DRAIN_TIME,
        }
    }
}

impl RedisConfig {
    fn target(&self) -> String {
        format!("{} {} {}", self.server, self.mode.as_str(), self.key)
    }

    /// Appends the command that stores `line` to `out` (RESP array of bulk
    /// strings).
    fn command(&self, line: &[u8], out: &mut Vec<u8>) {
        let maxlen;
        let args: &[&[u8]] = match self.mode {
            RedisMode::Lpush => &[b"LPUSH", self.key.as_bytes(), line],
            RedisMode::Rpush => &[b"RPUSH", self.key.as_bytes(), line],
            RedisMode::Publish => &[b"PUBLISH", self.key.as_bytes(), line],
            RedisMode::Xadd if self.stream_maxlen == 0 => {
                &[b"XADD", self.key.as_bytes(), b"*", b"eve", line]
            }
            RedisMode::Xadd => {
                maxlen = self.stream_maxlen.to_string();
                let how: &[u8] = if self.stream_trim_exact { b"=" } else { b"~" };
                &[
                    b"XADD",
                    self.key.as_bytes(),
                    b"MAXLEN",
                    how,
                    maxlen.as_bytes(),
                    b"*",
                    b"eve",
                    line,
                ]
            }
        };
        resp(args, out);
    }
}

/// Appends `args` as a RESP array of bulk strings.
fn resp(args: &[&[u8]], out: &mut Vec<u8>) {
    let _ = write!(out, "*{}\r\n", args.len());
    for a in args {
        let _ = write!(out, "${}\r\n", a.len());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Counters shared by the caller and the sender thread.
#[derive(Default)]
struct Shared {
    delivered: AtomicU64,
    overflow: AtomicU64,
    lost: AtomicU64,
    resent: AtomicU64,
    reconnects: AtomicU64,
    connected: AtomicBool,
    last_error: Mutex<Option<String>>,
}

impl Shared {
    fn error(&self, e: impl ToString) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
    }
}

/// The Redis sink: a queue and the thread that empties it.
pub struct RedisSink {
    config: RedisConfig,
    tx: Option<Sender<Vec<u8>>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// Waiting for room timed out and the queue has not had room since.
    stalled: bool,
    finished: Option<SinkStats>,
}

impl RedisSink {
    /// Starts the sender thread. With `require_connection` the first
    /// connection must succeed (an `analyze` run reports a wrong address
    /// at once); otherwise the thread keeps trying in the background.
    pub fn start(config: RedisConfig, require_connection: bool) -> io::Result<RedisSink> {
        let first = match connect(&config.server) {
            Ok(c) => Some(c),
            Err(e) if require_connection => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot connect to Redis at {}: {e}", config.server),
                ))
            }
            Err(_) => None,
        };
        let shared = Arc::new(Shared::default());
        shared.connected.store(first.is_some(), Ordering::Relaxed);
        let (tx, rx) = bounded::<Vec<u8>>(config.queue.max(1));
        let thread = {
            let (config, shared) = (config.clone(), Arc::clone(&shared));
            std::thread::Builder::new()
                .name("sift-redis".into())
                .spawn(move || Sender_::new(config, shared, first).run(&rx))?
        };
        Ok(RedisSink {
            config,
            tx: Some(tx),
            shared,
            thread: Some(thread),
            stalled: false,
            finished: None,
        })
    }

    fn queue(&mut self, line: Vec<u8>) {
        let Some(tx) = &self.tx else { return };
        let full = match self.config.overflow {
            Overflow::Wait if !self.stalled => match tx.send_timeout(line, WAIT_FOR_ROOM) {
                Ok(()) => false,
                Err(crossbeam_channel::SendTimeoutError::Timeout(_)) => {
                    self.stalled = true;
                    true
                }
                Err(crossbeam_channel::SendTimeoutError::Disconnected(_)) => true,
            },
            _ => match tx.try_send(line) {
                Ok(()) => {
                    self.stalled = false;
                    false
                }
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => true,
            },
        };
        if full {
            self.shared.overflow.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Sink for RedisSink {
    fn wants_lines(&self) -> bool {
        true
    }

    fn event(&mut self, _ev: &Event, line: Option<&[u8]>) -> io::Result<()> {
        if let Some(l) = line {
            self.queue(l.to_vec());
        }
        Ok(())
    }

    fn finish(&mut self) -> SinkStats {
        if let Some(s) = &self.finished {
            return s.clone();
        }
        // Closing the queue tells the thread to deliver what is left.
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let s = self.stats();
        self.finished = Some(s.clone());
        s
    }

    fn stats(&self) -> SinkStats {
        let sh = &self.shared;
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SinkStats {
            kind: "redis",
            target: self.config.target(),
            delivered: r(&sh.delivered),
            overflow: r(&sh.overflow),
            lost: r(&sh.lost),
            resent: r(&sh.resent),
            reconnects: r(&sh.reconnects),
            connected: sh.connected.load(Ordering::Relaxed),
            last_error: sh
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}

impl Drop for RedisSink {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A connection: the stream and a reader over it.
struct Conn {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

fn connect(server: &str) -> io::Result<Conn> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in server.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
            Ok(s) => {
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(IO_TIMEOUT))?;
                s.set_write_timeout(Some(IO_TIMEOUT))?;
                let reader = BufReader::new(s.try_clone()?);
                return Ok(Conn { writer: s, reader });
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A reply: fine, or an error reply from Redis.
enum Reply {
    Ok,
    Error(String),
}

impl Conn {
    /// Reads one reply (any type; nested arrays are read through).
    fn reply(&mut self) -> io::Result<Reply> {
        let mut line = Vec::new();
        (&mut self.reader)
            .take(MAX_REPLY_LINE as u64)
            .read_until(b'\n', &mut line)?;
        if line.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed by the server",
            ));
        }
        if line.last() != Some(&b'\n') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "reply line too long or cut",
            ));
        }
        let text = String::from_utf8_lossy(&line[..line.len().saturating_sub(2)]).into_owned();
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "not a RESP reply");
        let (kind, rest) = (
            text.as_bytes().first().copied(),
            text.get(1..).unwrap_or(""),
        );
        match kind {
            Some(b'+') | Some(b':') => Ok(Reply::Ok),
            Some(b'-') => Ok(Reply::Error(rest.to_string())),
            Some(b'$') => {
                let n: i64 = rest.parse().map_err(|_| bad())?;
                if n >= 0 {
                    let mut skip = vec![0; n as usize + 2];
                    self.reader.read_exact(&mut skip)?;
                }
                Ok(Reply::Ok)
            }
            Some(b'*') => {
                let n: i64 = rest.parse().map_err(|_| bad())?;
                for _ in 0..n.max(0) {
                    self.reply()?;
                }
                Ok(Reply::Ok)
            }
            _ => Err(bad()),
        }
    }
}

/// The sender thread's state.
struct Sender_ {
    config: RedisConfig,
    shared: Arc<Shared>,
    conn: Option<Conn>,
    backoff: Duration,
    buf: Vec<u8>,
}

impl Sender_ {
    fn new(config: RedisConfig, shared: Arc<Shared>, conn: Option<Conn>) -> Self {
        Sender_ {
            config,
            shared,
            conn,
            backoff: BACKOFF_FIRST,
            buf: Vec::new(),
        }
    }

    /// Empties the queue until it is closed and empty.
    fn run(mut self, rx: &Receiver<Vec<u8>>) {
        let mut batch: Vec<Vec<u8>> = Vec::with_capacity(BATCH_RECORDS);
        let mut closed = false;
        let mut drain_until: Option<Instant> = None;
        loop {
            if batch.is_empty() {
                if closed {
                    return;
                }
                match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(l) => batch.push(l),
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => {
                        closed = true;
                        continue;
                    }
                }
            }
            while batch.len() < BATCH_RECORDS {
                match rx.try_recv() {
                    Ok(l) => batch.push(l),
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                    Err(crossbeam_channel::TryRecvError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            }
            if closed && drain_until.is_none() {
                drain_until = Some(Instant::now() + self.config.drain_time);
            }
            match self.deliver(&mut batch) {
                Ok(()) => {}
                Err(()) => {
                    // Not delivered: wait, reconnect, send the batch again;
                    // on the way out, give up after the drain time.
                    if drain_until.is_some_and(|t| Instant::now() >= t) {
                        let rest = batch.len() + rx.try_iter().count();
                        self.shared.lost.fetch_add(rest as u64, Ordering::Relaxed);
                        return;
                    }
                    std::thread::sleep(self.backoff);
                    self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                    if let Ok(c) = connect(&self.config.server) {
                        self.conn = Some(c);
                        self.shared.connected.store(true, Ordering::Relaxed);
                        self.backoff = BACKOFF_FIRST;
                        if !batch.is_empty() {
                            self.shared
                                .resent
                                .fetch_add(batch.len() as u64, Ordering::Relaxed);
                        }
                    } else {
                        self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    /// Writes the batch in one go and reads its replies; what was delivered
    /// (or refused for good) leaves the batch. `Err` when the connection is
    /// missing or broke (it is then dropped), or when Redis answered that it
    /// cannot take records yet (`LOADING` after a restart, `BUSY`,
    /// `TRYAGAIN`, `MASTERDOWN`): those records stay to be sent again.
    fn deliver(&mut self, batch: &mut Vec<Vec<u8>>) -> Result<(), ()> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(());
        };
        self.buf.clear();
        for l in batch.iter() {
            self.config.command(l, &mut self.buf);
        }
        let mut refused = 0u64;
        let mut last_refusal = None;
        let mut again = Vec::new();
        let r = conn.writer.write_all(&self.buf).and_then(|()| {
            for i in 0..batch.len() {
                if let Reply::Error(e) = conn.reply()? {
                    if is_transient(&e) {
                        again.push(i);
                    } else {
                        refused += 1;
                    }
                    last_refusal = Some(e);
                }
            }
            Ok(())
        });
        match r {
            Ok(()) => {
                let n = batch.len() as u64;
                self.shared
                    .delivered
                    .fetch_add(n - refused - again.len() as u64, Ordering::Relaxed);
                if refused > 0 {
                    self.shared.lost.fetch_add(refused, Ordering::Relaxed);
                }
                if let Some(e) = last_refusal {
                    self.shared.error(format!("Redis refused a record: {e}"));
                }
                if again.is_empty() {
                    batch.clear();
                    return Ok(());
                }
                let mut i = 0;
                batch.retain(|_| {
                    let keep = again.binary_search(&i).is_ok();
                    i += 1;
                    keep
                });
                Err(())
            }
            Err(e) => {
                self.conn = None;
                self.shared.connected.store(false, Ordering::Relaxed);
                self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
                self.shared.error(e);
                Err(())
            }
        }
    }
}

/// Error replies that mean "not now" rather than "never": the record is
/// sent again, not counted lost.
fn is_transient(error: &str) -> bool {
    ["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN"]
        .iter()
        .any(|code| error.starts_with(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_as_suricata_writes_them() {
        let mut c = RedisConfig::default();
        let mut out = Vec::new();
        c.command(b"{\"a\":1}", &mut out);
        assert_eq!(
            out,
            b"*3\r\n$5\r\nLPUSH\r\n$8\r\nsuricata\r\n$7\r\n{\"a\":1}\r\n"
        );
        c.mode = RedisMode::parse("stream").unwrap();
        c.key = "k".into();
        out.clear();
        c.command(b"x", &mut out);
        assert_eq!(
            out,
            b"*8\r\n$4\r\nXADD\r\n$1\r\nk\r\n$6\r\nMAXLEN\r\n$1\r\n~\r\n$6\r\n100000\r\n$1\r\n*\r\n$3\r\neve\r\n$1\r\nx\r\n"
        );
        c.stream_maxlen = 0;
        out.clear();
        c.command(b"x", &mut out);
        assert_eq!(
            out,
            b"*5\r\n$4\r\nXADD\r\n$1\r\nk\r\n$1\r\n*\r\n$3\r\neve\r\n$1\r\nx\r\n"
        );
        for (name, mode) in [
            ("list", RedisMode::Lpush),
            ("lpush", RedisMode::Lpush),
            ("rpush", RedisMode::Rpush),
            ("channel", RedisMode::Publish),
            ("publish", RedisMode::Publish),
            ("xadd", RedisMode::Xadd),
        ] {
            assert_eq!(RedisMode::parse(name), Some(mode));
        }
        assert_eq!(RedisMode::parse("set"), None);
    }

    #[test]
    fn unreachable_server_counts_every_record() {
        // A port nothing listens on: bind one and close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = RedisConfig {
            server: format!("127.0.0.1:{port}"),
            queue: 4,
            drain_time: Duration::from_millis(300),
            ..RedisConfig::default()
        };
        assert!(RedisSink::start(config.clone(), true).is_err());
        let mut s = RedisSink::start(config, false).unwrap();
        for _ in 0..10 {
            s.queue(b"{}".to_vec());
        }
        let st = s.finish();
        assert_eq!(st.delivered, 0);
        assert_eq!(st.overflow + st.lost, 10, "{st:?}");
        assert!(st.overflow >= 6, "{st:?}");
    }
}
