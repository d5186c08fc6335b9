//! Prometheus metrics of a live capture (`sift live --metrics ADDR`): an
//! HTTP endpoint serving the text exposition format (version 0.0.4) at
//! `/metrics`, names and types after Prometheus' conventions (`sift_`
//! prefix, base units in the name, counters ending in `_total`).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `sift_packets_total`, `sift_bytes_total` | counter | |
//! | `sift_worker_packets_total` | counter | `worker` |
//! | `sift_kernel_dropped_packets_total`, `sift_interface_dropped_packets_total` | counter | |
//! | `sift_flows_active` | gauge | |
//! | `sift_flows_evicted_total` | counter | |
//! | `sift_flows_ended_total` | counter | `reason` |
//! | `sift_flow_verdicts_total` | counter | `app_proto` |
//! | `sift_findings_total` | counter | `kind` (vpn, obfuscation, ...), `label`, `confidence` |
//! | `sift_alerts_total` | counter | `signature_id`, `signature` |
//! | `sift_sink_delivered_records_total`, `sift_sink_dropped_records_total` | counter | `sink`, (`reason`: queue_full, lost) |
//! | `sift_sink_up` | gauge | `sink` |
//! | `process_resident_memory_bytes`, `process_start_time_seconds` | gauge | |
//!
//! The HTTP thread never reads the run's state itself: a scrape asks the
//! output thread (which holds the tallies and sees the workers' gauges)
//! for the text at its next tick, within 100 ms, and waits at most
//! [`SCRAPE_WAIT`] for it. Requests are read up to [`MAX_REQUEST`] bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::findings::findings;
use super::record::Event;
use super::sink::SinkStats;
use super::summary::FlowTally;

/// Longest a scrape waits for the output thread.
pub const SCRAPE_WAIT: Duration = Duration::from_secs(2);
/// Longest request head read.
pub const MAX_REQUEST: usize = 8192;
/// How often the HTTP thread looks at its stop flag.
const POLL: Duration = Duration::from_millis(100);

/// What the metrics count from events, beyond the summary's tally.
#[derive(Debug, Default)]
pub struct MetricsTally {
    /// (kind, label, confidence) → flows.
    findings: BTreeMap<(&'static str, String, &'static str), u64>,
    /// signature id → (alerts, message).
    alerts: BTreeMap<u32, (u64, String)>,
}

impl MetricsTally {
    pub fn event(&mut self, ev: &Event) {
        match ev {
            Event::Flow(r) => {
                if let Some(n) = r.names.as_deref() {
                    for f in findings(n) {
                        *self
                            .findings
                            .entry((f.kind, f.label, f.confidence.unwrap_or("")))
                            .or_default() += 1;
                    }
                }
            }
            Event::Alert(a) => {
                self.alerts
                    .entry(a.hit.id)
                    .or_insert_with(|| (0, a.hit.msg.clone()))
                    .0 += 1;
            }
        }
    }
}

/// The run's counters the output thread reads from the capture.
#[derive(Clone, Debug, Default)]
pub struct CaptureCounters {
    pub packets: u64,
    pub bytes: u64,
    pub kernel_drops: u64,
    pub iface_drops: u64,
    pub active_flows: u64,
    pub evicted: u64,
    pub per_worker: Vec<u64>,
    pub memory: Option<u64>,
    /// Unix time the capture started, in seconds.
    pub start_time: f64,
}

