//! The rest of the VPN list (issue 16): PPTP (control connection and
//! enhanced GRE), plain GRE tunnels, L2TP. The recordings of real daemons
//! in captures/vpn/kernel, the nDPI corpus, and negative controls that must
//! never get a verdict of these families.

mod common;

use std::collections::BTreeSet;

use common::pcap::{Frame, PSH_ACK, SYN};
use common::*;

/// The application protocols of this families.
const FAMILY_PROTOS: [&str; 13] = [
    "pptp",
    "gre",
    "l2tp",
    "dtls",
    "openconnect",
    "tor",
    "ssh",
    "socks",
    "sstp",
    "softether",
    "tinc",
    "n2n",
    "iodine",
];

fn records(path: &str) -> Vec<serde_json::Value> {
    let out = sift(["analyze", "--format", "json", "-q", path]);
    assert!(out.status.success(), "{path}: {}", text(&out.stderr));
    eve(&out.stdout)
}

/// The rows of captures/vpn/userspace/expected.csv that `keep` accepts,
/// each with the flow sift reports for it (same transport, client port and
/// server port).
fn userspace_flows(keep: impl Fn(&[&str]) -> bool) -> Vec<(Vec<String>, serde_json::Value)> {
    let csv = std::fs::read_to_string(project_file("captures/vpn/userspace/expected.csv")).unwrap();
    let mut out = Vec::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.splitn(8, ',').collect();
        if !keep(&f) {
            continue;
        }
        let (capture, proto) = (f[0], f[1].to_uppercase());
        let client: u64 = f[3].parse().unwrap();
        let server: u64 = f[5].parse().unwrap();
        let path = project_file(&format!("captures/vpn/userspace/{capture}"));
        let r = records(path.to_str().unwrap())
            .into_iter()
            .find(|r| r["proto"] == proto && r["src_port"] == client && r["dest_port"] == server)
            .unwrap_or_else(|| panic!("{capture}: no {proto} flow {client} -> {server}"));
        out.push((f.iter().map(|x| x.to_string()).collect(), r));
    }
    out
}

/// What a label of captures/vpn/kernel/expected.csv is reported as:
/// (app_proto, vpn.protocol, confidence), for the families built so far.
fn kernel_label(label: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match label {
        "pptp-control" | "pptp-gre" => ("pptp", "pptp", "high"),
        "gre" => ("gre", "gre", "high"),
        "l2tp" => ("l2tp", "l2tp", "high"),
        // Inside TLS, by record sizes only.
        "sstp" => ("tls", "sstp", "medium"),
        _ => return None,
    })
}

/// The OpenConnect DTLS channels of captures/vpn/userspace: `dtls` with
/// `vpn.protocol: "openconnect"`, high for legacy 0x0100 DTLS, medium for
/// DTLS 1.2 (resumed or PSK-NEGOTIATE) after the TLS channel.
#[test]
fn openconnect_dtls_recordings() {
    let flows = userspace_flows(|f| f[6] == "openconnect-dtls");
    for (f, r) in &flows {
        let capture = &f[0];
        assert_eq!(r["proto"], "UDP", "{capture}: {r}");
        assert_eq!(r["app_proto"], "dtls", "{capture}: {r}");
        assert_eq!(r["vpn"]["protocol"], "openconnect", "{capture}: {r}");
        let want = if capture.contains("dtls-legacy") {
            "high"
        } else {
            "medium"
        };
        assert_eq!(r["vpn"]["confidence"], want, "{capture}: {r}");
        assert!(r["vpn"]["tls_packet"].is_string(), "{capture}: {r}");
        assert!(r["tls"]["ja4"].as_str().unwrap().starts_with('d'), "{r}");
    }
    assert_eq!(flows.len(), 4);
}

/// OpenVPN, TLS and SSH through HTTP CONNECT and SOCKS5 proxies
/// (captures/vpn/userspace): each flow is reported as the proxied protocol,
/// the proxy step in its evidence.
#[test]
fn proxied_recordings() {
    let flows = userspace_flows(|f| f[6].contains("-via-"));
    for (f, r) in &flows {
        let capture = &f[0];
        let (inner, via) = f[6].split_once("-via-").unwrap();
        assert_eq!(r["proto"], "TCP", "{capture}: {r}");
        assert_eq!(r["app_proto"], inner, "{capture}: {r}");
        assert!(proxy_step(r), "{capture}: {r}");
        let step = if via == "socks5" {
            "SOCKS5"
        } else {
            "HTTP CONNECT"
        };
        assert!(r.to_string().contains(step), "{capture}: {r}");
        if inner == "openvpn" {
            assert_eq!(r["vpn"]["confidence"], "high", "{capture}: {r}");
        }
    }
    assert_eq!(flows.len(), 13);
}

