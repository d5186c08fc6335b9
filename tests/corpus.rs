//! The nDPI regression corpus (../shared/corpus/ndpi), read in place: every
//! capture is analyzed without error or panic, flows agree with nDPI's, and
//! the output does not depend on the thread count.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use common::*;

/// Runs sift over the whole corpus in one process; returns (records, stderr).
fn analyze_corpus(extra: &[&str]) -> (Vec<u8>, String) {
    let mut args: Vec<String> = vec![
        "analyze".into(),
        "-q".into(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(ndpi_captures().iter().map(|p| p.display().to_string()));
    let out = sift(&args);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "sift failed on the corpus: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.stdout, stderr)
}

/// Captures that end early and the warning sift gives for each (see
/// tests/ndpi/flow_differences.csv for what that costs).
const EXPECTED_WARNINGS: &[(&str, &str)] = &[(
    "fuzz-2021-10-13.pcap",
    "corrupt capture: record claims 524501 captured bytes (limit 262144) at byte 24; 0 packets before it were analyzed",
)];

#[test]
fn every_capture_is_analyzed_with_only_documented_warnings() {
    let captures = ndpi_captures();
    assert_eq!(captures.len(), 543, "the corpus should hold 543 captures");
    let (stdout, stderr) = analyze_corpus(&["--threads", "2"]);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("sift: warning:"))
        .collect();
    assert_eq!(warnings.len(), EXPECTED_WARNINGS.len(), "{stderr}");
    for (file, what) in EXPECTED_WARNINGS {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(file) && w.ends_with(what)),
            "no warning `{what}` for {file} in:\n{stderr}"
        );
    }
    assert!(eve(&stdout).len() > 9000);
}

/// nDPI prints some IPv6 addresses with every run of zero groups collapsed
/// (`2600:1901::7a0b::` for 2600:1901:0:7a0b::); this renders ours that way.
fn ndpi_v6(addr: &IpAddr) -> Option<String> {
    let IpAddr::V6(v6) = addr else { return None };
    // Each maximal run of zero groups becomes one empty token.
    let mut tokens: Vec<String> = Vec::new();
    for g in v6.segments() {
        if g != 0 {
            tokens.push(format!("{g:x}"));
        } else if tokens.last().is_none_or(|t| !t.is_empty()) {
            tokens.push(String::new());
        }
    }
    let mut s = tokens.join(":");
    if tokens.first().is_some_and(String::is_empty) {
        s.insert(0, ':');
    }
    if tokens.len() > 1 && tokens.last().is_some_and(String::is_empty) {
        s.push(':');
    }
    Some(s)
}

type Endpoint = (String, u16);
type Tuple = (String, Endpoint, Endpoint);

fn tuple(proto: &str, a: Endpoint, b: Endpoint) -> Tuple {
    // nDPI prints SCTP flows with ports 0.
    let (a, b) = if proto == "sctp" {
        ((a.0, 0), (b.0, 0))
    } else {
        (a, b)
    };
    if a <= b {
        (proto.into(), a, b)
    } else {
        (proto.into(), b, a)
    }
}

fn ndpi_transport(eve_proto: &str) -> String {
    match eve_proto {
        "IPv6-ICMP" => "icmpv6".into(),
        "113" => "pgm".into(),
        p => p.to_lowercase(),
    }
}

/// Flow tuples sift reported, per capture file name, in both address
/// spellings (standard and nDPI's).
fn sift_tuples(records: &[serde_json::Value]) -> HashMap<String, HashSet<Tuple>> {
    let mut m: HashMap<String, HashSet<Tuple>> = HashMap::new();
    for r in records {
        let file = r["pcap_filename"].as_str().unwrap();
        let name = file.rsplit('/').next().unwrap().to_string();
        let proto = ndpi_transport(r["proto"].as_str().unwrap());
        let port = |k: &str| r[k].as_u64().unwrap_or(0) as u16;
        let (sa, da): (IpAddr, IpAddr) = (
            r["src_ip"].as_str().unwrap().parse().unwrap(),
            r["dest_ip"].as_str().unwrap().parse().unwrap(),
        );
        let set = m.entry(name).or_default();
        for s in [Some(sa.to_string()), ndpi_v6(&sa)].into_iter().flatten() {
            for d in [Some(da.to_string()), ndpi_v6(&da)].into_iter().flatten() {
                set.insert(tuple(
                    &proto,
                    (s.clone(), port("src_port")),
                    (d, port("dest_port")),
                ));
            }
        }
    }
    m
}

#[test]
fn flows_agree_with_ndpi() {
    let corpus = ndpi_corpus();
    let (stdout, _) = analyze_corpus(&[]);
    let ours = sift_tuples(&eve(&stdout));
    let mut rdr = std::fs::read_to_string(corpus.join("expected.csv")).unwrap();
    rdr = rdr.replace("\r\n", "\n");
    let mut total = 0usize;
    let mut missing: BTreeSet<String> = BTreeSet::new();
    for line in rdr.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (pcap, transport, a_ip, a_port, b_ip, b_port) = (f[0], f[1], f[2], f[3], f[4], f[5]);
        total += 1;
        let norm = |ip: &str| {
            ip.parse::<IpAddr>()
                .map_or(ip.to_string(), |a| a.to_string())
        };
        let t = tuple(
            transport,
            (norm(a_ip), a_port.parse().unwrap()),
            (norm(b_ip), b_port.parse().unwrap()),
        );
        if !ours.get(pcap).is_some_and(|s| s.contains(&t)) {
            missing.insert(format!(
                "{pcap},{transport},{a_ip},{a_port},{b_ip},{b_port}"
            ));
        }
    }
    let found = total - missing.len();
    let share = found as f64 / total as f64;
    eprintln!(
        "flows nDPI lists that sift reports: {found}/{total} = {:.2}%",
        share * 100.0
    );
    assert!(share >= 0.99, "only {found}/{total} of nDPI's flows found");

    // Every flow missed is listed, with its reason, and nothing listed is found.
    assert_differences_listed("flow_differences.csv", 6, &missing);
}

