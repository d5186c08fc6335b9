//! Rules: every syntax form, every error message (exact text), label
//! boundaries, precedence, the cache, and the tools (`rules check`,
//! `rules test`) on committed captures.

mod common;

use common::pcap::{self, Frame};
use common::{eve, project_file, sift, text, TempFile};
use serde_json::Value;
use sift::classify::AppProto;
use sift::rules::source::read_text;
use sift::rules::{Action, Cidr, Cond, EchWant, NamePattern, Side, Source, Sources};

fn parse(src: &str) -> Vec<sift::rules::Rule> {
    match read_text("t.rules", src) {
        Ok(p) => p.rules,
        Err(d) => panic!("{src}\n{d}"),
    }
}

/// The first diagnostic's headline and hint.
fn error_of(src: &str) -> (String, Option<String>) {
    let d = read_text("t.rules", src).expect_err(src);
    let first = &d.shown()[0];
    (first.headline(), first.hint.clone())
}

#[test]
fn every_syntax_form() {
    let rules = parse(
        r#"# comment
alert 1 "one line" { app tls }   # trailing comment
drop 2 "options" priority 1 category "cat" rev 7 {
    name example.com, .example.org *.example.net /^cdn[0-9]+\.x$/
    tls.sni|quic.sni sni.example
    http.host host.example; dns.query q.example
    app openvpn wireguard
    app ipsec
    app vpn
    transport tcp, udp, 47
    ip 10.0.0.0/8
    client.ip 2001:db8::/32
    server.ip 192.0.2.1
    port 53
    client.port 1024-65535
    server.port 443 8443
    ja3 E7D705A3286E19EA42F587B344EE6865
    ja4 t13d1516h2_8daaf6152771_b186095e22b6
    ech real
}
pass 3 "semicolons" { app dns; server.port 53 }
log 4 "escapes \"quoted\"" { ech absent }
alert 5 "upper case, trailing dot" { name WWW.Example.COM. }
"#,
    );
    assert_eq!(rules.len(), 5);
    let r = &rules[0];
    assert_eq!(
        (r.id, r.action, r.priority, r.rev),
        (1, Action::Alert, 3, 1)
    );
    assert_eq!(r.conds, vec![Cond::App(vec![AppProto::Tls])]);
    let r = &rules[1];
    assert_eq!(
        (r.action, r.priority, r.category.as_str(), r.rev),
        (Action::Drop, 1, "cat", 7)
    );
    assert_eq!(r.span.line, 3);
    assert_eq!(
        r.conds[0],
        Cond::Name {
            sources: Sources::ANY,
            patterns: vec![
                NamePattern::Exact("example.com".into()),
                NamePattern::Domain("example.org".into()),
                NamePattern::Subdomains("example.net".into()),
                NamePattern::Regex(r"^cdn[0-9]+\.x$".into()),
            ],
            list: None
        }
    );
    assert_eq!(
        r.conds[1],
        Cond::Name {
            sources: Sources::one(Source::TlsSni).with(Source::QuicSni),
            patterns: vec![NamePattern::Exact("sni.example".into())],
            list: None
        }
    );
    assert!(
        matches!(&r.conds[2], Cond::Name { sources, .. } if *sources == Sources::one(Source::HttpHost))
    );
    assert!(
        matches!(&r.conds[3], Cond::Name { sources, .. } if *sources == Sources::one(Source::DnsQuery))
    );
    assert_eq!(
        r.conds[4],
        Cond::App(vec![AppProto::OpenVpn, AppProto::WireGuard])
    );
    assert_eq!(
        r.conds[5],
        Cond::App(vec![AppProto::Ike, AppProto::Esp, AppProto::Ah])
    );
    assert_eq!(
        r.conds[6],
        Cond::App(vec![
            AppProto::OpenVpn,
            AppProto::WireGuard,
            AppProto::Ike,
            AppProto::Esp,
            AppProto::Ah
        ])
    );
    assert_eq!(r.conds[7], Cond::Transport(vec![6, 17, 47]));
    assert_eq!(
        r.conds[8],
        Cond::Ip {
            side: Side::Either,
            nets: vec![Cidr::parse("10.0.0.0/8").unwrap()]
        }
    );
    assert_eq!(
        r.conds[9],
        Cond::Ip {
            side: Side::Client,
            nets: vec![Cidr::parse("2001:db8::/32").unwrap()]
        }
    );
    assert_eq!(
        r.conds[10],
        Cond::Ip {
            side: Side::Server,
            nets: vec![Cidr::parse("192.0.2.1").unwrap()]
        }
    );
    assert_eq!(
        r.conds[11],
        Cond::Port {
            side: Side::Either,
            ranges: vec![(53, 53)]
        }
    );
    assert_eq!(
        r.conds[12],
        Cond::Port {
            side: Side::Client,
            ranges: vec![(1024, 65535)]
        }
    );
    assert_eq!(
        r.conds[13],
        Cond::Port {
            side: Side::Server,
            ranges: vec![(443, 443), (8443, 8443)]
        }
    );
    assert_eq!(
        r.conds[14],
        Cond::Ja3(vec!["e7d705a3286e19ea42f587b344ee6865".into()])
    );
    assert_eq!(
        r.conds[15],
        Cond::Ja4(vec!["t13d1516h2_8daaf6152771_b186095e22b6".into()])
    );
    assert_eq!(r.conds[16], Cond::Ech(EchWant::Real));
    assert_eq!(rules[2].conds.len(), 2);
    assert_eq!(rules[3].msg, "escapes \"quoted\"");
    assert_eq!(rules[3].conds, vec![Cond::Ech(EchWant::Absent)]);
    assert_eq!(
        rules[4].conds,
        vec![Cond::Name {
            sources: Sources::ANY,
            patterns: vec![NamePattern::Exact("www.example.com".into())],
            list: None
        }]
    );
}