/// SoftEther's TLS sessions in captures/vpn/userspace: `tls` with
/// `vpn.protocol: "softether"`, medium for a session's first connection
/// (GET, 403, watermark POST sizes), low for the additional one.
#[test]
fn softether_recordings() {
    let flows = userspace_flows(|f| f[6] == "softether");
    let mut confidences = Vec::new();
    for (f, r) in &flows {
        let capture = &f[0];
        assert_eq!(r["proto"], "TCP", "{capture}: {r}");
        assert_eq!(r["app_proto"], "tls", "{capture}: {r}");
        assert_eq!(r["vpn"]["protocol"], "softether", "{capture}: {r}");
        assert!(r.to_string().contains("record sizes only"), "{r}");
        confidences.push(r["vpn"]["confidence"].as_str().unwrap().to_string());
    }
    assert_eq!(confidences.len(), 8);
    // Each session: one medium (first connection), one low (additional).
    assert_eq!(confidences.iter().filter(|c| *c == "medium").count(), 4);
    assert_eq!(confidences.iter().filter(|c| *c == "low").count(), 4);
}

/// tinc's meta connections (high) and data channels (medium), and n2n v1
/// over UDP (high) in captures/vpn/userspace.
#[test]
fn tinc_and_n2n_recordings() {
    let expected = |f: &[&str]| match (f[6], f[1]) {
        ("tinc-tcp", _) => Some(("tinc", "high")),
        // The encrypted data channel, after the meta connection.
        ("tinc-udp", _) => Some(("tinc", "medium")),
        ("n2n", "udp") => Some(("n2n", "high")),
        _ => None,
    };
    let flows = userspace_flows(|f| expected(f).is_some());
    for (f, r) in &flows {
        let capture = &f[0];
        let row: Vec<&str> = f.iter().map(String::as_str).collect();
        let (want, confidence) = expected(&row).unwrap();
        assert_eq!(r["app_proto"], want, "{capture}: {r}");
        assert_eq!(r["vpn"]["protocol"], want, "{capture}: {r}");
        assert_eq!(r["vpn"]["confidence"], confidence, "{capture}: {r}");
    }
    assert_eq!(flows.len(), 7);
}

/// iodine in captures/vpn/userspace (DNS mode and raw mode): `dns` with
/// `vpn.protocol: "iodine"`; dig's plain lookups get no VPN fact.
#[test]
fn iodine_recordings() {
    let flows = userspace_flows(|f| f[6] == "iodine" || f[6] == "dns");
    let (mut iodine, mut plain) = (0, 0);
    for (f, r) in &flows {
        let capture = &f[0];
        assert_eq!(r["app_proto"], "dns", "{capture}: {r}");
        if f[6] == "iodine" {
            assert_eq!(r["vpn"]["protocol"], "iodine", "{capture}: {r}");
            assert_eq!(r["vpn"]["confidence"], "high", "{capture}: {r}");
            iodine += 1;
        } else {
            assert!(r["vpn"].is_null(), "{capture}: {r}");
            plain += 1;
        }
    }
    assert_eq!((iodine, plain), (2, 11));
}

/// OpenConnect's TLS (CSTP) channels in captures/vpn/userspace, DTLS or
/// TLS-only: `tls` with `vpn.protocol: "openconnect"` at low confidence,
/// from the login's record sizes.
#[test]
fn openconnect_tls_recordings() {
    let flows = userspace_flows(|f| f[6] == "openconnect-tls");
    for (f, r) in &flows {
        let capture = &f[0];
        assert_eq!(r["proto"], "TCP", "{capture}: {r}");
        assert_eq!(r["app_proto"], "tls", "{capture}: {r}");
        assert_eq!(r["vpn"]["protocol"], "openconnect", "{capture}: {r}");
        assert_eq!(r["vpn"]["confidence"], "low", "{capture}: {r}");
        assert!(r.to_string().contains("record sizes only"), "{r}");
    }
    assert_eq!(flows.len(), 6);
}