#[test]
fn records_do_not_depend_on_thread_count() {
    let (one, _) = analyze_corpus(&["--threads", "1"]);
    let (two, _) = analyze_corpus(&["--threads", "2"]);
    let (three, _) = analyze_corpus(&["--threads", "3"]);
    assert!(one == two, "--threads 1 and 2 differ");
    assert!(one == three, "--threads 1 and 3 differ");
    // How much of the traffic the lead keeps moves work between threads,
    // never a record.
    let (small, _) = analyze_corpus(&["--threads", "2", "--lead-share", "0.1"]);
    let (large, _) = analyze_corpus(&["--threads", "3", "--lead-share", "1.8"]);
    assert!(one == small, "--threads 2 --lead-share 0.1 differs");
    assert!(one == large, "--threads 3 --lead-share 1.8 differs");
    let (m1, _) = analyze_corpus(&["--merge", "--threads", "1"]);
    let (m2, _) = analyze_corpus(&["--merge", "--threads", "2"]);
    assert!(m1 == m2, "--merge: --threads 1 and 2 differ");
}

#[test]
fn ndpi_address_spelling() {
    let a: IpAddr = "2600:1901:0:7a0b::".parse().unwrap();
    assert_eq!(ndpi_v6(&a).unwrap(), "2600:1901::7a0b::");
    let b: IpAddr = "2600:1900:4160:5999:0:19::".parse().unwrap();
    assert_eq!(ndpi_v6(&b).unwrap(), "2600:1900:4160:5999::19::");
    let c: IpAddr = "2001:db8::1".parse().unwrap();
    assert_eq!(ndpi_v6(&c).unwrap(), "2001:db8::1");
}

/// (capture name, flow tuple) -> [(app_proto, server name)] of sift's records.
type NamesByFlow = HashMap<(String, Tuple), Vec<(String, Option<String>)>>;

/// Server names and app protocols per flow tuple (both address spellings).
fn sift_names(records: &[serde_json::Value]) -> NamesByFlow {
    let mut m = NamesByFlow::new();
    for r in records {
        let name = r["pcap_filename"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let proto = ndpi_transport(r["proto"].as_str().unwrap());
        let port = |k: &str| r[k].as_u64().unwrap_or(0) as u16;
        let (sa, da): (IpAddr, IpAddr) = (
            r["src_ip"].as_str().unwrap().parse().unwrap(),
            r["dest_ip"].as_str().unwrap().parse().unwrap(),
        );
        let app = r["app_proto"].as_str().unwrap().to_string();
        let sni = r["tls"]["sni"]
            .as_str()
            .or(r["quic"]["sni"].as_str())
            .map(str::to_string);
        for s in [Some(sa.to_string()), ndpi_v6(&sa)].into_iter().flatten() {
            for d in [Some(da.to_string()), ndpi_v6(&da)].into_iter().flatten() {
                let t = tuple(
                    &proto,
                    (s.clone(), port("src_port")),
                    (d, port("dest_port")),
                );
                m.entry((name.clone(), t))
                    .or_default()
                    .push((app.clone(), sni.clone()));
            }
        }
    }
    m
}

#[test]
fn server_names_agree_with_ndpi() {
    let corpus = ndpi_corpus();
    let (stdout, _) = analyze_corpus(&[]);
    let ours = sift_names(&eve(&stdout));
    let csv = std::fs::read_to_string(corpus.join("expected.csv")).unwrap();
    let (mut named, mut same_name) = (0usize, 0usize);
    let mut app_total: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut differing: BTreeSet<String> = BTreeSet::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (pcap, transport, family, sni) = (f[0], f[1], f[8], f[9]);
        if family != "tls" && family != "quic" {
            continue;
        }
        let norm = |ip: &str| {
            ip.parse::<IpAddr>()
                .map_or(ip.to_string(), |a| a.to_string())
        };
        let t = tuple(
            transport,
            (norm(f[2]), f[3].parse().unwrap()),
            (norm(f[4]), f[5].parse().unwrap()),
        );
        let got = ours
            .get(&(pcap.to_string(), t))
            .cloned()
            .unwrap_or_default();
        let e = app_total.entry(family).or_default();
        e.0 += 1;
        if got.iter().any(|(app, _)| app == family) {
            e.1 += 1;
        }
        if sni.is_empty() {
            continue;
        }
        named += 1;
        let want = sni.to_lowercase().trim_end_matches('.').to_string();
        if got.iter().any(|(_, s)| s.as_deref() == Some(want.as_str())) {
            same_name += 1;
        } else {
            differing.insert(format!(
                "{pcap},{transport},{},{},{},{},{sni}",
                f[2], f[3], f[4], f[5]
            ));
        }
    }
    let share = same_name as f64 / named as f64;
    eprintln!("tls/quic flows with an SNI in nDPI: sift reports the same name for {same_name}/{named} = {:.2}%", share * 100.0);
    for (family, (total, same)) in &app_total {
        eprintln!("nDPI {family} flows that sift labels {family}: {same}/{total}");
    }
    assert!(share >= 0.995, "only {same_name}/{named}");
    assert_differences_listed("sni_differences.csv", 7, &differing);
}
