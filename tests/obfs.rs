//! Fully-encrypted traffic and proxies (issue 15): the recordings of
//! captures/obfs, the nDPI corpus (false positives, each explained in
//! tests/ndpi/fully_encrypted_differences.csv), and random payloads that
//! must never get a named protocol.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use common::pcap::{Frame, PSH_ACK, SYN};
use common::*;

fn records(path: &str) -> Vec<serde_json::Value> {
    let out = sift(["analyze", "--format", "json", "-q", path]);
    assert!(out.status.success(), "{path}: {}", text(&out.stderr));
    eve(&out.stdout)
        .into_iter()
        .filter(|r| r["event_type"] == "flow")
        .collect()
}

/// The labels of captures/obfs whose flows are fully encrypted, with the
/// suspect each must name.
const FULLY_ENCRYPTED: [(&str, &str); 6] = [
    ("shadowsocks-aead", "shadowsocks"),
    ("shadowsocks-2022", "shadowsocks-2022"),
    ("vmess", "vmess"),
    ("obfs4", "obfs4"),
    ("hysteria2-salamander", "hysteria2-salamander"),
    ("mtproxy-secret", "mtproxy"),
];

/// Labels whose flows carry a protocol's framing from the first byte:
/// never flagged.
const NOT_FULLY_ENCRYPTED: [&str; 7] = [
    "shadowsocks-simple-obfs-http",
    "shadowsocks-simple-obfs-tls",
    "shadowsocks-v2ray-ws",
    "hysteria2",
    "tuic",
    "trojan-plain",
    "vless-plain",
];

/// Every flow of captures/obfs/expected.csv: the fully-encrypted ones
/// flagged (≥ 95 % per label and transport; 100 % in this recording),
/// with their suspect named; the framed ones not; random bytes flagged
/// and never named.
#[test]
fn recorded_obfuscated_proxies() {
    let csv = std::fs::read_to_string(project_file("captures/obfs/expected.csv")).unwrap();
    let mut by_capture: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    // (label, transport) -> (flows, flagged, suspect named)
    let mut tally: BTreeMap<(String, String), (u32, u32, u32)> = BTreeMap::new();
    let mut mtproto = 0;
    let mut plain = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.splitn(8, ',').collect();
        let (capture, transport, client_port, server_port, label) = (
            f[0],
            f[1],
            f[3].parse::<u64>().unwrap(),
            f[5].parse::<u64>().unwrap(),
            f[6],
        );
        let recs = by_capture.entry(capture.to_string()).or_insert_with(|| {
            records(
                project_file(&format!("captures/obfs/{capture}"))
                    .to_str()
                    .unwrap(),
            )
        });
        let r = recs
            .iter()
            .find(|r| {
                r["proto"].as_str() == Some(&transport.to_uppercase())
                    && r["src_port"] == client_port
                    && r["dest_port"] == server_port
            })
            .unwrap_or_else(|| {
                panic!("{capture}: no {transport} flow {client_port} -> {server_port}")
            });
        let o = &r["obfuscation"];
        let flagged = o["class"] == "fully_encrypted";
        if let Some((_, suspect)) = FULLY_ENCRYPTED.iter().find(|(l, _)| *l == label) {
            let t = tally
                .entry((label.to_string(), transport.to_string()))
                .or_default();
            t.0 += 1;
            t.1 += u32::from(flagged);
            let named = o["suspects"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s == suspect));
            t.2 += u32::from(named);
            if flagged {
                assert_eq!(r["app_proto"], "unknown", "{capture}: {r}");
                assert!(o["evidence"].as_array().is_some_and(|e| !e.is_empty()));
                assert!(o["features"]["popcount_per_byte"].is_string());
            }
        } else if NOT_FULLY_ENCRYPTED.contains(&label) {
            assert!(!flagged, "{capture} ({label}) flagged: {r}");
            // Trojan and VLESS without TLS: recognised outright.
            if let Some(proto) = label.strip_suffix("-plain") {
                assert_eq!(r["app_proto"], proto, "{capture}: {r}");
                plain += 1;
            }
        } else if label.starts_with("mtproto-") {
            // Every MTProto transport, plain or obfuscated2: a definite verdict.
            assert_eq!(r["app_proto"], "mtproto", "{capture}: {r}");
            assert!(!flagged, "{capture}: {r}");
            let words = r["sift"]["evidence"][0]["what"].as_str().unwrap_or("");
            let transport = label.rsplit('-').next().unwrap();
            assert!(words.contains(transport), "{capture}: {words}");
            assert_eq!(
                label.contains("obfuscated2"),
                words.contains("obfuscated2 opening"),
                "{capture}: {words}"
            );
            mtproto += 1;
        } else if label == "random" {
            assert!(flagged, "{capture}: random bytes not flagged: {r}");
            assert_eq!(r["app_proto"], "unknown", "{capture}: {r}");
        }
    }
    for ((label, transport), (flows, flagged, named)) in &tally {
        eprintln!("{label} {transport}: {flagged}/{flows} flagged fully encrypted, suspect named on {named}");
        assert!(flagged * 100 >= flows * 95, "{label} {transport}");
        assert_eq!(named, flagged, "{label} {transport}: suspect missing");
    }
    assert_eq!(tally.values().map(|t| t.0).sum::<u32>(), 54);
    eprintln!("MTProto transports decided mtproto: {mtproto}/18");
    assert_eq!(mtproto, 18);
    eprintln!("Trojan and VLESS without TLS recognised: {plain}/8");
    assert_eq!(plain, 8);
}

