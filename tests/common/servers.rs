//! Real servers the sink tests start (installed by `.ci/setup`): Redis
//! with a small RESP client, and nfcapd. Each runs on a free port of the
//! loopback (or inside a network namespace), in a directory of its own,
//! and is stopped by its process id when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Panics, with what to do, when `program` is not installed.
pub fn require(program: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{program} is not installed: run `bash .ci/setup` (as root) first"
    );
}

/// A TCP port nothing listens on now.
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A UDP port nothing listens on now.
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh directory under the temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("sift-test-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Sends SIGTERM to `child` and waits for it (killing it after 10 s).
pub fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A redis-server of the test's own.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    dir: TempDir,
    /// `ip netns exec NAME` prefix, when it runs in a namespace.
    netns: Option<String>,
    /// Append-only file with fsync on every write: what it acknowledged
    /// survives a restart.
    persistent: bool,
}

impl Redis {
    /// Starts Redis on a free port of the loopback.
    pub fn start(persistent: bool) -> Redis {
        Self::start_in(None, free_tcp_port(), persistent)
    }

    /// Starts Redis inside network namespace `netns` (whose loopback must
    /// be up), on `port`.
    pub fn start_in(netns: Option<&str>, port: u16, persistent: bool) -> Redis {
        require("redis-server");
        let mut r = Redis {
            child: None,
            port,
            dir: TempDir::new("redis"),
            netns: netns.map(str::to_string),
            persistent,
        };
        r.restart();
        r
    }

    fn command(&self, program: &str) -> Command {
        match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, program]);
                c
            }
            None => Command::new(program),
        }
    }

    /// Starts the server (again, on the same port and data).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let port = self.port.to_string();
        let aof = if self.persistent { "yes" } else { "no" };
        let child = self
            .command("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", aof, "--appendfsync", "always"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let until = Instant::now() + Duration::from_secs(10);
        while self.cli(&["PING"]).trim() != "PONG" {
            assert!(Instant::now() < until, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (SIGTERM: it writes what it holds, and exits).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            terminate(&mut c);
        }
    }

    /// `redis-cli --raw` with `args`: its output.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self
            .command("redis-cli")
            .args(["-p", &self.port.to_string(), "--raw"])
            .args(args)
            .stderr(Stdio::null())
            .output()
            .expect("run redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A RESP connection (loopback servers only).
    pub fn connect(&self) -> Resp {
        assert!(self.netns.is_none());
        Resp::connect(self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A reply, as much of RESP as the tests need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Value>>),
}

impl Value {
    pub fn text(&self) -> String {
        match self {
            Value::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            Value::Status(s) | Value::Error(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            other => panic!("not text: {other:?}"),
        }
    }

    pub fn items(&self) -> &[Value] {
        match self {
            Value::Array(Some(v)) => v,
            Value::Array(None) => &[],
            other => panic!("not an array: {other:?}"),
        }
    }
}

/// A Redis connection.
pub struct Resp {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Resp {
    pub fn connect(port: u16) -> Resp {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Resp {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        }
    }

    pub fn send(&mut self, args: &[&str]) {
        let mut b = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            b.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            b.extend_from_slice(a.as_bytes());
            b.extend_from_slice(b"\r\n");
        }
        self.w.write_all(&b).unwrap();
    }

    pub fn read(&mut self) -> Value {
        let mut line = String::new();
        self.r.read_line(&mut line).expect("read reply");
        let (kind, rest) = line.trim_end().split_at(1);
        match kind {
            "+" => Value::Status(rest.to_string()),
            "-" => Value::Error(rest.to_string()),
            ":" => Value::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Value::Bulk(None);
                }
                let mut b = vec![0; n as usize + 2];
                self.r.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                Value::Bulk(Some(b))
            }
            "*" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Value::Array(None);
                }
                Value::Array(Some((0..n).map(|_| self.read()).collect()))
            }
            other => panic!("bad reply {other:?}{rest}"),
        }
    }

    pub fn call(&mut self, args: &[&str]) -> Value {
        self.send(args);
        self.read()
    }
}

/// nfcapd collecting IPFIX on a free UDP port of the loopback.
pub struct Nfcapd {
    child: Option<Child>,
    pub port: u16,
    pub dir: TempDir,
}

impl Nfcapd {
    pub fn start() -> Nfcapd {
        require("nfcapd");
        require("nfdump");
        let port = free_udp_port();
        let dir = TempDir::new("nfcapd");
        let child = Command::new("nfcapd")
            .args([
                "-b",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-t",
                "3600",
                "-w",
            ])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nfcapd");
        // It is ready when its port is taken.
        let until = Instant::now() + Duration::from_secs(10);
        while UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            assert!(Instant::now() < until, "nfcapd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Nfcapd {
            child: Some(child),
            port,
            dir,
        }
    }

    /// Stops the collector (it writes its file) and returns every flow
    /// nfdump reads back, as JSON objects.
    pub fn flows(&mut self) -> Vec<serde_json::Value> {
        // Let the last datagrams in.
        std::thread::sleep(Duration::from_millis(300));
        if let Some(mut c) = self.child.take() {
            terminate(&mut c);
        }
        let out = Command::new("nfdump")
            .arg("-R")
            .arg(self.dir.path())
            .args(["-o", "json"])
            .env("TZ", "UTC")
            .output()
            .expect("run nfdump");
        assert!(
            out.status.success(),
            "nfdump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "nfdump -o json: {e}: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        v.as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Nfcapd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            terminate(&mut c);
        }
    }
}