/// A label value with `\`, `"` and newlines escaped.
fn label(v: &str) -> String {
    let mut o = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

/// Writes the exposition text.
pub fn render(
    c: &CaptureCounters,
    flows: &FlowTally,
    tally: &MetricsTally,
    sinks: &[SinkStats],
) -> String {
    let mut o = String::new();
    let head = |o: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(o, "# HELP {name} {help}");
        let _ = writeln!(o, "# TYPE {name} {kind}");
    };
    head(
        &mut o,
        "sift_packets_total",
        "counter",
        "Packets read from the interfaces.",
    );
    let _ = writeln!(o, "sift_packets_total {}", c.packets);
    head(
        &mut o,
        "sift_bytes_total",
        "counter",
        "Bytes of the packets read (as on the wire).",
    );
    let _ = writeln!(o, "sift_bytes_total {}", c.bytes);
    head(
        &mut o,
        "sift_worker_packets_total",
        "counter",
        "Packets each worker processed.",
    );
    for (i, n) in c.per_worker.iter().enumerate() {
        let _ = writeln!(o, "sift_worker_packets_total{{worker=\"{i}\"}} {n}");
    }
    head(
        &mut o,
        "sift_kernel_dropped_packets_total",
        "counter",
        "Packets the kernel dropped because a capture ring was full.",
    );
    let _ = writeln!(o, "sift_kernel_dropped_packets_total {}", c.kernel_drops);
    head(
        &mut o,
        "sift_interface_dropped_packets_total",
        "counter",
        "Packets the interfaces dropped.",
    );
    let _ = writeln!(o, "sift_interface_dropped_packets_total {}", c.iface_drops);
    head(
        &mut o,
        "sift_flows_active",
        "gauge",
        "Flows held in the flow tables.",
    );
    let _ = writeln!(o, "sift_flows_active {}", c.active_flows);
    head(
        &mut o,
        "sift_flows_evicted_total",
        "counter",
        "Flows evicted to keep the flow tables within capacity.",
    );
    let _ = writeln!(o, "sift_flows_evicted_total {}", c.evicted);
    head(
        &mut o,
        "sift_flows_ended_total",
        "counter",
        "Flow records written, by end reason.",
    );
    for (reason, n) in &flows.by_reason.sorted() {
        let _ = writeln!(
            o,
            "sift_flows_ended_total{{reason=\"{}\"}} {n}",
            label(reason)
        );
    }
    head(
        &mut o,
        "sift_flow_verdicts_total",
        "counter",
        "Flow records written, by application protocol.",
    );
    for (app, n) in &flows.by_app.sorted() {
        let _ = writeln!(
            o,
            "sift_flow_verdicts_total{{app_proto=\"{}\"}} {n}",
            label(app)
        );
    }
    head(
        &mut o,
        "sift_findings_total",
        "counter",
        "Flow records with a finding that is not a protocol (VPN, obfuscation, evasion).",
    );
    for ((kind, l, conf), n) in &tally.findings {
        let _ = writeln!(
            o,
            "sift_findings_total{{kind=\"{kind}\",label=\"{}\",confidence=\"{conf}\"}} {n}",
            label(l)
        );
    }
    head(
        &mut o,
        "sift_alerts_total",
        "counter",
        "Alert events written, by rule.",
    );
    for (sid, (n, msg)) in &tally.alerts {
        let _ = writeln!(
            o,
            "sift_alerts_total{{signature_id=\"{sid}\",signature=\"{}\"}} {n}",
            label(msg)
        );
    }
    if !sinks.is_empty() {
        head(
            &mut o,
            "sift_sink_delivered_records_total",
            "counter",
            "Records a sink delivered (Redis: acknowledged; IPFIX: sent).",
        );
        for s in sinks {
            let _ = writeln!(
                o,
                "sift_sink_delivered_records_total{{sink=\"{}\"}} {}",
                s.kind, s.delivered
            );
        }
        head(
            &mut o,
            "sift_sink_dropped_records_total",
            "counter",
            "Records a sink did not deliver: queue_full, or lost (refused, or unreachable at the end).",
        );
        for s in sinks {
            let _ = writeln!(
                o,
                "sift_sink_dropped_records_total{{sink=\"{}\",reason=\"queue_full\"}} {}",
                s.kind, s.overflow
            );
            let _ = writeln!(
                o,
                "sift_sink_dropped_records_total{{sink=\"{}\",reason=\"lost\"}} {}",
                s.kind, s.lost
            );
        }
        head(
            &mut o,
            "sift_sink_up",
            "gauge",
            "1 when the sink's receiver is reachable.",
        );
        for s in sinks {
            let _ = writeln!(
                o,
                "sift_sink_up{{sink=\"{}\"}} {}",
                s.kind,
                u8::from(s.connected)
            );
        }
    }
    if let Some(m) = c.memory {
        head(
            &mut o,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
        );
        let _ = writeln!(o, "process_resident_memory_bytes {m}");
    }
    head(
        &mut o,
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
    );
    let _ = writeln!(o, "process_start_time_seconds {:.3}", c.start_time);
    o
}

/// The hand-over between the HTTP thread and the output thread.
#[derive(Default)]
struct Exchange {
    /// A scrape is waiting for text.
    wanted: AtomicBool,
    /// (generation, text).
    text: Mutex<(u64, String)>,
    ready: Condvar,
}