/// The TLS, QUIC, HTTP, SSH and DNS flows of the nDPI corpus: at most 1 %
/// flagged fully encrypted, every one listed with its reason in
/// tests/ndpi/fully_encrypted_differences.csv.
#[test]
fn ndpi_corpus_false_positives() {
    let corpus = ndpi_corpus();
    let mut args: Vec<String> = vec![
        "analyze".into(),
        "-q".into(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(ndpi_captures().iter().map(|p| p.display().to_string()));
    let out = sift(&args);
    assert!(out.status.success());
    let mut flagged: HashMap<FlowKey, String> = HashMap::new();
    // Flows given one of this protocols.
    let mut named: Vec<(FlowKey, String)> = Vec::new();
    for r in eve(&out.stdout) {
        if r["event_type"] != "flow" {
            continue;
        }
        let app = r["app_proto"].as_str().unwrap();
        if ["mtproto", "vless", "trojan"].contains(&app) {
            named.push((eve_flow_key(&r), app.to_string()));
        }
        if r["obfuscation"]["class"] != "fully_encrypted" {
            continue;
        }
        flagged.insert(eve_flow_key(&r), app.to_string());
    }
    let csv = std::fs::read_to_string(corpus.join("expected.csv")).unwrap();
    let (mut total, mut differences) = (0u32, BTreeSet::new());
    let mut ndpi: HashMap<FlowKey, String> = HashMap::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let key = expected_flow_key(&f);
        ndpi.insert(key.clone(), f[7].to_string());
        if !["tls", "quic", "http", "ssh", "dns"].contains(&f[8]) {
            continue;
        }
        total += 1;
        if let Some(app) = flagged.get(&key) {
            assert_eq!(app, "unknown", "{line}: flagged and named");
            differences.insert(format!(
                "{},{},{},{},{},{}",
                f[0], f[1], f[2], f[3], f[4], f[5]
            ));
        }
    }
    eprintln!(
        "nDPI TLS/QUIC/HTTP/SSH/DNS flows flagged fully encrypted: {}/{total}",
        differences.len()
    );
    assert!(total > 2500, "{total}");
    assert!(differences.len() as u32 * 100 <= total, "more than 1 %");
    assert_differences_listed("fully_encrypted_differences.csv", 6, &differences);
    // MTProto only where nDPI says Telegram (every Telegram TCP flow of the
    // corpus that carries payload: 7); no VLESS or Trojan in the corpus.
    for (key, app) in &named {
        assert_eq!(app, "mtproto", "{key:?}");
        assert_eq!(
            ndpi.get(key).map(String::as_str),
            Some("Telegram"),
            "{key:?}"
        );
    }
    eprintln!("nDPI Telegram TCP flows decided mtproto: {}", named.len());
    assert_eq!(named.len(), 7);
}

/// 10,000 flows of random payloads, TCP and UDP, to 443, 53, 1194, 51820,
/// 8388 and random ports: no named protocol on any (the fully-encrypted
/// flag on most of them is right).
#[test]
fn random_payloads_get_no_named_protocol() {
    let mut rng = Rng(0x0b5f_0ca7_ed00_1234);
    let mut frames = Vec::new();
    let ports = [443u16, 53, 1194, 51820, 8388, 0];
    let mut flows = 0u32;
    for k in 0..10_000u32 {
        let tcp = k % 2 == 0;
        let port = match ports[(k / 2) as usize % ports.len()] {
            0 => 1024 + (rng.next() % 60_000) as u16,
            p => p,
        };
        let client = (
            [
                10,
                90 + (k / 60_000) as u8,
                (k / 250 % 240) as u8,
                (k % 250) as u8 + 1,
            ],
            20_000 + (k % 40_000) as u16,
        );
        let server = ([10, 99, (k % 200) as u8, 1], port);
        let mut seq = [rng.next() as u32, rng.next() as u32];
        if tcp {
            frames.push(Frame {
                src: client,
                dst: server,
                tcp: Some((seq[0], SYN)),
                payload: vec![],
            });
            seq[0] = seq[0].wrapping_add(1);
        }
        for i in 0..3 {
            let len = 40 + (rng.next() % 1300) as usize;
            let (src, dst, s) = if i == 1 {
                (server, client, 1)
            } else {
                (client, server, 0)
            };
            let tcp_hdr = tcp.then(|| (seq[s], PSH_ACK));
            seq[s] = seq[s].wrapping_add(len as u32);
            frames.push(Frame {
                src,
                dst,
                tcp: tcp_hdr,
                payload: rng.bytes(len),
            });
        }
        flows += 1;
    }
    let f = TempFile::new("random-10000.pcap", &pcap::file(&frames));
    let recs = records(f.path());
    assert_eq!(recs.len() as u32, flows);
    let named: Vec<_> = recs
        .iter()
        .filter(|r| r["app_proto"] != "unknown")
        .collect();
    assert!(
        named.is_empty(),
        "{} random flows named, e.g. {:#?}",
        named.len(),
        named.first()
    );
    let flagged = recs
        .iter()
        .filter(|r| r["obfuscation"]["class"] == "fully_encrypted")
        .count();
    eprintln!("random flows flagged fully encrypted: {flagged}/{flows}");
    assert!(flagged * 100 >= flows as usize * 95, "{flagged}");
}

/// The default rules alert on fully-encrypted flows (by the `obfuscation`
/// condition), MTProto and the plain proxies; `obfuscation.suspect`
/// matches a suspect the finding names.
#[test]
fn rules_on_obfuscation() {
    let rules = project_file("rules/default.rules");
    let extra = TempFile::new(
        "obfs.rules",
        format!(
            "include \"{}\"\nalert 60 \"VMess suspected\" priority 1 {{ obfuscation.suspect vmess; transport tcp }}\n",
            rules.display()
        )
        .as_bytes(),
    );
    let caps = [
        "vmess-auto-10086.pcap",
        "mtproto-padded.pcap",
        "trojan-plain-8080.pcap",
        "ss2022-aes-128-gcm-8388.pcap",
    ];
    let mut args: Vec<String> = vec![
        "analyze".into(),
        "--format".into(),
        "json".into(),
        "--no-rules-cache".into(),
        "--rules".into(),
        extra.path().into(),
    ];
    args.extend(caps.iter().map(|c| {
        project_file(&format!("captures/obfs/{c}"))
            .display()
            .to_string()
    }));
    let out = sift(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events = eve(&out.stdout);
    let mut by_sid: BTreeMap<u64, u32> = BTreeMap::new();
    for a in events.iter().filter(|e| e["event_type"] == "alert") {
        *by_sid
            .entry(a["alert"]["signature_id"].as_u64().unwrap())
            .or_default() += 1;
        if a["alert"]["signature_id"] == 1101 {
            assert_eq!(a["sift"]["matched"][0]["condition"], "obfuscation");
            assert_eq!(a["sift"]["matched"][0]["value"], "fully_encrypted");
        }
        if a["alert"]["signature_id"] == 60 {
            assert_eq!(a["sift"]["matched"][0]["condition"], "obfuscation.suspect");
            assert_eq!(a["sift"]["matched"][0]["value"], "vmess");
        }
    }
    // 4 VMess + 5 SS-2022 flows fully encrypted; 3 MTProto; 4 Trojan.
    assert_eq!(by_sid.get(&1101), Some(&9), "{by_sid:?}");
    assert_eq!(by_sid.get(&1110), Some(&3), "{by_sid:?}");
    assert_eq!(by_sid.get(&1111), Some(&4), "{by_sid:?}");
    // VMess's 38-byte reply: every VMess flow; SS-2022 TCP flows fit its sizes too.
    assert!(by_sid.get(&60).is_some_and(|n| *n >= 4), "{by_sid:?}");
}

/// Random bytes behind a TLS record header or an HTTP method (what a
/// censor's prefix exemption lets through): flagged, with the forged
/// prefix named, and no protocol.
#[test]
fn forged_prefixes_are_seen_through() {
    let mut rng = Rng(0xf0_7ced);
    let mut frames = Vec::new();
    for k in 0..40u16 {
        let client = ([10, 91, 0, (k + 1) as u8], 30_000 + k);
        let server = ([10, 92, 0, 1], if k % 2 == 0 { 443 } else { 80 });
        let mut first = if k % 2 == 0 {
            // A record header claiming a 16 KiB ClientHello, then noise.
            vec![0x16, 0x03, 0x01, 0x40, 0x00, 0x01]
        } else {
            b"POST ".to_vec()
        };
        first.extend(rng.bytes(200 + usize::from(k) * 7));
        if k % 2 == 0 {
            first[9] = 0x99; // no TLS version where a ClientHello has one
        }
        let mut seq = [rng.next() as u32, rng.next() as u32];
        frames.push(Frame {
            src: client,
            dst: server,
            tcp: Some((seq[0], SYN)),
            payload: vec![],
        });
        seq[0] = seq[0].wrapping_add(1);
        let reply = rng.bytes(300);
        frames.push(Frame {
            src: client,
            dst: server,
            tcp: Some((seq[0], PSH_ACK)),
            payload: first,
        });
        frames.push(Frame {
            src: server,
            dst: client,
            tcp: Some((seq[1], PSH_ACK)),
            payload: reply,
        });
    }
    let f = TempFile::new("forged.pcap", &pcap::file(&frames));
    let recs = records(f.path());
    assert_eq!(recs.len(), 40);
    for r in &recs {
        assert_eq!(r["app_proto"], "unknown", "{r}");
        let want = if r["dest_port"] == 443 { "tls" } else { "http" };
        assert_eq!(r["obfuscation"]["features"]["forged_prefix"], want, "{r}");
        let first = r["obfuscation"]["evidence"][0]["what"].as_str().unwrap();
        assert!(first.contains("does not parse"), "{first}");
    }
}