#[test]
fn includes_and_lists() {
    let dir = std::env::temp_dir().join(format!("sift-rules-inc-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("lists")).unwrap();
    std::fs::write(
        dir.join("lists/names.list"),
        "# list\nexact.example\n.domain.example\n*.subs.example\n\n0.0.0.0 hosts.example  # hosts line\nUPPER.Example.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("inner.rules"),
        "alert 2 \"inner\" { name list \"lists/names.list\" }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.rules"),
        "include \"inner.rules\"\nalert 1 \"main\" { app tls }\n",
    )
    .unwrap();
    let set = sift::rules::RuleSet::load(&[dir.join("main.rules")], &Default::default()).unwrap();
    let ids: Vec<u32> = set.rules.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![2, 1]);
    let Cond::Name { patterns, list, .. } = &set.rules[0].conds[0] else {
        panic!()
    };
    assert_eq!(
        patterns,
        &vec![
            NamePattern::Exact("exact.example".into()),
            NamePattern::Domain("domain.example".into()),
            NamePattern::Subdomains("subs.example".into()),
            NamePattern::Exact("hosts.example".into()),
            NamePattern::Exact("upper.example".into()),
        ]
    );
    assert!(list.as_ref().unwrap().ends_with("lists/names.list"));
    // An include cycle and a bad list line are errors at their place.
    std::fs::write(dir.join("a.rules"), "include \"b.rules\"\n").unwrap();
    std::fs::write(
        dir.join("b.rules"),
        "alert 1 \"x\" { app tls }\ninclude \"a.rules\"\n",
    )
    .unwrap();
    let d = sift::rules::RuleSet::load(&[dir.join("a.rules")], &Default::default()).unwrap_err();
    let want = format!(
        "b.rules:2:9: error: `{}` includes itself",
        dir.join("a.rules").display()
    );
    assert!(d.shown()[0].headline().ends_with(&want), "{d}");
    std::fs::write(
        dir.join("bad.list"),
        "ok.example\ntwo names.example\nbad_*.example\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("c.rules"),
        "alert 1 \"x\" { name list \"bad.list\" }\n",
    )
    .unwrap();
    let d = sift::rules::RuleSet::load(&[dir.join("c.rules")], &Default::default()).unwrap_err();
    let heads: Vec<String> = d.shown().iter().map(|d| d.headline()).collect();
    assert!(
        heads[0].ends_with("bad.list:2:5: error: a list line holds one name"),
        "{heads:?}"
    );
    assert!(
        heads[1].ends_with("bad.list:3:1: error: `*` cannot appear in a name (`bad_*.example`)"),
        "{heads:?}"
    );
    std::fs::write(dir.join("d.rules"), "include \"nope.rules\"\n").unwrap();
    let d = sift::rules::RuleSet::load(&[dir.join("d.rules")], &Default::default()).unwrap_err();
    assert!(
        d.shown()[0].headline().contains("nope.rules: no such file"),
        "{d}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_error_message() {
    let long = format!("alert 1 \"x\" {{ name {}.com }}", "a".repeat(260));
    let cases: Vec<(&str, &str, Option<&str>)> = vec![
        ("\"x\"", "t.rules:1:1: error: expected a rule (alert, drop, pass or log) or `include`", None),
        ("reject 1 \"x\" { app tls }", "t.rules:1:1: error: `reject` is not a sift action", Some("sift records verdicts and never resets traffic: use `drop`")),
        ("alrt 1 \"x\" { app tls }", "t.rules:1:1: error: expected a rule action (alert, drop, pass or log) or `include`, found `alrt`", Some("did you mean `alert`?")),
        ("include rules", "t.rules:1:9: error: expected a quoted file name after `include`", Some("include \"other.rules\"")),
        ("alert", "t.rules:1:6: error: expected a rule id, found the end of the line", None),
        ("alert 0 \"x\" { app tls }", "t.rules:1:7: error: expected a rule id (1 to 4294967295), found `0`", None),
        ("alert \"x\" { app tls }", "t.rules:1:7: error: expected a rule id (a number)", Some("alert 1001 \"message\" { ... }")),
        ("alert 1 x { app tls }", "t.rules:1:9: error: expected the rule's message in double quotes", Some("alert 1 \"what this rule finds\" { ... }")),
        ("alert 1 \"x\" priority 0 { app tls }", "t.rules:1:22: error: priority must be 1 to 255, found `0`", Some("1 is the highest priority")),
        ("alert 1 \"x\" priority \"1\" { app tls }", "t.rules:1:22: error: expected a priority (1 to 255)", None),
        ("alert 1 \"x\" rev x { app tls }", "t.rules:1:17: error: expected a revision number, found `x`", None),
        ("alert 1 \"x\" category vpn { app tls }", "t.rules:1:22: error: expected the category in double quotes", None),
        ("alert 1 \"x\" prority 2 { app tls }", "t.rules:1:13: error: expected `{` or a rule option (priority, category, rev), found `prority`", Some("did you mean `priority`?")),
        ("alert 1 \"x\" ; app tls }", "t.rules:1:13: error: expected `{` to open the rule's conditions", None),
        ("alert 1 \"x\" { app tls", "t.rules:1:22: error: this rule's `{` is never closed", Some("add `}` after its conditions")),
        ("alert 1 \"x\" { \"app\" }", "t.rules:1:15: error: expected a condition (such as `name example.com` or `app tls`)", None),
        ("alert 1 \"x\" { app tls } x", "t.rules:1:25: error: expected the end of the line", Some("one rule or include per line; a rule's conditions go inside `{ }`")),
        ("alert 1 \"x\" { app }", "t.rules:1:15: error: `app` needs a value", Some("app openvpn, wireguard")),
        ("alert 1 \"x\" { app \"tls\" }", "t.rules:1:19: error: expected a value for `app`", Some("app openvpn, wireguard")),
        ("alert 1 \"x\" { app unknown }", "t.rules:1:19: error: `app unknown` cannot be matched", Some("a flow is unknown only until it is classified; rules match what sift found")),
        ("alert 1 \"x\" { app openvpm }", "t.rules:1:19: error: unknown application protocol `openvpm`", Some("did you mean `openvpn`?")),
        ("alert 1 \"x\" { app smb }", "t.rules:1:19: error: unknown application protocol `smb`", Some("one of http, tls, quic, dns, openvpn, wireguard, ike, esp, ah, mtproto, vless, trojan, mdns, llmnr, nbns, pptp, gre, l2tp, dtls, ipsec (ike, esp, ah), vpn (all five VPN protocols), proxy (vless, trojan)")),
        ("alert 1 \"x\" { obfuscation fully_encryptd }", "t.rules:1:27: error: unknown obfuscation class `fully_encryptd`", Some("did you mean `fully_encrypted`?")),
        ("alert 1 \"x\" { obfuscation.suspect wireguard }", "t.rules:1:35: error: unknown obfuscation suspect `wireguard`", Some("one of shadowsocks, shadowsocks-2022, vmess, obfs4, hysteria2-salamander, mtproxy")),
        ("alert 1 \"x\" { transport tpc2 }", "t.rules:1:25: error: unknown transport `tpc2`", Some("tcp, udp, sctp, icmp, icmpv6, esp, ah, gre, or an IP protocol number")),
        ("alert 1 \"x\" { ip 10.0.0 }", "t.rules:1:18: error: `10.0.0` is not an IPv4 or IPv6 address", Some("an address or block: 10.0.0.0/8, 2001:db8::/32, 192.0.2.1")),
        ("alert 1 \"x\" { server.ip ::1/129 }", "t.rules:1:25: error: prefix length `129` is not 0 to 128", Some("an address or block: 10.0.0.0/8, 2001:db8::/32, 192.0.2.1")),
        ("alert 1 \"x\" { port 443-80 }", "t.rules:1:20: error: `443-80` is not a port or port range", Some("a port 0 to 65535, or a range such as 1024-2048")),
        ("alert 1 \"x\" { ja3 abc }", "t.rules:1:19: error: `abc` is not a JA3 hash", Some("a JA3 hash is 32 hex digits (an MD5)")),
        ("alert 1 \"x\" { ja4 t13d }", "t.rules:1:19: error: `t13d` is not a JA4 fingerprint", Some("JA4 looks like t13d1516h2_8daaf6152771_b186095e22b6")),
        ("alert 1 \"x\" { ech present absent }", "t.rules:1:27: error: `ech` takes one value", Some("ech present")),
        ("alert 1 \"x\" { ech maybe }", "t.rules:1:19: error: unknown ech value `maybe`", Some("present, absent, real or grease")),
        ("alert 1 \"x\" { nam x.com }", "t.rules:1:15: error: unknown condition `nam`", Some("did you mean `name`?")),
        ("alert 1 \"x\" { name list }", "t.rules:1:20: error: expected a quoted list file after `list`", Some("name list \"domains.list\"")),
        ("alert 1 \"x\" { name list x.list }", "t.rules:1:25: error: expected a quoted list file after `list`", Some("name list \"domains.list\"")),
        ("alert 1 \"x\" { name a.*.com }", "t.rules:1:20: error: `*` cannot appear in a name (`a.*.com`)", Some("`*` is allowed only as a whole first label (`*.example.com`); use a regex for other wildcards")),
        ("alert 1 \"x\" { name bad$.com }", "t.rules:1:20: error: `$` cannot appear in a name (`bad$.com`)", Some("names hold letters, digits, `-`, `_` and dots (IDNs in their xn-- form)")),
        ("alert 1 \"x\" { name a..com }", "t.rules:1:20: error: `a..com` has an empty label", None),
        ("alert 1 \"x\" { name *. }", "t.rules:1:20: error: `*.` has no name", None),
        (&long, "", None),
        ("alert 1 \"x\" { tls.sni http.host }", "t.rules:1:23: error: `http.host` is a condition, not a name", Some("to match names from several sources write `tls.sni|http.host NAME`")),
        ("alert 1 \"x\" { name /(a/ }", "t.rules:1:20: error: invalid regex: Missing close parenthesis for group started at index 0.", Some("Hyperscan syntax (PCRE without backreferences or lookaround)")),
        ("alert 1 \"x\" { name \"a.com\" }", "t.rules:1:20: error: names are written without quotes: `a.com`", Some("use `list \"file\"` for a list file, /regex/ for a regex")),
        ("alert 1 \"x\" { name { }", "t.rules:1:20: error: expected a name for `name`", Some("name example.com | .example.com | *.example.com | /^cdn[0-9]+\\./ | list \"file\"")),
        ("alert 1 \"x { app tls }", "t.rules:1:9: error: unterminated string", Some("close it with `\"` on the same line")),
        ("alert 1 \"x\" { name /abc }", "t.rules:1:20: error: unterminated regex", Some("close it with `/` on the same line")),
        ("alert 1 \"a\" { app tls }\nalert 1 \"b\" { app dns }", "t.rules:2:1: error: duplicate rule id 1", Some("t.rules:1:1 already uses it; every rule needs its own id")),
        ("alert 1 \"x\" { name list \"/nonexistent/x.list\" }", "t.rules:1:25: error: /nonexistent/x.list: no such file", None),
    ];
    for (src, head, hint) in cases {
        let (h, ht) = error_of(src);
        if head.is_empty() {
            assert!(h.ends_with("is longer than a DNS name can be (253)"), "{h}");
            continue;
        }
        assert_eq!(h, head, "{src}");
        assert_eq!(ht.as_deref(), hint, "{src}");
    }
}

#[test]
fn errors_render_like_a_compiler_and_all_are_reported() {
    let d = read_text(
        "t.rules",
        "alert 1 \"ok\" { app tls }\nalert 2 \"vpn\" { app openvpm }\nalert 3 \"x\" { nam a.com }\n",
    )
    .unwrap_err();
    assert_eq!(
        d.to_string(),
        "t.rules:2:21: error: unknown application protocol `openvpm`\n \
         2 | alert 2 \"vpn\" { app openvpm }\n   \
         |                     ^^^^^^^\n  \
         = hint: did you mean `openvpn`?\n\
         t.rules:3:15: error: unknown condition `nam`\n \
         3 | alert 3 \"x\" { nam a.com }\n   \
         |               ^^^\n  \
         = hint: did you mean `name`?\n\
         2 errors in the rule files; the rule set was not loaded"
    );
}

#[test]
fn warnings_do_not_refuse_the_set() {
    let p = read_text("t.rules", "alert 1 \"all\" { }\n").unwrap();
    assert_eq!(p.warnings.len(), 1);
    assert_eq!(
        p.warnings[0].headline(),
        "t.rules:1:1: warning: rule 1 has no conditions and matches every flow"
    );
}

// ---------------------------------------------------------------------------
// End to end: a capture of DNS queries and HTTP requests, matched by rules.
// ---------------------------------------------------------------------------

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

/// One DNS query per name, each from its own port (one flow each).
fn dns_capture(names: &[&str]) -> TempFile {
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
    TempFile::new("dns.pcap", &pcap::file(&frames))
}

/// Signature ids alerted, by DNS query name.
type Alerts = Vec<(String, Vec<u64>)>;
/// Flow verdicts, by DNS query name.
type Verdicts = Vec<(String, String)>;

fn run(rules: &str, capture: &TempFile, threads: &str) -> (Alerts, Verdicts) {
    let rf = TempFile::new("t.rules", rules.as_bytes());
    let out = sift([
        "analyze",
        "--format",
        "json",
        "--no-rules-cache",
        "--threads",
        threads,
        "--rules",
        rf.path(),
        capture.path(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut alerts: Vec<(String, Vec<u64>)> = Vec::new();
    let mut verdicts = Vec::new();
    for e in eve(&out.stdout) {
        let name = e["dns"]["rrname"].as_str().unwrap_or("").to_string();
        match e["event_type"].as_str() {
            Some("alert") => {
                let id = e["alert"]["signature_id"].as_u64().unwrap();
                match alerts.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, v)) => v.push(id),
                    None => alerts.push((name, vec![id])),
                }
            }
            Some("flow") => {
                let v = e["verdict"]["action"].as_str().unwrap_or("-").to_string();
                verdicts.push((name, v));
            }
            _ => {}
        }
    }
    (alerts, verdicts)
}

#[test]
fn label_boundaries_end_to_end() {
    let names = [
        "example.com",
        "www.example.com",
        "a.b.example.com",
        "badexample.com",
        "example.com.evil.net",
        "xexample.com",
        "example.co",
        "www.example.comx",
        "cdn7.example.net",
        "xcdn7.example.net",
    ];
    let cap = dns_capture(&names);
    let rules = "alert 1 \"exact\" { dns.query example.com }\n\
                 alert 2 \"domain\" { name .example.com }\n\
                 alert 3 \"subdomains\" { name *.example.com }\n\
                 alert 4 \"regex\" { name /^cdn[0-9]+\\.example\\.net$/ }\n";
    let (alerts, _) = run(rules, &cap, "1");
    let got = |n: &str| {
        alerts
            .iter()
            .find(|(x, _)| x == n)
            .map_or_else(Vec::new, |(_, v)| {
                let mut v = v.clone();
                v.sort();
                v
            })
    };
    assert_eq!(got("example.com"), vec![1, 2]);
    assert_eq!(got("www.example.com"), vec![2, 3]);
    assert_eq!(got("a.b.example.com"), vec![2, 3]);
    for miss in [
        "badexample.com",
        "example.com.evil.net",
        "xexample.com",
        "example.co",
        "www.example.comx",
        "xcdn7.example.net",
    ] {
        assert!(got(miss).is_empty(), "{miss}: {:?}", got(miss));
    }
    assert_eq!(got("cdn7.example.net"), vec![4]);
}

#[test]
fn precedence_is_action_then_priority_then_id() {
    let cap = dns_capture(&["a.example", "b.example", "c.example", "d.example"]);
    let rules = "alert 10 \"alert all\" { name .example }\n\
                 drop 20 \"drop b\" { name b.example }\n\
                 pass 30 \"pass c\" priority 9 { name c.example }\n\
                 drop 21 \"drop c\" priority 1 { name c.example }\n\
                 log 40 \"log d\" priority 1 { name d.example }\n\
                 alert 11 \"alert d, same priority, higher id\" { name d.example }\n";
    let (alerts, verdicts) = run(rules, &cap, "1");
    let verdict = |n: &str| verdicts.iter().find(|(x, _)| x == n).unwrap().1.clone();
    assert_eq!(verdict("a.example"), "alert");
    assert_eq!(verdict("b.example"), "drop");
    // pass beats drop whatever the priorities, and lets no alert out.
    assert_eq!(verdict("c.example"), "pass");
    assert!(!alerts.iter().any(|(n, _)| n == "c.example"), "{alerts:?}");
    // alert beats log even at a lower priority.
    assert_eq!(verdict("d.example"), "alert");
    let mut d: Vec<u64> = alerts
        .iter()
        .find(|(n, _)| n == "d.example")
        .unwrap()
        .1
        .clone();
    d.sort();
    assert_eq!(d, vec![10, 11], "log rules write no alert");
    // The flow record lists every hit in precedence order.
    let rf = TempFile::new("t.rules", rules.as_bytes());
    let out = sift([
        "analyze",
        "--format",
        "json",
        "--no-rules-cache",
        "--rules",
        rf.path(),
        cap.path(),
    ]);
    let flows: Vec<Value> = eve(&out.stdout)
        .into_iter()
        .filter(|e| e["event_type"] == "flow")
        .collect();
    let c = flows
        .iter()
        .find(|e| e["dns"]["rrname"] == "c.example")
        .unwrap();
    let ids: Vec<u64> = c["sift"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["signature_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![30, 21, 10]);
    let d = flows
        .iter()
        .find(|e| e["dns"]["rrname"] == "d.example")
        .unwrap();
    let ids: Vec<u64> = d["sift"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["signature_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![10, 11, 40]);
    assert_eq!(d["flow"]["alerted"], true);
    assert_eq!(c["flow"]["alerted"], false);
}

#[test]
fn same_output_for_any_thread_count() {
    let cap = project_file("captures/sample.pcap");
    let rules = project_file("rules/default.rules");
    let outs: Vec<Vec<u8>> = ["1", "2", "3"]
        .iter()
        .map(|t| {
            let o = sift(
                [
                    "analyze",
                    "--format",
                    "json",
                    "--no-rules-cache",
                    "--threads",
                    t,
                    "--rules",
                ]
                .iter()
                .map(|s| s.to_string())
                .chain([rules.display().to_string(), cap.display().to_string()]),
            );
            assert!(o.status.success());
            o.stdout
        })
        .collect();
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
    let events = eve(&outs[0]);
    let alerts: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "alert")
        .collect();
    assert_eq!(
        alerts.len(),
        10,
        "the sample's 5 HTTP and 5 TLS flows alert (rule 9002)"
    );
    let a = alerts
        .iter()
        .find(|a| a["tls"]["sni"] == "secure.example.test")
        .unwrap();
    assert_eq!(a["alert"]["signature_id"], 9002);
    assert_eq!(a["alert"]["action"], "alert");
    assert_eq!(a["alert"]["category"], "lab");
    assert_eq!(a["alert"]["severity"], 5);
    assert_eq!(a["dest_port"], 8443);
    assert_eq!(a["sift"]["matched"][0]["condition"], "tls.sni");
    assert_eq!(a["sift"]["matched"][0]["value"], "secure.example.test");
    assert_eq!(a["sift"]["matched"][0]["pattern"], ".example.test");
    // Each alert comes before its flow's record.
    let pos = |pred: &dyn Fn(&Value) -> bool| events.iter().position(pred).unwrap();
    let fid = a["flow_id"].clone();
    assert!(
        pos(&|e| e["event_type"] == "alert" && e["flow_id"] == fid)
            < pos(&|e| e["event_type"] == "flow" && e["flow_id"] == fid)
    );
}

#[test]
fn default_rules_alert_on_every_recorded_vpn() {
    let dir = project_file("captures/vpn");
    let rules = project_file("rules/default.rules");
    let mut caps: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    caps.sort();
    assert!(caps.len() >= 18);
    for cap in caps {
        let out = sift([
            "analyze".to_string(),
            "--format".into(),
            "json".into(),
            "--no-rules-cache".into(),
            "--rules".into(),
            rules.display().to_string(),
            cap.display().to_string(),
        ]);
        assert!(out.status.success());
        let events = eve(&out.stdout);
        let vpn_flows: Vec<&Value> = events
            .iter()
            .filter(|e| e["event_type"] == "flow" && e["vpn"].is_object())
            .collect();
        assert!(!vpn_flows.is_empty(), "{}", cap.display());
        for f in vpn_flows {
            let proto = f["app_proto"].as_str().unwrap();
            let want = match proto {
                "openvpn" => 1001,
                "wireguard" => 1002,
                "ike" => 1003,
                _ => 1004,
            };
            let ids: Vec<u64> = f["sift"]["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["signature_id"].as_u64().unwrap())
                .collect();
            assert!(ids.contains(&want), "{}: {proto} {ids:?}", cap.display());
            // On port 443 the louder rule decides.
            if f["dest_port"] == 443 {
                assert_eq!(ids[0], 1010, "{}", cap.display());
            }
            let alerted = events.iter().any(|e| {
                e["event_type"] == "alert"
                    && e["flow_id"] == f["flow_id"]
                    && e["alert"]["signature_id"] == want
            });
            assert!(alerted, "{}", cap.display());
        }
    }
}

#[test]
fn cache_is_used_and_a_damaged_entry_is_replaced() {
    let dir = std::env::temp_dir().join(format!("sift-rules-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = sift::rules::LoadOptions {
        cache_dir: Some(dir.clone()),
        privileged: false,
    };
    let rules = project_file("rules/default.rules");
    let first = sift::rules::RuleSet::load(std::slice::from_ref(&rules), &opts).unwrap();
    assert!(!first.build.from_cache);
    let entry = first.build.cache.clone().expect("cache written");
    let second = sift::rules::RuleSet::load(std::slice::from_ref(&rules), &opts).unwrap();
    assert!(second.build.from_cache);
    assert_eq!(second.build.bytes, first.build.bytes);
    // Damaged: recompiled, rewritten, and the rules still match.
    let bytes = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap();
    let third = sift::rules::RuleSet::load(std::slice::from_ref(&rules), &opts).unwrap();
    assert!(!third.build.from_cache);
    assert_eq!(std::fs::read(&entry).unwrap().len(), bytes.len());
    let fourth = sift::rules::RuleSet::load(std::slice::from_ref(&rules), &opts).unwrap();
    assert!(fourth.build.from_cache);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rules_check_reports_duplicates_and_shadowed_rules() {
    let rf = TempFile::new(
        "check.rules",
        b"alert 1 \"org\" { name .example.org }\n\
          alert 2 \"www\" { name www.example.org }\n\
          drop 3 \"same as 1\" { name .example.org }\n\
          pass 4 \"pass tls\" { app tls }\n\
          alert 5 \"tls to example.net\" { app tls; name .example.net }\n\
          alert 6 \"not shadowed: other app\" { app quic; name .example.net }\n",
    );
    let out = sift(["rules", "check", "--no-rules-cache", rf.path()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = text(&out.stdout);
    let p = rf.path();
    assert!(
        o.starts_with("6 rules (0 in the Suricata subset) from 1 files: pass 1, drop 1, alert 4\n"),
        "{o}"
    );
    assert!(o.contains(&format!("duplicate: rule 3 (drop, {p}:3:1) has the same conditions as rule 1 (alert, {p}:1:1)\n")), "{o}");
    assert!(o.contains(&format!("shadowed: rule 1 (alert, {p}:1:1) never decides a verdict: rule 3 (drop, {p}:3:1) matches every flow it matches and comes first\n")), "{o}");
    assert!(o.contains(&format!("shadowed: rule 2 (alert, {p}:2:1) never decides a verdict: rule 3 (drop, {p}:3:1) matches every flow it matches and comes first\n")), "{o}");
    assert!(o.contains(&format!("shadowed: rule 5 (alert, {p}:5:1) never decides a verdict: rule 4 (pass, {p}:4:1) matches every flow it matches and comes first; a pass rule: it never alerts either\n")), "{o}");
    assert!(!o.contains("rule 6 (alert"), "{o}");
    // Errors: exit 2, the diagnostics alone on stderr.
    let bad = TempFile::new("bad.rules", b"alert 1 \"x\" { app nope }\n");
    let out = sift(["rules", "check", bad.path()]);
    assert_eq!(out.status.code(), Some(2));
    let e = text(&out.stderr);
    assert!(
        e.starts_with(&format!(
            "{}:1:19: error: unknown application protocol `nope`\n",
            bad.path()
        )),
        "{e}"
    );
    assert!(
        e.ends_with("1 error in the rule files; the rule set was not loaded\n"),
        "{e}"
    );
}

#[test]
fn rules_test_on_the_sample_capture() {
    let rules = project_file("rules/default.rules");
    let cap = project_file("captures/sample.pcap");
    let extra = TempFile::new(
        "extra.rules",
        format!(
            "include \"{}\"\nalert 50 \"www over TLS\" {{ tls.sni www.example.test; server.port 443 }}\n",
            rules.display()
        )
        .as_bytes(),
    );
    let out = sift([
        "rules",
        "test",
        "--no-rules-cache",
        "--threads",
        "1",
        "--explain",
        extra.path(),
        "--capture",
        cap.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = text(&out.stdout);
    assert!(
        o.contains("\n18 flows, 15 matched by a rule, 11 alerts\n"),
        "{o}"
    );
    assert!(
        o.contains(
            "\nhits per rule (flows matched / verdicts decided):\n        \
             9002       10 / 9        alert Lab connection to an example.test name\n        \
             9001        5 / 5        pass  Lab lookups of example.test names\n          \
             50        1 / 1        alert www over TLS\n"
        ),
        "{o}"
    );
    assert!(o.contains("\nrules that never hit: 14\n"), "{o}");
    assert!(o.contains("vpn.rules:4:1  OpenVPN tunnel\n"), "{o}");
    // Rule 50 (priority 3) decides before 9002 (priority 5).
    assert!(o.contains("\nflows matched by several rules: 1\n  TCP 10.201.0.1:56302 -> 10.201.0.2:443: rules 50, 9002 (verdict from 50)\n"), "{o}");
    // --explain: which condition saw which value.
    assert!(o.contains("TCP 10.201.0.1:56302 -> 10.201.0.2:443\n  alert rule 50 \"www over TLS\" (verdict)\n    tls.sni www.example.test matched www.example.test\n    server.port 443\n  alert rule 9002 \"Lab connection to an example.test name\"\n    tls.sni www.example.test matched .example.test\n"), "{o}");
    // Nothing unmatched has a name in the sample; a capture with names no
    // rule covers lists them, most frequent first.
    let cap2 = dns_capture(&[
        "a.unlisted.example",
        "b.unlisted.example",
        "a.unlisted.example",
        "x.listed.example",
    ]);
    let r2 = TempFile::new("r2.rules", b"alert 1 \"listed\" { name .listed.example }\n");
    let out = sift([
        "rules",
        "test",
        "--no-rules-cache",
        r2.path(),
        "--capture",
        cap2.path(),
    ]);
    let o = text(&out.stdout);
    assert!(o.contains("\ntop unmatched names (2 names in flows no rule matched):\n         2  a.unlisted.example\n         1  b.unlisted.example\n"), "{o}");
}

#[test]
fn suricata_subset_end_to_end() {
    let rf = TempFile::new(
        "et.rules",
        br#"# Emerging-Threats style SNI rules, as people bring them
alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:"ET-style lab TLS SNI"; flow:established,to_server; tls.sni; dotprefix; content:".example.test"; endswith; nocase; fast_pattern; reference:url,example.org; classtype:policy-violation; sid:3000001; rev:2; metadata:created_at 2026_11_25;)
alert http any any -> any any (msg:"lab host"; http.host; content:"www.example.test"; startswith; endswith; sid:3000002;)
pass dns any any -> any 53 (msg:"lab lookups"; dns.query; content:".example.test"; endswith; sid:3000003;)
alert tls any any -> any 8443 (msg:"secure on 8443"; tls.sni; content:"secure."; startswith; \
    pcre:"/^secure\.example\.test$/"; priority:1; sid:3000004;)
"#,
    );
    let cap = project_file("captures/sample.pcap");
    let out = sift([
        "analyze",
        "--format",
        "json",
        "--no-rules-cache",
        "--rules",
        rf.path(),
        cap.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("$HOME_NET"),
        "{}",
        text(&out.stderr)
    );
    let events = eve(&out.stdout);
    let flows: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "flow")
        .collect();
    let verdict_of = |f: &Value| f["verdict"]["action"].as_str().unwrap_or("-").to_string();
    let first_rule = |f: &Value| f["sift"]["rules"][0]["signature_id"].as_u64();
    for f in &flows {
        match f["app_proto"].as_str().unwrap() {
            "tls" if f["dest_port"] == 8443 => {
                assert_eq!(first_rule(f), Some(3000004), "priority 1 decides");
                assert_eq!(f["sift"]["rules"][1]["signature_id"], 3000001);
            }
            "tls" => assert_eq!(first_rule(f), Some(3000001), "{f}"),
            "http" if f["http"]["hostname"] == "www.example.test" => {
                assert_eq!(first_rule(f), Some(3000002))
            }
            "http" => assert_eq!(verdict_of(f), "-", "{f}"),
            "dns" => assert_eq!(verdict_of(f), "pass", "{f}"),
            _ => assert_eq!(verdict_of(f), "-", "{f}"),
        }
    }
    let alerts: Vec<u64> = events
        .iter()
        .filter(|e| e["event_type"] == "alert")
        .map(|e| e["alert"]["signature_id"].as_u64().unwrap())
        .collect();
    assert_eq!(alerts.iter().filter(|&&id| id == 3000001).count(), 5);
    assert_eq!(alerts.iter().filter(|&&id| id == 3000002).count(), 2);
    assert_eq!(alerts.iter().filter(|&&id| id == 3000004).count(), 1);
    assert!(!alerts.contains(&3000003), "pass rules write no alert");
    let a = events
        .iter()
        .find(|e| e["alert"]["signature_id"] == 3000001)
        .unwrap();
    assert_eq!(a["alert"]["rev"], 2);
    assert_eq!(a["alert"]["category"], "policy-violation");
    // Unsupported keywords are refused with their place.
    let bad = TempFile::new(
        "bad-et.rules",
        b"alert http any any -> any any (msg:\"x\"; http.uri; content:\"/a\"; sid:1;)\n",
    );
    let out = sift(["rules", "check", bad.path()]);
    assert_eq!(out.status.code(), Some(2));
    let e = text(&out.stderr);
    assert!(
        e.starts_with(&format!(
            "{}:1:41: error: unsupported keyword `http.uri`\n",
            bad.path()
        )),
        "{e}"
    );
}

/// A summary-only run skips JA3/JA4 unless a rule reads them: a `ja4` and a
/// `ja3` rule still match, in the summary as in the EVE records, and the
/// EVE records carry the fingerprints.
#[test]
fn fingerprint_rules_match_without_eve_output() {
    let cap = project_file("captures/sample.pcap");
    let json = sift(["analyze", "--format", "json", "-q", cap.to_str().unwrap()]);
    assert!(json.status.success(), "{}", text(&json.stderr));
    let hello = eve(&json.stdout)
        .into_iter()
        .find(|r| r["tls"]["ja4"].as_str().is_some_and(|j| !j.is_empty()))
        .expect("a TLS flow with a JA4 in the sample");
    let (ja3, ja4) = (
        hello["tls"]["ja3"]["hash"].as_str().unwrap().to_string(),
        hello["tls"]["ja4"].as_str().unwrap().to_string(),
    );
    assert_eq!(ja3.len(), 32, "{hello}");
    for (cond, value) in [("ja4", &ja4), ("ja3", &ja3)] {
        let r = TempFile::new(
            "fp.rules",
            format!("alert 7 \"by fingerprint\" {{ {cond} {value} }}\n").as_bytes(),
        );
        let out = sift([
            "analyze",
            "--no-rules-cache",
            "--rules",
            r.path(),
            cap.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let o = text(&out.stdout);
        assert!(o.contains("rule 7 "), "{cond}: {o}");
    }
}