/// Tor's link handshake in captures/vpn/userspace: `tls` with
/// `vpn.protocol: "tor"` at medium confidence.
#[test]
fn tor_recordings() {
    let flows = userspace_flows(|f| f[6] == "tor");
    for (f, r) in &flows {
        let capture = &f[0];
        assert_eq!(r["proto"], "TCP", "{capture}: {r}");
        assert_eq!(r["app_proto"], "tls", "{capture}: {r}");
        assert_eq!(r["vpn"]["protocol"], "tor", "{capture}: {r}");
        assert_eq!(r["vpn"]["confidence"], "medium", "{capture}: {r}");
    }
    assert_eq!(flows.len(), 5);
}

/// Every flow of captures/vpn/kernel/expected.csv of a family built so far
/// gets its protocol, at high confidence, with evidence.
#[test]
fn kernel_recordings() {
    let csv = std::fs::read_to_string(project_file("captures/vpn/kernel/expected.csv")).unwrap();
    let mut checked = BTreeSet::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.splitn(8, ',').collect();
        let (capture, transport, client_ip, client_port, server_port, label) = (
            f[0],
            f[1],
            f[2],
            f[3].parse::<u64>().unwrap(),
            f[5].parse::<u64>().unwrap(),
            f[6],
        );
        let Some((app, vpn, confidence)) = kernel_label(label) else {
            continue;
        };
        let recs = records(
            project_file(&format!("captures/vpn/kernel/{capture}"))
                .to_str()
                .unwrap(),
        );
        let r = recs
            .iter()
            .find(|r| {
                r["proto"].as_str() == Some(&transport.to_uppercase())
                    && r["src_ip"] == client_ip
                    && r["src_port"].as_u64().unwrap_or(0) == client_port
                    && r["dest_port"].as_u64().unwrap_or(0) == server_port
            })
            .unwrap_or_else(|| {
                panic!("{capture}: no {transport} flow {client_port} -> {server_port}")
            });
        assert_eq!(r["app_proto"], app, "{capture}: {r}");
        assert_eq!(r["vpn"]["protocol"], vpn, "{capture}: {r}");
        assert_eq!(r["vpn"]["confidence"], confidence, "{capture}: {r}");
        assert!(r["sift"]["evidence"]
            .as_array()
            .is_some_and(|e| !e.is_empty()));
        if label == "pptp-gre" {
            // Linked to the control connection by call id.
            assert!(r["vpn"]["control_packet"].is_string(), "{capture}: {r}");
        }
        if label == "pptp-control" {
            assert_eq!(r["vpn"]["messages"], "SCCRQ,SCCRP,OCRQ,OCRP", "{capture}");
        }
        checked.insert(format!("{capture},{transport}"));
    }
    // pptp x2 (tcp + gre), gre x4, l2tp x2, sstp x2.
    assert!(checked.len() >= 12, "{checked:?}");
}

/// A GRE tunnel's inner flows stay, and the tunnel gets its own record
/// with its outer endpoints.
#[test]
fn gre_tunnel_has_its_own_record_beside_inner_flows() {
    let recs = records(
        project_file("captures/vpn/kernel/gre-plain.pcap")
            .to_str()
            .unwrap(),
    );
    let gre: Vec<_> = recs.iter().filter(|r| r["proto"] == "GRE").collect();
    assert_eq!(gre.len(), 1, "{recs:#?}");
    assert_eq!(gre[0]["src_ip"], "10.212.0.1");
    assert_eq!(gre[0]["dest_ip"], "10.212.0.2");
    assert_eq!(
        gre[0]["flow"]["pkts_toserver"].as_u64().unwrap()
            + gre[0]["flow"]["pkts_toclient"].as_u64().unwrap(),
        22
    );
    let inner = recs.iter().find(|r| r["proto"] == "TCP").unwrap();
    assert_eq!(inner["src_ip"], "10.212.4.1");
    assert_eq!(inner["app_proto"], "http");
}

