//! Where results go, checked end to end against the real programs
//! (`.ci/setup` installs them): every EVE record of `sift analyze` in
//! Redis in each of Suricata's modes, two sensors into one stream read by a
//! consumer group; nfcapd/nfdump reading back every flow of an IPFIX export
//! with its counters, and sift's enterprise elements on the wire; the HTML
//! report rendered by headless Chromium with the summary's numbers.
//! (`sift live` into Redis across a restart, and its Prometheus metrics:
//! tests/live.rs.)

mod common;

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use common::servers::{require, Nfcapd, Redis, TempDir, Value};
use common::*;

/// Captures with TCP, UDP, ICMPv6, IPv4 and IPv6, DNS/HTTP/TLS and VPNs.
fn captures() -> Vec<String> {
    [
        "captures/sample.pcap",
        "captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap",
        "captures/vpn/wireguard-udp-51820.pcap",
        "captures/vpn/ipsec-ikev2-natt.pcap",
        "captures/vpn/openvpn-tcp-443-tlsauth.pcap",
    ]
    .iter()
    .map(|c| project_file(c).display().to_string())
    .collect()
}

/// `sift analyze` of the captures with EVE to a file and `extra` flags;
/// returns the EVE lines and stdout (the summary).
fn analyze_with(extra: &[&str]) -> (Vec<String>, String) {
    let eve = TempFile::new("eve.json", b"");
    let mut args: Vec<String> = vec!["analyze".into(), "--merge".into()];
    args.extend(captures());
    args.extend(["--rules", "rules/default.rules", "--format", "json", "-o"].map(String::from));
    args.push(eve.path().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = Command::new(env!("CARGO_BIN_EXE_sift"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(&args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = std::fs::read_to_string(&eve.0)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    (lines, text(&out.stdout))
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn redis_list_rpush_and_stream_hold_every_record() {
    let redis = Redis::start(false);
    let server = format!("127.0.0.1:{}", redis.port);
    let mut c = redis.connect();
    for mode in ["list", "rpush", "stream"] {
        let key = format!("sift-{mode}");
        let (lines, summary) = analyze_with(&[
            "--redis",
            &server,
            "--redis-mode",
            mode,
            "--redis-key",
            &key,
        ]);
        assert!(lines.len() > 30, "{}", lines.len());
        let want = format!(
            "{} records delivered, 0 dropped (queue full), 0 lost",
            lines.len()
        );
        assert!(summary.contains(&want), "{summary}");
        let got: Vec<String> = match mode {
            "stream" => c
                .call(&["XRANGE", &key, "-", "+"])
                .items()
                .iter()
                .map(|e| {
                    let fields = e.items()[1].items();
                    assert_eq!(fields[0].text(), "eve", "Suricata's field name");
                    fields[1].text()
                })
                .collect(),
            _ => c
                .call(&["LRANGE", &key, "0", "-1"])
                .items()
                .iter()
                .map(Value::text)
                .collect(),
        };
        match mode {
            // LPUSH: newest first.
            "list" => assert_eq!(got.iter().rev().cloned().collect::<Vec<_>>(), lines),
            _ => assert_eq!(got, lines, "{mode}: records in order"),
        }
    }
}

#[test]
fn redis_channel_reaches_a_subscriber() {
    let redis = Redis::start(false);
    let mut sub = redis.connect();
    sub.call(&["SUBSCRIBE", "sift-events"]);
    let (lines, _) = analyze_with(&[
        "--redis",
        &format!("127.0.0.1:{}", redis.port),
        "--redis-mode",
        "channel",
        "--redis-key",
        "sift-events",
    ]);
    let got: Vec<String> = (0..lines.len())
        .map(|_| {
            let m = sub.read();
            assert_eq!(m.items()[0].text(), "message");
            m.items()[2].text()
        })
        .collect();
    assert_eq!(got, lines);
}

#[test]
fn two_sensors_into_one_stream_read_by_a_consumer_group() {
    let redis = Redis::start(false);
    let server = format!("127.0.0.1:{}", redis.port);
    let caps = captures();
    let run = |capture: &str, eve: &TempFile| {
        Command::new(env!("CARGO_BIN_EXE_sift"))
            .args([
                "analyze",
                capture,
                "-q",
                "--format",
                "json",
                "-o",
                eve.path(),
            ])
            .args([
                "--redis",
                &server,
                "--redis-mode",
                "xadd",
                "--redis-key",
                "sensors",
            ])
            .spawn()
            .unwrap()
    };
    let (e1, e2) = (TempFile::new("a.json", b""), TempFile::new("b.json", b""));
    let (mut a, mut b) = (run(&caps[0], &e1), run(&caps[1], &e2));
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    let mut want: Vec<String> = Vec::new();
    for e in [&e1, &e2] {
        want.extend(
            std::fs::read_to_string(&e.0)
                .unwrap()
                .lines()
                .map(str::to_string),
        );
    }
    let mut c = redis.connect();
    assert_eq!(
        c.call(&["XGROUP", "CREATE", "sensors", "readers", "0"])
            .text(),
        "OK"
    );
    let mut got = Vec::new();
    loop {
        let r = c.call(&[
            "XREADGROUP",
            "GROUP",
            "readers",
            "r1",
            "COUNT",
            "7",
            "STREAMS",
            "sensors",
            ">",
        ]);
        let Value::Array(Some(streams)) = r else {
            break;
        };
        for e in streams[0].items()[1].items() {
            got.push(e.items()[1].items()[1].text());
            c.call(&["XACK", "sensors", "readers", &e.items()[0].text()]);
        }
    }
    assert_eq!(sorted(got), sorted(want));
}

#[test]
fn an_unreachable_redis_fails_analyze_at_once() {
    let port = common::servers::free_tcp_port();
    let out = sift([
        "analyze",
        &captures()[0],
        "--redis",
        &format!("127.0.0.1:{port}"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot connect to Redis at 127.0.0.1:"),
        "{err}"
    );
}

/// The EVE records' 5-tuples and counters as nfdump shows flows.
fn nf_key(proto: u64, src: &str, sport: u64, dst: &str, dport: u64, c: [u64; 4]) -> String {
    format!(
        "{proto} {src}:{sport} -> {dst}:{dport} pkts {}/{} bytes {}/{}",
        c[0], c[1], c[2], c[3]
    )
}

fn proto_number(p: &str) -> u64 {
    match p {
        "TCP" => 6,
        "UDP" => 17,
        "ICMP" => 1,
        "IPv6-ICMP" => 58,
        "ESP" => 50,
        "AH" => 51,
        other => other.parse().unwrap_or_else(|_| panic!("protocol {other}")),
    }
}

#[test]
fn nfdump_reads_back_every_flow_with_its_counters() {
    for interval in ["60", "0"] {
        let mut nf = Nfcapd::start();
        let (lines, summary) = analyze_with(&[
            "--ipfix",
            &format!("127.0.0.1:{}", nf.port),
            "--ipfix-template-interval",
            interval,
        ]);
        let records: Vec<serde_json::Value> = eve(lines.join("\n").as_bytes())
            .into_iter()
            .filter(|r| r["event_type"] == "flow")
            .collect();
        assert!(
            summary.contains(&format!("{} records delivered", records.len())),
            "{summary}"
        );
        let want: Vec<String> = records
            .iter()
            .map(|r| {
                let f = &r["flow"];
                let has_ports = r["src_port"].is_u64();
                nf_key(
                    proto_number(r["proto"].as_str().unwrap()),
                    r["src_ip"].as_str().unwrap(),
                    if has_ports {
                        r["src_port"].as_u64().unwrap()
                    } else {
                        0
                    },
                    r["dest_ip"].as_str().unwrap(),
                    if has_ports {
                        r["dest_port"].as_u64().unwrap()
                    } else {
                        0
                    },
                    [
                        "pkts_toserver",
                        "pkts_toclient",
                        "bytes_toserver",
                        "bytes_toclient",
                    ]
                    .map(|k| f[k].as_u64().unwrap()),
                )
            })
            .collect();
        let flows = nf.flows();
        let got: Vec<String> = flows
            .iter()
            .map(|f| {
                let addr = |k: &str| {
                    f[format!("{k}4_addr")]
                        .as_str()
                        .or(f[format!("{k}6_addr")].as_str())
                        .unwrap()
                        .to_string()
                };
                let icmp = matches!(f["proto"].as_u64(), Some(1 | 58));
                let port = |k: &str| if icmp { 0 } else { f[k].as_u64().unwrap() };
                nf_key(
                    f["proto"].as_u64().unwrap(),
                    &addr("src"),
                    port("src_port"),
                    &addr("dst"),
                    port("dst_port"),
                    ["in_packets", "out_packets", "in_bytes", "out_bytes"]
                        .map(|k| f[k].as_u64().unwrap()),
                )
            })
            .collect();
        assert_eq!(sorted(got), sorted(want), "template interval {interval}");
        // Times: milliseconds of the EVE start.
        let firsts: Vec<String> = flows
            .iter()
            .map(|f| f["first"].as_str().unwrap().to_string())
            .collect();
        for r in &records {
            let start = r["flow"]["start"].as_str().unwrap();
            assert!(
                firsts.iter().any(|f| start.starts_with(f.as_str())),
                "{start} not in {firsts:?}"
            );
        }
    }
}

/// IPFIX as RFC 7011 lays it out, read by the test itself: the template's
/// fields, and each data record's fields by (enterprise, id).
struct Ipfix {
    templates: BTreeMap<u16, Vec<(u32, u16, u16)>>,
    records: Vec<BTreeMap<(u32, u16), Vec<u8>>>,
    sequence_ok: bool,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn read_ipfix(messages: &[Vec<u8>]) -> Ipfix {
    let mut x = Ipfix {
        templates: BTreeMap::new(),
        records: Vec::new(),
        sequence_ok: true,
    };
    let mut next_seq = 0;
    for m in messages {
        assert_eq!(be16(m, 0), 10, "version");
        assert_eq!(be16(m, 2) as usize, m.len(), "message length");
        x.sequence_ok &= be32(m, 8) == next_seq;
        let mut at = 16;
        while at < m.len() {
            let (id, len) = (be16(m, at), be16(m, at + 2) as usize);
            let end = at + len;
            let mut p = at + 4;
            if id == 2 {
                while p < end {
                    let (tid, n) = (be16(m, p), be16(m, p + 2));
                    p += 4;
                    let mut fields = Vec::new();
                    for _ in 0..n {
                        let (ie, flen) = (be16(m, p), be16(m, p + 2));
                        p += 4;
                        let pen = if ie & 0x8000 != 0 {
                            p += 4;
                            be32(m, p - 4)
                        } else {
                            0
                        };
                        fields.push((pen, ie & 0x7fff, flen));
                    }
                    x.templates.insert(tid, fields);
                }
            } else {
                let fields = x.templates[&id].clone();
                while p < end {
                    let mut rec = BTreeMap::new();
                    for &(pen, ie, flen) in &fields {
                        let n = if flen == 65535 {
                            let l = m[p] as usize;
                            p += 1;
                            if l == 255 {
                                p += 2;
                                be16(m, p - 2) as usize
                            } else {
                                l
                            }
                        } else {
                            flen as usize
                        };
                        rec.insert((pen, ie), m[p..p + n].to_vec());
                        p += n;
                    }
                    x.records.push(rec);
                    next_seq += 1;
                }
            }
            at = end;
        }
    }
    x
}

#[test]
fn ipfix_carries_application_names_and_sifts_elements() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    let (lines, _) = analyze_with(&["--ipfix", &addr, "--ipfix-pen", "4242"]);
    let mut messages = Vec::new();
    let mut buf = [0u8; 65536];
    while let Ok(n) = sock.recv(&mut buf) {
        assert!(n <= 1400, "message of {n} bytes");
        messages.push(buf[..n].to_vec());
    }
    let x = read_ipfix(&messages);
    assert!(x.sequence_ok, "sequence numbers count data records");
    let t = &x.templates[&256];
    assert!(t.contains(&(4242, 1, 65535)), "siftServerName: {t:?}");
    assert!(t.contains(&(29305, 1, 8)), "reverseOctetDeltaCount: {t:?}");
    assert!(t.contains(&(0, 96, 65535)), "applicationName: {t:?}");
    let records: Vec<serde_json::Value> = eve(lines.join("\n").as_bytes())
        .into_iter()
        .filter(|r| r["event_type"] == "flow")
        .collect();
    assert_eq!(x.records.len(), records.len());
    let s = |r: &BTreeMap<(u32, u16), Vec<u8>>, k: (u32, u16)| {
        String::from_utf8(r[&k].clone()).unwrap()
    };
    let by_id: BTreeMap<u64, &BTreeMap<(u32, u16), Vec<u8>>> = x
        .records
        .iter()
        .map(|r| {
            (
                u64::from_be_bytes(r[&(4242, 10)].clone().try_into().unwrap()),
                r,
            )
        })
        .collect();
    let mut vpns = 0;
    for r in &records {
        let got = by_id[&r["flow_id"].as_u64().unwrap()];
        let app = r["app_proto"].as_str().unwrap();
        assert_eq!(s(got, (0, 96)), if app == "unknown" { "" } else { app });
        let name = server_name(r);
        assert_eq!(
            s(got, (4242, 1)),
            if name == "-" { "" } else { &name },
            "{r}"
        );
        let vpn = r["vpn"]["protocol"].as_str().unwrap_or("");
        assert_eq!(s(got, (4242, 2)), vpn);
        assert_eq!(
            s(got, (4242, 3)),
            r["vpn"]["confidence"].as_str().unwrap_or("")
        );
        assert_eq!(
            s(got, (4242, 8)),
            r["verdict"]["action"].as_str().unwrap_or("")
        );
        vpns += usize::from(!vpn.is_empty());
        if app != "unknown" {
            let id = &got[&(0, 95)];
            assert_eq!(
                (id[0], &id[1..5]),
                (20, &4242u32.to_be_bytes()[..]),
                "PANA-L7-PEN"
            );
        }
    }
    assert!(vpns >= 4, "{vpns} VPN flows");
}

/// The value of `attr` in the element with id `id` of `dom`.
fn attr_of(dom: &str, id: &str, attr: &str) -> String {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let tag_start = dom[..at].rfind('<').unwrap();
    let tag = &dom[tag_start..tag_start + dom[tag_start..].find('>').unwrap()];
    let key = format!("{attr}=\"");
    let v = &tag[tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {attr} in {tag}"))
        + key.len()..];
    v[..v.find('"').unwrap()].to_string()
}

/// The DOM of `page` after its scripts ran, from headless Chromium.
fn rendered(page: &std::path::Path) -> String {
    require("chromium");
    let profile = TempDir::new("chromium");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-extensions",
            "--no-first-run",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium: {}", text(&out.stderr));
    text(&out.stdout)
}

/// "dns 5, http 5" from the summary line starting with `label`.
fn summary_tally(summary: &str, label: &str) -> BTreeMap<String, u64> {
    let line = summary
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in {summary}"));
    line.split(", ")
        .map(|kv| {
            let (k, v) = kv.trim().rsplit_once(' ').unwrap();
            (k.to_string(), v.replace(',', "").parse().unwrap())
        })
        .collect()
}

fn summary_number(summary: &str, label: &str) -> u64 {
    let l = summary
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap();
    l.split_whitespace()
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap()
}

#[test]
fn report_in_chromium_shows_the_summarys_numbers() {
    let dir = TempDir::new("report");
    let page = dir.path().join("report.html");
    let (lines, summary) = analyze_with(&["--report", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    // Nothing to fetch: a CSP forbidding requests, no external references.
    assert!(html.contains("content=\"default-src 'none';"));
    for needle in ["src=\"", "href=\"", "url(", "@import"] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
    let dom = rendered(&page);
    let flows = summary_number(&summary, "flows");
    assert_eq!(attr_of(&dom, "sum-flows", "data-value"), flows.to_string());
    assert_eq!(
        attr_of(&dom, "sum-packets", "data-value"),
        summary_number(&summary, "packets").to_string()
    );
    for (app, n) in summary_tally(&summary, "by app_proto:") {
        let row =
            format!("<tr data-app=\"{app}\"><td>{app}</td><td class=\"n\" data-flows=\"{n}\">");
        assert!(dom.contains(&row), "{app} {n} not in the page");
    }
    // The script ran: the table lists every flow, 50 to a page.
    assert_eq!(attr_of(&dom, "flow-count", "data-rows"), flows.to_string());
    assert_eq!(
        dom.matches("<tr class=\"row\">").count(),
        flows.min(50) as usize
    );
    assert!(dom.contains("id=\"findings\"") && dom.contains(">vpn</tspan> openvpn (high)"));
    // The same numbers from the EVE records.
    let eve_file = dir.path().join("eve.json");
    std::fs::write(&eve_file, lines.join("\n") + "\n").unwrap();
    let page2 = dir.path().join("from-eve.html");
    let out = sift([
        "report",
        eve_file.to_str().unwrap(),
        "-o",
        page2.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dom2 = rendered(&page2);
    assert_eq!(attr_of(&dom2, "sum-flows", "data-value"), flows.to_string());
    assert_eq!(
        attr_of(&dom2, "sum-flow-packets", "data-value"),
        attr_of(&dom, "sum-flow-packets", "data-value")
    );
    assert_eq!(attr_of(&dom2, "flow-count", "data-rows"), flows.to_string());
}

#[test]
fn report_table_is_bounded() {
    let dir = TempDir::new("report-rows");
    let page = dir.path().join("r.html");
    let mut args = vec!["report".to_string(), "--merge".into()];
    args.extend(captures());
    args.extend(["--rules", "rules/default.rules", "--rows", "10", "-o"].map(String::from));
    args.push(page.display().to_string());
    let out = Command::new(env!("CARGO_BIN_EXE_sift"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(&args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(attr_of(&html, "table-note", "data-shown"), "10");
    let total: u64 = attr_of(&html, "table-note", "data-total").parse().unwrap();
    assert!(total > 10);
    assert_eq!(attr_of(&html, "sum-flows", "data-value"), total.to_string());
}
