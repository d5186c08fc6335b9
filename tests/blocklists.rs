//! Block lists as rule sources: address lists, URL conditions and lists,
//! registry dumps — parsed, matched on the committed sample capture, with
//! their entries and decisions in the hits, their errors and warnings at
//! file:line:col, their cache, and `rules test --registry-report`.

mod common;

use std::path::{Path, PathBuf};

use common::pcap::{self, Frame, ACK, PSH_ACK, SYN};
use common::{eve, project_file, sift, text, TempFile, REGISTRY_DUMP as DUMP};
use serde_json::Value;
use sift::rules::source::read_text;
use sift::rules::{Cond, NamePattern};

/// A temporary directory that removes itself.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("sift-bl-{}-{n}-{tag}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }

    fn file(&self, name: &str, body: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `sift analyze --format json` of the sample capture with `rules`.
fn analyze(rules: &str, extra: &[&str]) -> (Vec<Value>, String) {
    let cap = project_file("captures/sample.pcap");
    analyze_capture(rules, cap.to_str().unwrap(), extra)
}

/// [`analyze`] on the capture at `cap`.
fn analyze_capture(rules: &str, cap: &str, extra: &[&str]) -> (Vec<Value>, String) {
    let mut args = vec![
        "analyze",
        "--format",
        "json",
        "--threads",
        "1",
        "--rules",
        rules,
    ];
    args.extend_from_slice(extra);
    args.push(cap);
    let out = sift(args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (eve(&out.stdout), text(&out.stderr))
}

/// The alerts: (signature id, dest_ip, matched).
fn alerts(events: &[Value]) -> Vec<(u64, String, Value)> {
    let mut v: Vec<(u64, String, Value)> = events
        .iter()
        .filter(|e| e["event_type"] == "alert")
        .map(|e| {
            (
                e["alert"]["signature_id"].as_u64().unwrap(),
                format!("{}:{}", e["dest_ip"].as_str().unwrap(), e["dest_port"]),
                e["sift"]["matched"].clone(),
            )
        })
        .collect();
    v.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    v
}

#[test]
fn address_lists_end_to_end() {
    let d = Dir::new("ip");
    let list = d.file(
        "addrs.list",
        "# lab addresses\n10.0.0.0/8\n10.201.0.0/16\n10.201.0.2\nfd00:5f17::/32\n10.201.0.2   # again\n::ffff:10.201.0.1/128\n",
    );
    let rules = d.file(
        "t.rules",
        "alert 1 \"listed server\" { server.ip list \"addrs.list\"; app tls }\n\
         alert 2 \"listed client\" { client.ip list \"addrs.list\"; server.port 8443 }\n",
    );
    let (events, _) = analyze(&rules, &["--no-rules-cache"]);
    let a = alerts(&events);
    let ids: Vec<(u64, &str)> = a.iter().map(|(i, d, _)| (*i, d.as_str())).collect();
    assert_eq!(
        ids,
        [
            (1, "10.201.0.2:443"),
            (1, "10.201.0.2:443"),
            (1, "10.201.0.2:443"),
            (1, "10.201.0.2:8443"),
            (1, "fd00:5f17::2:443"),
            (2, "10.201.0.2:8443"),
        ]
    );
    // The longest prefix, its file:line (the first of duplicates).
    let m = &a[0].2[0];
    assert_eq!(m["condition"], "server.ip");
    assert_eq!(m["value"], "10.201.0.2");
    assert_eq!(m["pattern"], "10.201.0.2");
    assert_eq!(m["entry"], format!("{list}:4"));
    assert!(m.get("decision").is_none());
    let m6 = &a[4].2[0];
    assert_eq!(
        (m6["pattern"].as_str(), m6["entry"].as_str()),
        (Some("fd00:5f17::/32"), Some(format!("{list}:5").as_str()))
    );
    // The v4-mapped line is the IPv4 address 10.201.0.1, longer than /16.
    let c = &a[5].2[0];
    assert_eq!(
        (c["condition"].as_str(), c["pattern"].as_str()),
        (Some("client.ip"), Some("10.201.0.1"))
    );
    assert_eq!(c["entry"], format!("{list}:7"));
    // The flow record carries the same hit.
    let flow = events
        .iter()
        .find(|e| e["event_type"] == "flow" && e["dest_port"] == 8443)
        .unwrap();
    assert_eq!(
        flow["sift"]["rules"][0]["matched"][0]["entry"],
        format!("{list}:4")
    );
}

#[test]
fn url_conditions_and_lists_end_to_end() {
    let d = Dir::new("url");
    d.file(
        "urls.list",
        "# one URL per line\nhttp://V6.example.test:80/\n\nhttp://nowhere.example/x*\n",
    );
    let rules = d.file(
        "t.rules",
        "alert 2 \"asset\" { http.url \"HTTP://WWW.Example.TEST:80/%61sset.txt#top\" }\n\
         alert 3 \"api\" { http.url http://api.example.test/v1/* }\n\
         alert 4 \"listed\" { http.url list \"urls.list\" }\n\
         alert 5 \"not a prefix\" { http.url http://www.example.test/asset }\n\
         alert 6 \"https never\" { http.url https://www.example.test/ }\n",
    );
    let (events, _) = analyze(&rules, &["--no-rules-cache"]);
    let a = alerts(&events);
    let mut got: Vec<(u64, String, String)> = a
        .iter()
        .map(|(i, dst, m)| (*i, dst.clone(), m[0]["value"].as_str().unwrap().to_string()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                2,
                "10.201.0.2:80".into(),
                "http://www.example.test/asset.txt".into()
            ),
            (
                3,
                "10.201.0.2:80".into(),
                "http://api.example.test/v1/items".into()
            ),
            (
                3,
                "10.201.0.2:80".into(),
                "http://api.example.test/v1/status".into()
            ),
            (
                4,
                "fd00:5f17::2:80".into(),
                "http://v6.example.test/".into()
            ),
        ]
    );
    assert_eq!(a[0].2[0]["condition"], "http.url");
    assert_eq!(a[0].2[0]["pattern"], "http://www.example.test/asset.txt");
    assert_eq!(a[1].2[0]["pattern"], "http://api.example.test/v1/*");
    assert!(a[3].2[0]["entry"]
        .as_str()
        .unwrap()
        .ends_with("urls.list:2"));
}

/// A keep-alive HTTP flow: every request's URL is checked, not only the
/// first's, and a query holding `://` keeps the target a path.
#[test]
fn every_request_of_a_keep_alive_flow_is_checked() {
    let d = Dir::new("keepalive");
    d.file(
        "dump.csv",
        ";;http://www.example.test/banned/page?next=http://x.test/;R;7/2026;2026-01-02\n",
    );
    let rules = d.file(
        "t.rules",
        "alert 1 \"url\" { http.url http://www.example.test/private/* }\n\
         alert 2 \"registry\" { list registry \"dump.csv\" }\n",
    );
    let (c, s) = (([10, 0, 0, 1], 40000), ([10, 0, 0, 80], 80));
    let requests = [
        "GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n",
        "GET /banned/page?next=http://x.test/ HTTP/1.1\r\nHost: www.example.test\r\n\r\n",
        "POST /private/upload HTTP/1.1\r\nHost: www.example.test\r\nContent-Length: 5\r\n\r\nhello",
        "GET /again HTTP/1.1\r\nHost: www.example.test\r\n\r\n",
    ];
    let mut frames = vec![
        Frame {
            src: c,
            dst: s,
            tcp: Some((100, SYN)),
            payload: vec![],
        },
        Frame {
            src: s,
            dst: c,
            tcp: Some((500, SYN | ACK)),
            payload: vec![],
        },
    ];
    let (mut cseq, mut sseq) = (101u32, 501u32);
    for r in requests {
        frames.push(Frame {
            src: c,
            dst: s,
            tcp: Some((cseq, PSH_ACK)),
            payload: r.into(),
        });
        cseq += r.len() as u32;
        let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec();
        let n = reply.len() as u32;
        frames.push(Frame {
            src: s,
            dst: c,
            tcp: Some((sseq, PSH_ACK)),
            payload: reply,
        });
        sseq += n;
    }
    let cap = TempFile::new("keepalive.pcap", &pcap::file(&frames));
    let (events, _) = analyze_capture(&rules, cap.path(), &["--no-rules-cache"]);
    let mut got: Vec<(u64, String)> = alerts(&events)
        .iter()
        .map(|(i, _, m)| (*i, m[0]["value"].as_str().unwrap().to_string()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (1, "http://www.example.test/private/upload".to_string()),
            (
                2,
                "http://www.example.test/banned/page?next=http://x.test/".to_string()
            ),
        ]
    );
}

/// A later request of a keep-alive flow whose copy has a wrong checksum
/// (checksum offload, after the client's first valid copies) is held as
/// a possible desync fake: taken and checked once the server acknowledges
/// it, also after the flow's classification is over and only its client
/// stream is read on; never taken when the server does not.
#[test]
fn a_held_request_is_read_once_the_server_acknowledges_it() {
    let d = Dir::new("held");
    d.file(
        "dump.csv",
        ";;http://www.example.test/banned;R;8/2026;2026-01-03\n",
    );
    let rules = d.file(
        "t.rules",
        "alert 2 \"registry\" { list registry \"dump.csv\" }\n",
    );
    let (c, s) = (([10, 0, 0, 1], 40001), ([10, 0, 0, 80], 80));
    let first = "GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n";
    let banned = "GET /banned HTTP/1.1\r\nHost: www.example.test\r\n\r\n";
    let reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let frame = |src, dst, seq, flags, payload: &str| Frame {
        src,
        dst,
        tcp: Some((seq, flags)),
        payload: payload.into(),
    };
    let (c1, s1) = (101u32, 501u32);
    let (c2, s2) = (c1 + first.len() as u32, s1 + reply.len() as u32);
    let c3 = c2 + banned.len() as u32;
    let frames = [
        frame(c, s, 100, SYN, ""),
        frame(s, c, 500, SYN | ACK, ""),
        frame(c, s, c1, PSH_ACK, first),
        frame(s, c, s1, PSH_ACK, reply),
        frame(c, s, c2, PSH_ACK, banned),
        frame(s, c, s2, PSH_ACK, reply),
    ];
    for (acked, want) in [(true, vec![2u64]), (false, vec![])] {
        // The server's last answer acknowledges the banned request, or
        // only the first.
        let last = if acked { c3 } else { c2 };
        let acks = [0, 101, s1, c2, s1 + reply.len() as u32, last];
        let cap = TempFile::new("held.pcap", &pcap::file_acking(&frames, &acks, |i| i == 4));
        let (events, _) = analyze_capture(&rules, cap.path(), &["--no-rules-cache"]);
        let got: Vec<u64> = alerts(&events).iter().map(|(i, _, _)| *i).collect();
        assert_eq!(got, want, "server acknowledges the banned request: {acked}");
    }
}

#[test]
fn registry_dump_end_to_end() {
    let d = Dir::new("reg");
    let dump = d.file("dump.csv", DUMP);
    let rules = d.file(
        "t.rules",
        "drop 10 \"registry\" { list registry \"dump.csv\" }\n",
    );
    let (events, stderr) = analyze(&rules, &["--no-rules-cache"]);
    // Malformed lines are warnings at file:line:col, counted; the rest loads.
    assert!(
        stderr.contains(&format!("{dump}:7:1: warning: malformed registry line: expected an address or block: `192.0.2.300` is not an IPv4 or IPv6 address")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{dump}:8:1: warning: malformed registry line: a record with no address, domain or URL"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 malformed lines; the valid records and items were loaded"),
        "{stderr}"
    );
    let a = alerts(&events);
    let got: Vec<(String, String, String, String)> = a
        .iter()
        .map(|(_, dst, m)| {
            let m = &m[0];
            (
                dst.clone(),
                m["condition"].as_str().unwrap().into(),
                m["pattern"].as_str().unwrap().into(),
                format!(
                    "{} {}",
                    m["decision"]["number"].as_str().unwrap(),
                    m["decision"]["date"].as_str().unwrap()
                ),
            )
        })
        .collect();
    let want: Vec<(String, String, String, String)> = [
        (
            "10.201.0.2:443",
            "tls.sni",
            ".cdn.example.test",
            "4/2023 2023-01-01",
        ),
        (
            "10.201.0.2:53",
            "dns.query",
            ".cdn.example.test",
            "4/2023 2023-01-01",
        ),
        (
            "10.201.0.2:80",
            "http.url",
            "http://api.example.test/v1/status",
            "3-1/2022 2022-02-02",
        ),
        (
            "10.201.0.2:8443",
            "tls.sni",
            "secure.example.test",
            "27-31-2020/Ид2971-20 2020-03-03",
        ),
        // ICMPv6 neighbour discovery sent by the listed address: it is the
        // client of that flow, and either end counts.
        (
            "fd00:5f17::1:null",
            "client.ip",
            "fd00:5f17::2",
            "2-1/2021 2021-01-01",
        ),
        (
            "fd00:5f17::2:443",
            "server.ip",
            "fd00:5f17::2",
            "2-1/2021 2021-01-01",
        ),
        (
            "fd00:5f17::2:53",
            "server.ip",
            "fd00:5f17::2",
            "2-1/2021 2021-01-01",
        ),
        (
            "fd00:5f17::2:80",
            "server.ip",
            "fd00:5f17::2",
            "2-1/2021 2021-01-01",
        ),
    ]
    .iter()
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(a[0].2[0]["entry"], format!("{dump}:5"));
    assert_eq!(a[2].2[0]["entry"], format!("{dump}:4"));
    // Verdicts on the flow records.
    let dropped = events
        .iter()
        .filter(|e| e["event_type"] == "flow" && e["verdict"]["action"] == "drop")
        .count();
    assert_eq!(dropped, 8);
}

#[test]
fn parsing_forms_and_errors() {
    let d = Dir::new("parse");
    d.file("a.list", "192.0.2.0/24\n");
    d.file(
        "bad.list",
        "192.0.2.0/24\n\n  10.0.0.0/33\n10.0.0.1 10.0.0.2\n",
    );
    d.file("u.list", "http://ok.example/\nftp://no.example/\n");
    let rules = |body: &str| d.file("t.rules", body);
    let load = |p: String| sift::rules::RuleSet::load(&[PathBuf::from(p)], &Default::default());
    // Unicode names are matched in their xn-- form.
    let set = load(rules("alert 1 \"idn\" { name пример.рф *.Bücher.DE }\n")).unwrap();
    let Cond::Name { patterns, .. } = &set.rules[0].conds[0] else {
        panic!()
    };
    assert_eq!(
        patterns,
        &[
            NamePattern::Exact("xn--e1afmkfd.xn--p1ai".into()),
            NamePattern::Subdomains("xn--bcher-kva.de".into())
        ]
    );
    let err = |body: &str| -> Vec<String> {
        load(rules(body))
            .unwrap_err()
            .shown()
            .iter()
            .map(|d| d.headline())
            .collect()
    };
    let bad = d.path().join("bad.list").display().to_string();
    assert_eq!(
        err("alert 1 \"x\" { ip list \"bad.list\" }\n"),
        [
            format!("{bad}:3:3: error: prefix length `33` is not 0 to 32"),
            format!("{bad}:4:1: error: an address list line holds one address or block, found also `10.0.0.2`"),
        ]
    );
    let t = d.path().join("t.rules").display().to_string();
    assert_eq!(
        err("alert 1 \"x\" { ip 10.0.0.1 list \"a.list\" }\n"),
        [format!(
            "{t}:1:18: error: `ip` takes either values or `list \"file\"`, not both"
        )]
    );
    assert_eq!(
        err("alert 1 \"x\" { http.url \"gopher://x/\" }\n"),
        [format!(
            "{t}:1:24: error: `gopher` URLs cannot be matched: only http and https"
        )]
    );
    let u = d.path().join("u.list").display().to_string();
    assert_eq!(
        err("alert 1 \"x\" { http.url list \"u.list\" }\n"),
        [format!(
            "{u}:2:1: error: `ftp` URLs cannot be matched: only http and https"
        )]
    );
    assert_eq!(
        err("alert 1 \"x\" { list hosts \"a.list\" }\n"),
        [format!("{t}:1:20: error: `list` takes `registry \"file\"`")]
    );
    assert_eq!(
        err("alert 1 \"x\" { list registry \"missing.csv\" }\n")[0],
        format!(
            "{t}:1:29: error: {}: no such file",
            d.path().join("missing.csv").display()
        )
    );
    // Parsed without a file: the same through read_text.
    assert!(read_text("x.rules", "alert 1 \"x\" { http.url http://e.example/a }\n").is_ok());
}

#[test]
fn address_tables_are_cached_and_damage_is_replaced() {
    let d = Dir::new("cache");
    let cache = Dir::new("cache-dir");
    d.file("addrs.list", "10.201.0.2\n");
    let rules = d.file(
        "t.rules",
        "alert 1 \"listed\" { server.ip list \"addrs.list\"; app tls }\n",
    );
    let check = || {
        let out = sift([
            "rules",
            "check",
            "--rules-cache",
            cache.path().to_str().unwrap(),
            &rules,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let first = check();
    assert!(
        first.contains("block lists: 1 addresses (4 ranges, built), 0 names, 0 URLs"),
        "{first}"
    );
    let tables: Vec<PathBuf> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "iptable"))
        .collect();
    assert_eq!(tables.len(), 1);
    let second = check();
    assert!(
        second.contains("block lists: 1 addresses (4 ranges, loaded from the cache)"),
        "{second}"
    );
    // A damaged entry is rebuilt and replaced.
    std::fs::write(&tables[0], b"SIFTIP01\x05").unwrap();
    let third = check();
    assert!(third.contains("(4 ranges, built)"), "{third}");
    assert!(check().contains("loaded from the cache"));
    let (events, _) = analyze(&rules, &["--rules-cache", cache.path().to_str().unwrap()]);
    assert_eq!(alerts(&events).len(), 4);
}

#[test]
fn a_generated_dump_loads_with_its_error_report() {
    let d = Dir::new("gen");
    let out = sift([
        "rules",
        "make-registry",
        "--addresses",
        "20000",
        "--names",
        "20000",
        "--urls",
        "2000",
        "--broken",
        "6",
        "--seed",
        "3",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("20000 addresses, 20000 names, 2000 URLs, 6 malformed"));
    let dump = d.file("dump.csv", &text(&out.stdout));
    let rules = d.file(
        "t.rules",
        "drop 10 \"registry\" { list registry \"dump.csv\" }\n",
    );
    let out = sift(["rules", "check", "--no-rules-cache", &rules]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.contains(": warning: malformed registry line"))
        .collect();
    assert_eq!(warnings.len(), 6, "{err}");
    assert!(
        warnings.iter().all(|w| w.starts_with(&format!("{dump}:"))),
        "{err}"
    );
    assert!(
        err.contains("6 malformed lines; the valid records and items were loaded"),
        "{err}"
    );
    let o = text(&out.stdout);
    assert!(o.contains("block lists: "), "{o}");
    assert!(
        o.contains(", 2,000 URLs, 6 malformed registry lines"),
        "{o}"
    );
}

#[test]
fn registry_report_per_class() {
    let d = Dir::new("report");
    d.file("dump.csv", DUMP);
    let rules = d.file(
        "t.rules",
        "drop 10 \"registry\" { list registry \"dump.csv\" }\n",
    );
    let sample = project_file("captures/sample.pcap");
    let vpn = project_file("captures/vpn/openvpn-udp-1194-plain.pcap");
    let obfs = project_file("captures/obfs/ss-aead-aes-128-gcm-443.pcap");
    let out = sift([
        "rules",
        "test",
        "--no-rules-cache",
        "--threads",
        "1",
        "--registry-report",
        &rules,
        "--capture",
        sample.to_str().unwrap(),
        "--capture",
        vpn.to_str().unwrap(),
        "--capture",
        obfs.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = text(&out.stdout);
    assert!(
        o.contains("\nregistry report (flows caught by a list entry, per class):\n"),
        "{o}"
    );
    // The sample's 18 flows; the 4 of the Shadowsocks capture are
    // obfuscated (fully encrypted).
    assert!(
        o.contains("\n  plain             18        8          4        3        1         10\n"),
        "{o}"
    );
    assert!(
        o.contains("\n  obfuscated         4        0          0        0        0          4\n"),
        "{o}"
    );
    assert!(
        o.contains("\n  vpn                1        0          0        0        0          1\n"),
        "{o}"
    );
    assert!(
        o.contains("\n  evasion            0        0          0        0        0          0\n"),
        "{o}"
    );
    assert!(
        o.contains("dump.csv:3  fd00:5f17::2  2-1/2021 of 2021-01-01\n"),
        "{o}"
    );
    assert!(
        o.contains("dump.csv:5  .cdn.example.test  4/2023 of 2023-01-01\n"),
        "{o}"
    );
    assert!(o.contains("\nflows past the lists inside a VPN, obfuscated or behind an evasion: 5\n  vpn        UDP 10.202.0.1:34598 -> 10.202.0.2:1194  (no name visible)\n"), "{o}");
}

fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        v.push(label.len() as u8);
        v.extend_from_slice(label.as_bytes());
    }
    v.extend_from_slice(&[0, 0, 1, 0, 1]);
    v
}

#[test]
fn unicode_and_punycode_names_match_the_same_queries() {
    let d = Dir::new("idn");
    d.file("idn.list", "пример.рф\n.Bücher.DE\nxn--80ak6aa92e.com\n");
    d.file("dump.csv", ";*.ПРИМЕР.РФ;;R;1/2026;2026-01-01\n");
    let rules = d.file(
        "t.rules",
        "alert 1 \"idn list\" { dns.query list \"idn.list\" }\nalert 2 \"idn registry\" { list registry \"dump.csv\" }\n",
    );
    let names = [
        "xn--e1afmkfd.xn--p1ai",
        "www.xn--e1afmkfd.xn--p1ai",
        "www.xn--bcher-kva.de",
        "xn--bcher-kva.de.evil.example",
        "xn--80ak6aa92e.com",
        "example.com",
    ];
    let frames: Vec<Frame> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Frame {
            src: ([10, 0, 0, 1], 20000 + i as u16),
            dst: ([10, 0, 0, 53], 53),
            tcp: None,
            payload: dns_query(i as u16 + 1, n),
        })
        .collect();
    let cap = TempFile::new("idn.pcap", &pcap::file(&frames));
    let (events, _) = analyze_capture(&rules, cap.path(), &["--no-rules-cache"]);
    let mut got: Vec<(String, u64)> = events
        .iter()
        .filter(|e| e["event_type"] == "alert")
        .map(|e| {
            (
                e["dns"]["rrname"].as_str().unwrap().to_string(),
                e["alert"]["signature_id"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    let want: Vec<(String, u64)> = [
        ("www.xn--bcher-kva.de", 1),
        ("www.xn--e1afmkfd.xn--p1ai", 2),
        ("xn--80ak6aa92e.com", 1),
        ("xn--e1afmkfd.xn--p1ai", 1),
        ("xn--e1afmkfd.xn--p1ai", 2),
    ]
    .iter()
    .map(|(n, i)| (n.to_string(), *i))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn registry_report_counts_evasion() {
    // A fake ClientHello with a bad checksum before the real one: the flow
    // is of class evasion, and its real name is what the registry sees.
    let d = Dir::new("report-evasion");
    d.file("dump.csv", DUMP);
    let rules = d.file(
        "t.rules",
        "drop 10 \"registry\" { list registry \"dump.csv\" }\n",
    );
    let fake = project_file("captures/evasion/emu-fake-badsum-tls13-v4.pcap");
    let out = sift([
        "rules",
        "test",
        "--no-rules-cache",
        "--threads",
        "1",
        "--registry-report",
        &rules,
        "--capture",
        fake.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = text(&out.stdout);
    let row = o
        .lines()
        .find(|l| l.starts_with("  evasion "))
        .unwrap_or_else(|| panic!("{o}"));
    let flows: u64 = row.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(flows >= 1, "{o}");
}