/// The HTTP endpoint: a thread that answers scrapes.
pub struct MetricsServer {
    addr: SocketAddr,
    exchange: Arc<Exchange>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Listens on `addr` (`127.0.0.1:9100`).
    pub fn start(addr: &str) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot listen for metrics on {addr}: {e}"),
            )
        })?;
        listener.set_nonblocking(true)?;
        let bound = listener.local_addr()?;
        let exchange = Arc::new(Exchange::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (exchange, stop) = (Arc::clone(&exchange), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("sift-metrics".into())
                .spawn(move || serve(&listener, &exchange, &stop))?
        };
        Ok(MetricsServer {
            addr: bound,
            exchange,
            stop,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// True when a scrape waits for [`Self::publish`].
    pub fn wanted(&self) -> bool {
        self.exchange.wanted.load(Ordering::Acquire)
    }

    /// Hands the text to the waiting scrape(s).
    pub fn publish(&self, text: String) {
        let mut t = self.exchange.text.lock().unwrap_or_else(|p| p.into_inner());
        *t = (t.0 + 1, text);
        self.exchange.wanted.store(false, Ordering::Release);
        self.exchange.ready.notify_all();
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: &TcpListener, exchange: &Exchange, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((s, _)) => {
                let _ = answer(s, exchange, stop);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// Reads one request and answers it; the connection closes after.
fn answer(mut s: TcpStream, exchange: &Exchange, stop: &AtomicBool) -> io::Result<()> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(SCRAPE_WAIT))?;
    s.set_write_timeout(Some(SCRAPE_WAIT))?;
    let mut req = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < MAX_REQUEST {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        req.extend_from_slice(&buf[..n]);
    }
    let line = req.split(|&b| b == b'\r').next().unwrap_or(&[]);
    let mut parts = line.split(|&b| b == b' ');
    let (method, path) = (parts.next().unwrap_or(&[]), parts.next().unwrap_or(&[]));
    let path = path.split(|&b| b == b'?').next().unwrap_or(&[]);
    if method != b"GET" && method != b"HEAD" {
        return reply(
            &mut s,
            "405 Method Not Allowed",
            "text/plain",
            b"GET /metrics\n",
            true,
        );
    }
    if path != b"/metrics" && path != b"/" {
        return reply(
            &mut s,
            "404 Not Found",
            "text/plain",
            b"see /metrics\n",
            true,
        );
    }
    // Ask the output thread and wait for its next tick.
    let text = {
        let mut t = exchange.text.lock().unwrap_or_else(|p| p.into_inner());
        let seen = t.0;
        exchange.wanted.store(true, Ordering::Release);
        let deadline = std::time::Instant::now() + SCRAPE_WAIT;
        while t.0 == seen && !stop.load(Ordering::Relaxed) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            t = exchange
                .ready
                .wait_timeout(t, left.min(POLL))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        (t.0 != seen).then(|| t.1.clone())
    };
    match text {
        Some(t) => reply(
            &mut s,
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            t.as_bytes(),
            method == b"GET",
        ),
        None => reply(
            &mut s,
            "503 Service Unavailable",
            "text/plain",
            b"busy\n",
            true,
        ),
    }
}

fn reply(
    s: &mut TcpStream,
    status: &str,
    kind: &str,
    body: &[u8],
    with_body: bool,
) -> io::Result<()> {
    write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if with_body {
        s.write_all(body)?;
    }
    s.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_types_and_escapes() {
        let mut flows = FlowTally::default();
        flows.by_app.add("tls", 3);
        flows.by_reason.add("timeout", 3);
        let mut tally = MetricsTally::default();
        tally.alerts.insert(7, (2, "say \"hi\"\\".to_string()));
        let c = CaptureCounters {
            packets: 10,
            per_worker: vec![4, 6],
            memory: Some(1000),
            ..CaptureCounters::default()
        };
        let t = render(&c, &flows, &tally, &[]);
        assert!(
            t.contains("# TYPE sift_packets_total counter\nsift_packets_total 10\n"),
            "{t}"
        );
        assert!(
            t.contains("sift_worker_packets_total{worker=\"1\"} 6\n"),
            "{t}"
        );
        assert!(
            t.contains("sift_flow_verdicts_total{app_proto=\"tls\"} 3\n"),
            "{t}"
        );
        assert!(
            t.contains(
                "sift_alerts_total{signature_id=\"7\",signature=\"say \\\"hi\\\"\\\\\"} 2\n"
            ),
            "{t}"
        );
        assert!(t.contains("# TYPE sift_flows_active gauge\n"), "{t}");
    }

    #[test]
    fn a_scrape_waits_for_the_output_thread() {
        let server = MetricsServer::start("127.0.0.1:0").unwrap();
        let addr = server.addr();
        let client = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        });
        while !server.wanted() {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.publish("sift_packets_total 1\n".into());
        let out = client.join().unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.ends_with("\r\n\r\nsift_packets_total 1\n"), "{out}");
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /other HTTP/1.1\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 404"), "{out}");
    }
}