/// A classic pcap of raw IPv4 packets of IP protocol `proto` (Ethernet,
/// valid IPv4 header checksum), from (src, dst, payload).
fn ip_pcap(proto: u8, packets: &[([u8; 4], [u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    v.extend_from_slice(&262_144u32.to_le_bytes());
    v.extend_from_slice(&1u32.to_le_bytes());
    for (i, (src, dst, payload)) in packets.iter().enumerate() {
        let mut f = vec![0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 8, 0];
        let total = (20 + payload.len()) as u16;
        let mut ip = vec![0x45, 0];
        ip.extend(total.to_be_bytes());
        ip.extend([0, 0, 0x40, 0, 64, proto, 0, 0]);
        ip.extend(src);
        ip.extend(dst);
        let mut sum = 0u32;
        for w in ip.chunks(2) {
            sum += u32::from(w[0]) << 8 | u32::from(w[1]);
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        f.extend(ip);
        f.extend(payload);
        v.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        v.extend_from_slice(&(i as u32 * 1000 % 1_000_000).to_le_bytes());
        v.extend_from_slice(&(f.len() as u32).to_le_bytes());
        v.extend_from_slice(&(f.len() as u32).to_le_bytes());
        v.extend_from_slice(&f);
    }
    v
}

/// The evidence shows an HTTP CONNECT or SOCKS5 step.
fn proxy_step(r: &serde_json::Value) -> bool {
    r["sift"]["evidence"].as_array().is_some_and(|e| {
        e.iter().any(|e| {
            let w = e["what"].as_str().unwrap_or("");
            w.starts_with("HTTP CONNECT")
                || w.starts_with("SOCKS5 CONNECT")
                || (w.starts_with("SOCKS4 CONNECT") && w.contains("granted"))
        })
    })
}

fn is_family_verdict(r: &serde_json::Value) -> bool {
    FAMILY_PROTOS.contains(&r["app_proto"].as_str().unwrap_or(""))
        || r["vpn"]["protocol"]
            .as_str()
            .is_some_and(|p| FAMILY_PROTOS.contains(&p))
}

/// 10,000 flows of random payloads over TCP and UDP to the families' ports
/// (and others), both ways, and over GRE: no verdict of these families.
#[test]
fn random_payloads_get_no_family_verdict() {
    let mut rng = Rng(0x5eed_0016_1723_1701);
    let mut frames = Vec::new();
    let ports = [
        (1723u16, true),
        (443, true),
        (992, true),
        (5555, true),
        (655, true),
        (9001, true),
        (3128, true),
        (1080, true),
        (1701, false),
        (655, false),
        (7654, false),
        (53, false),
        (443, false),
        (1701, true),
    ];
    let per_port = 650u16;
    for (k, &(port, tcp)) in ports.iter().enumerate() {
        for flow in 0..per_port {
            let client = ([10, 16, k as u8, (flow % 250) as u8 + 1], 20_000 + flow);
            let server = ([10, 99, (flow / 250) as u8, 1], port);
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
            for i in 0..4 {
                let len = 8 + (rng.next() % 600) as usize;
                let payload = rng.bytes(len);
                let (src, dst, s) = if i % 2 == 1 {
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
                    payload,
                });
            }
        }
    }
    let f = TempFile::new("random-vpn-list.pcap", &pcap::file(&frames));
    let recs = records(f.path());
    assert_eq!(recs.len(), ports.len() * usize::from(per_port));
    let bad: Vec<_> = recs.iter().filter(|r| is_family_verdict(r)).collect();
    assert!(
        bad.is_empty(),
        "random payloads taken as a family: {bad:#?}"
    );

    // GRE: random bytes, and random bytes behind GRE headers of both
    // versions, 900 host pairs.
    let mut packets = Vec::new();
    for flow in 0..900u32 {
        let a = [10, 17, (flow / 250) as u8, (flow % 250) as u8 + 1];
        let b = [10, 18, 0, 1];
        for i in 0..4 {
            let mut p = match flow % 3 {
                0 => Vec::new(),
                1 => vec![0, 0, 0x08, 0x00],
                _ => vec![0x30, 0x01, 0x88, 0x0b],
            };
            let len = 8 + (rng.next() % 400) as usize;
            p.extend(rng.bytes(len));
            let (s, d) = if i % 2 == 0 { (a, b) } else { (b, a) };
            packets.push((s, d, p));
        }
    }
    let f = TempFile::new("random-gre.pcap", &ip_pcap(47, &packets));
    let recs = records(f.path());
    assert!(recs.len() >= 900, "{}", recs.len());
    let bad: Vec<_> = recs.iter().filter(|r| is_family_verdict(r)).collect();
    assert!(bad.is_empty(), "random GRE taken as a family: {bad:#?}");
}

/// nDPI's flows of these families found with the same family, and no
/// verdict of these families on a flow nDPI gives another protocol, except
/// the flows listed (with the reason) in tests/ndpi/vpn_list_differences.csv.
#[test]
fn family_flows_agree_with_ndpi() {
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
    let mut apps: std::collections::HashMap<FlowKey, Vec<String>> = Default::default();
    let mut ours = BTreeSet::new();
    let mut vpns: std::collections::HashMap<FlowKey, String> = Default::default();
    let mut proxied = BTreeSet::new();
    for r in eve(&out.stdout) {
        let k = eve_flow_key(&r);
        let app = r["app_proto"].as_str().unwrap().to_string();
        if is_family_verdict(&r) {
            ours.insert(k.clone());
        }
        if proxy_step(&r) {
            proxied.insert(k.clone());
        }
        if let Some(vpn) = r["vpn"]["protocol"].as_str() {
            vpns.insert(k.clone(), vpn.to_string());
        }
        apps.entry(k).or_default().push(app);
    }
    let family_apps = |family: &str| -> &'static [&'static str] {
        match family {
            "pptp" => &["pptp"],
            "l2tp" => &["l2tp"],
            "dtls" => &["dtls"],
            "ssh" => &["ssh"],
            _ => &[],
        }
    };
    let csv = std::fs::read_to_string(corpus.join("expected.csv")).unwrap();
    let (mut total, mut found) = (0, 0);
    let mut differences = BTreeSet::new();
    let mut listed = BTreeSet::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let k = expected_flow_key(&f);
        listed.insert(k.clone());
        let got = apps.get(&k).cloned().unwrap_or_default();
        let key = format!("{},{},{},{},{},{}", f[0], f[1], f[2], f[3], f[4], f[5]);
        let want = family_apps(f[8]);
        if !want.is_empty() {
            total += 1;
            if got.iter().any(|g| want.contains(&g.as_str())) {
                found += 1;
            } else {
                differences.insert(format!("{key},missed"));
            }
            if vpns.get(&k).is_some_and(|v| v == "openconnect") && f[8] != "ciscovpn" {
                differences.insert(format!("{key},openconnect on nDPI {}", f[7]));
            }
        }
        // Proxies: sift reports the proxied protocol, with the proxy step
        // in the evidence.
        if f[7] == "SOCKS" || f[7] == "HTTP_Connect" {
            total += 1;
            if proxied.contains(&k) {
                found += 1;
            } else {
                differences.insert(format!("{key},missed"));
            }
            continue;
        }
        // CiscoVPN: the OpenConnect/AnyConnect fact.
        if f[8] == "ciscovpn" {
            total += 1;
            if vpns.get(&k).is_some_and(|v| v == "openconnect") {
                found += 1;
            } else {
                differences.insert(format!("{key},missed"));
            }
            continue;
        }
        // tinc: nDPI's TINC flows.
        if f[7] == "TINC" {
            total += 1;
            if got.iter().any(|g| g == "tinc") {
                found += 1;
            } else {
                differences.insert(format!("{key},missed"));
            }
            continue;
        }
        // SoftEther: the VPN fact, on whatever carries it (http, tls, udp).
        if f[8] == "softether" || f[7].ends_with(".Softether") {
            total += 1;
            if vpns.get(&k).is_some_and(|v| v == "softether") {
                found += 1;
            } else {
                differences.insert(format!("{key},missed"));
            }
            continue;
        }
        // Tor: nDPI's `.Tor` flows (it names them by address lists).
        let tor = vpns.get(&k).is_some_and(|v| v == "tor");
        if f[7].ends_with(".Tor") {
            total += 1;
            if tor {
                found += 1;
            } else {
                differences.insert(format!("{key},missed"));
            }
        } else if tor {
            differences.insert(format!("{key},tor on nDPI {}", f[7]));
        } else if want.is_empty() && ours.contains(&k) {
            differences.insert(format!("{key},verdict on nDPI {}", f[7]));
        }
    }
    // Family verdicts on flows nDPI does not list.
    for k in ours.difference(&listed) {
        differences.insert(format!(
            "{},{},{},{},{},{},not in nDPI's list",
            k.0, k.1, k.2 .0, k.2 .1, k.3 .0, k.3 .1
        ));
    }
    eprintln!("nDPI PPTP/L2TP/DTLS/Tor/SSH/SOCKS/HTTP_Connect flows found by sift with the same family: {found}/{total}");
    assert!(total >= 1);
    assert_differences_listed("vpn_list_differences.csv", 7, &differences);
}
