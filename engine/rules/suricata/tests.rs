//! Tests of the parent module, with real packet bytes.

use std::collections::HashSet;

use super::*;
use crate::rules::names::NameIndex;
use crate::rules::source::{read_text, Parsed, Severity};
use crate::rules::LoadOptions;

/// A valid first rule, so that a file whose next rule has a broken
/// header is still read as Suricata rules.
const FIRST: &str = "alert tls any any -> any any (tls.sni; content:\"first.example\"; sid:999;)\n";

fn parsed(text: &str) -> Parsed {
    read_text("t.rules", text).unwrap_or_else(|d| panic!("{d}"))
}

fn rule(text: &str) -> Rule {
    let p = parsed(text);
    assert_eq!(p.rules.len(), 1, "{:?}", p.rules);
    p.rules.into_iter().next().unwrap()
}

fn conds(text: &str) -> Vec<Cond> {
    rule(text).conds
}

/// Every error: (line, col, message, hint).
fn errors(text: &str) -> Vec<(u32, u32, String, Option<String>)> {
    let d = read_text("t.rules", text).expect_err("the rules should be refused");
    d.shown()
        .iter()
        .filter(|x| x.severity == Severity::Error)
        .map(|x| (x.span.line, x.span.col, x.message.clone(), x.hint.clone()))
        .collect()
}

/// The one error of a one-rule text: (col, message, hint).
fn error(text: &str) -> (u32, String, Option<String>) {
    let mut e = errors(text);
    assert_eq!(e.len(), 1, "{e:?}");
    let (line, col, msg, hint) = e.remove(0);
    assert_eq!(line, 1, "{msg}");
    (col, msg, hint)
}

/// The error of a one-rule text, its column and message.
fn err_at(text: &str) -> (u32, String) {
    let (col, msg, _) = error(text);
    (col, msg)
}

fn warnings(p: &Parsed) -> Vec<(u32, u32, String)> {
    p.warnings
        .iter()
        .filter(|w| w.severity == Severity::Warning)
        .map(|w| (w.span.line, w.span.col, w.message.clone()))
        .collect()
}

fn name(sources: Source, patterns: Vec<NamePattern>) -> Cond {
    Cond::Name {
        sources: Sources::one(sources),
        patterns,
        list: None,
    }
}

fn contains(text: &str, start: bool, end: bool) -> NamePattern {
    NamePattern::Contains {
        text: text.into(),
        start,
        end,
    }
}

fn tls(opts: &str) -> String {
    format!("alert tls any any -> any any ({opts})")
}

// ---- Rules in the style of real SNI rule sets ----

#[test]
fn et_style_policy_rule() {
    let text = "# Emerging-Threats-style policy rules\n\
        \n\
        alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:\"ET POLICY Observed Example Domain (example .com in TLS SNI)\"; \\\n\
        \x20   flow:established,to_server; tls.sni; content:\"example.com\"; bsize:11; fast_pattern; \\\n\
        \x20   reference:url,www.example.org/analysis; classtype:policy-violation; sid:2030000; rev:1; \\\n\
        \x20   metadata:attack_target Client_Endpoint, created_at 2020_04_20, deployment Perimeter, signature_severity Informational, updated_at 2020_04_20;)\n\
        alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:\"ET INFO Example CDN (cdn .example .net in TLS SNI)\"; flow:established,to_server; tls.sni; dotprefix; content:\".cdn.example.net\"; endswith; fast_pattern; classtype:misc-activity; sid:2030001; rev:3;)\n";
    let p = parsed(text);
    assert_eq!(p.rules.len(), 2);
    let r = &p.rules[0];
    assert_eq!(r.id, 2030000);
    assert_eq!(r.rev, 1);
    assert_eq!(r.action, Action::Alert);
    assert_eq!(
        r.msg,
        "ET POLICY Observed Example Domain (example .com in TLS SNI)"
    );
    assert_eq!(r.priority, crate::rules::DEFAULT_PRIORITY);
    assert_eq!(r.category, "policy-violation");
    assert_eq!(r.dialect, Dialect::Suricata);
    assert_eq!(
        r.span,
        Span {
            file: 0,
            line: 3,
            col: 1
        }
    );
    // bsize equal to the content's length: the content is the whole name.
    assert_eq!(
        r.conds,
        vec![
            Cond::App(vec![AppProto::Tls]),
            name(
                Source::TlsSni,
                vec![NamePattern::Exact("example.com".into())]
            ),
        ]
    );
    let r = &p.rules[1];
    assert_eq!(
        (r.id, r.rev, r.category.as_str()),
        (2030001, 3, "misc-activity")
    );
    assert_eq!(
        r.conds,
        vec![
            Cond::App(vec![AppProto::Tls]),
            name(
                Source::TlsSni,
                vec![NamePattern::Domain("cdn.example.net".into())]
            ),
        ]
    );
    // Each variable is reported once per file, where first seen.
    assert_eq!(
        warnings(&p),
        vec![
            (3, 11, "`$HOME_NET` is taken as any address".to_string()),
            (3, 28, "`$EXTERNAL_NET` is taken as any address".to_string()),
        ]
    );
}

#[test]
fn dns_query_nocase() {
    let p = parsed(
        "alert dns $HOME_NET any -> any any (msg:\"ET DNS Query for Evil\"; dns.query; content:\"Evil\"; nocase; sid:2;)\n\
         alert dns $HOME_NET any -> any any (msg:\"no nocase\"; dns.query; content:\"Evil.Example\"; sid:3;)\n",
    );
    assert_eq!(
        p.rules[0].conds,
        vec![
            Cond::App(vec![AppProto::Dns]),
            name(Source::DnsQuery, vec![contains("evil", false, false)]),
        ]
    );
    assert_eq!(
        p.rules[1].conds[1],
        name(
            Source::DnsQuery,
            vec![contains("evil.example", false, false)]
        )
    );
    // With nocase the content says it is caseless: only rule 3 warns.
    let w = warnings(&p);
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(
        w[1],
        (
            2,
            73,
            "content `Evil.Example` matches as `evil.example`: names are compared case-insensitively".to_string()
        )
    );
}

#[test]
fn quic_http_and_pcre() {
    assert_eq!(
        conds("alert quic any any -> any any (msg:\"QUIC to example\"; quic.sni; content:\"example.org\"; startswith; endswith; sid:4;)"),
        vec![
            Cond::App(vec![AppProto::Quic]),
            name(Source::QuicSni, vec![NamePattern::Exact("example.org".into())]),
        ]
    );
    assert_eq!(
        conds("alert http $HOME_NET any -> $EXTERNAL_NET any (msg:\"host starts with x\"; flow:established,to_server; http.host; content:\"x\"; startswith; sid:5;)"),
        vec![
            Cond::App(vec![AppProto::Http]),
            name(Source::HttpHost, vec![contains("x", true, false)]),
        ]
    );
    assert_eq!(
        conds(
            r#"alert tls any any -> any any (msg:"cdn"; tls.sni; pcre:"/^cdn[0-9]+\./i"; sid:6;)"#
        ),
        vec![
            Cond::App(vec![AppProto::Tls]),
            name(
                Source::TlsSni,
                vec![NamePattern::Regex(r"^cdn[0-9]+\.".into())]
            ),
        ]
    );
    // Contents are ANDed: one condition each; a pcre is one more.
    assert_eq!(
        conds(
            r#"alert ip any any -> any any (tls.sni; content:"cdn"; content:".example.com"; endswith; pcre:"/^cdn[0-9]/"; sid:7;)"#
        ),
        vec![
            name(Source::TlsSni, vec![contains("cdn", false, false)]),
            name(
                Source::TlsSni,
                vec![NamePattern::Subdomains("example.com".into())]
            ),
            name(Source::TlsSni, vec![NamePattern::Regex("^cdn[0-9]".into())]),
        ]
    );
    // Several buffers in one rule.
    assert_eq!(
        conds(
            r#"alert ip any any -> any any (tls.sni; content:"a"; http.host; content:"b"; endswith; sid:8;)"#
        ),
        vec![
            name(Source::TlsSni, vec![contains("a", false, false)]),
            name(Source::HttpHost, vec![contains("b", false, true)]),
        ]
    );
}

#[test]
fn content_to_patterns() {
    use NamePattern::{Domain, Exact, Subdomains};
    let p = |t: &str, s: bool, e: bool, d: bool| content_patterns(t, s, e, d);
    // Without dotprefix.
    assert_eq!(
        p("example.com", false, false, false),
        Some(vec![contains("example.com", false, false)])
    );
    assert_eq!(
        p("example.com", true, false, false),
        Some(vec![contains("example.com", true, false)])
    );
    assert_eq!(
        p("example.com", false, true, false),
        Some(vec![contains("example.com", false, true)])
    );
    assert_eq!(
        p("example.com", true, true, false),
        Some(vec![Exact("example.com".into())])
    );
    assert_eq!(
        p(".example.com", false, true, false),
        Some(vec![Subdomains("example.com".into())])
    );
    assert_eq!(
        p(".example.com", true, true, false),
        Some(vec![contains(".example.com", true, true)])
    );
    assert_eq!(
        p("a b", true, true, false),
        Some(vec![contains("a b", true, true)])
    );
    assert_eq!(
        p(".a*b", false, true, false),
        Some(vec![contains(".a*b", false, true)])
    );
    // With dotprefix: the buffer is `.name`.
    assert_eq!(
        p(".example.com", false, true, true),
        Some(vec![Domain("example.com".into())])
    );
    assert_eq!(
        p(".example.com", true, true, true),
        Some(vec![Exact("example.com".into())])
    );
    assert_eq!(
        p(".example", true, false, true),
        Some(vec![contains("example", true, false)])
    );
    assert_eq!(
        p(".example.com", false, false, true),
        Some(vec![
            contains("example.com", true, false),
            contains(".example.com", false, false)
        ])
    );
    assert_eq!(
        p(".ex*mple", false, true, true),
        Some(vec![
            contains("ex*mple", true, true),
            contains(".ex*mple", false, true)
        ])
    );
    assert_eq!(
        p(".x y", true, true, true),
        Some(vec![contains("x y", true, true)])
    );
    assert_eq!(
        p("example", false, false, true),
        Some(vec![contains("example", false, false)])
    );
    assert_eq!(
        p("example.com", false, true, true),
        Some(vec![contains("example.com", false, true)])
    );
    assert_eq!(p("example", true, false, true), None);
    assert_eq!(p("example", true, true, true), None);
}

#[test]
fn dotprefix_forms() {
    assert_eq!(
        conds(
            r#"alert dns any any -> any any (dns.query; dotprefix; content:".microsoft.com"; sid:1;)"#
        )[1],
        name(
            Source::DnsQuery,
            vec![
                contains("microsoft.com", true, false),
                contains(".microsoft.com", false, false)
            ]
        )
    );
    assert_eq!(
        conds(
            r#"alert dns any any -> any any (dns.query; dotprefix; content:".example.net"; endswith; sid:1;)"#
        )[1],
        name(
            Source::DnsQuery,
            vec![NamePattern::Domain("example.net".into())]
        )
    );
    // A content without its dot matches inside the name.
    assert_eq!(
        conds(
            r#"alert dns any any -> any any (dns.query; dotprefix; content:"example.net"; endswith; sid:1;)"#
        )[1],
        name(Source::DnsQuery, vec![contains("example.net", false, true)])
    );
}

#[test]
fn dotprefix_errors() {
    assert_eq!(
        error(&tls(
            r#"tls.sni; dotprefix; content:"example"; startswith; sid:1;"#
        )),
        (
            59,
            "content `example` can never match at the start of a `dotprefix` buffer".to_string(),
            Some("`dotprefix` puts a `.` before the name: write the content as `.example`".into())
        )
    );
    assert_eq!(
        error(&tls(r#"tls.sni; content:".example.com"; dotprefix; endswith; sid:1;"#)),
        (
            64,
            "`dotprefix` must come right after `tls.sni`, once".to_string(),
            Some("it transforms the whole buffer: `tls.sni; dotprefix; content:\".example.com\"; endswith;`".into())
        )
    );
    assert_eq!(
        err_at(&tls(
            r#"tls.sni; dotprefix; dotprefix; content:".a"; sid:1;"#
        )),
        (
            51,
            "`dotprefix` must come right after `tls.sni`, once".to_string()
        )
    );
    assert_eq!(
        error(&tls(r#"dotprefix; content:".a"; sid:1;"#)),
        (
            31,
            "`dotprefix` needs a buffer first: `tls.sni`, `quic.sni`, `dns.query` or `http.host`"
                .to_string(),
            Some(
                "sift matches server names: write `tls.sni;` (or another) before `dotprefix`"
                    .into()
            )
        )
    );
    assert_eq!(
        error(&tls(r#"tls.sni; dotprefix; pcre:"/^a/"; sid:1;"#)),
        (
            51,
            "`pcre` on a `dotprefix` buffer is not supported".to_string(),
            Some("sift matches a regex against the bare name (`^` and `$` are its ends): drop `dotprefix` and write the regex for the name".into())
        )
    );
    // A new sticky buffer starts without the transform.
    assert_eq!(
        conds(&tls(
            r#"tls.sni; dotprefix; content:".a.com"; endswith; tls.sni; content:"b"; startswith; sid:1;"#
        ))[1..],
        [
            name(Source::TlsSni, vec![NamePattern::Domain("a.com".into())]),
            name(Source::TlsSni, vec![contains("b", true, false)]),
        ]
    );
}

#[test]
fn bsize_forms() {
    let len = |opts: &str| conds(&tls(&format!("tls.sni; {opts} sid:1;")))[1..].to_vec();
    let length = |min: usize, max: usize| Cond::NameLength {
        sources: Sources::one(Source::TlsSni),
        min,
        max,
    };
    assert_eq!(len("bsize:11;"), vec![length(11, 11)]);
    assert_eq!(len("bsize:=0x0b;"), vec![length(11, 11)]);
    assert_eq!(len("bsize:<11;"), vec![length(0, 10)]);
    assert_eq!(len("bsize:<=11;"), vec![length(0, 11)]);
    assert_eq!(len("bsize:>11;"), vec![length(12, usize::MAX)]);
    assert_eq!(len("bsize:>=11;"), vec![length(11, usize::MAX)]);
    assert_eq!(len("bsize:5<>9;"), vec![length(6, 8)]);
    assert_eq!(len("bsize: 5 <> 9 ;"), vec![length(6, 8)]);
    assert_eq!(len("bsize:5-9;"), vec![length(6, 8)]);
    // Suricata checks the transformed buffer: one byte more than the name.
    assert_eq!(len("dotprefix; bsize:12;"), vec![length(11, 11)]);
    assert_eq!(len("dotprefix; bsize:<=1;"), vec![length(0, 0)]);
    assert_eq!(len("dotprefix; bsize:>3;"), vec![length(3, usize::MAX)]);
    // An exact bsize as long as a content makes it the whole name; a
    // different one is kept as a length.
    assert_eq!(
        len(r#"content:"example.com"; bsize:11;"#),
        vec![name(
            Source::TlsSni,
            vec![NamePattern::Exact("example.com".into())]
        )]
    );
    assert_eq!(
        len(r#"bsize:11; content:"example.com";"#),
        vec![
            length(11, 11),
            name(
                Source::TlsSni,
                vec![NamePattern::Exact("example.com".into())]
            )
        ]
        .into_iter()
        .filter(|c| !matches!(c, Cond::NameLength { .. }))
        .collect::<Vec<_>>()
    );
    assert_eq!(
        len(r#"dotprefix; content:".example.com"; bsize:12;"#),
        vec![name(
            Source::TlsSni,
            vec![NamePattern::Exact("example.com".into())]
        )]
    );
    assert_eq!(
        len(r#"content:"example"; bsize:<20;"#),
        vec![
            name(Source::TlsSni, vec![contains("example", false, false)]),
            length(0, 19)
        ]
    );
    assert_eq!(
        len(r#"content:"google.com"; bsize:12;"#),
        vec![
            name(Source::TlsSni, vec![contains("google.com", false, false)]),
            length(12, 12)
        ]
    );
}

#[test]
fn bsize_errors() {
    let e = |opts: &str| error(&tls(&format!("tls.sni; {opts} sid:1;")));
    assert_eq!(
        e(r#"content:"example.com"; bsize:5;"#),
        (
            69,
            "`bsize:5` can never match: content `example.com` is 11 bytes".to_string(),
            None
        )
    );
    assert_eq!(
        e(r#"content:"example.com"; startswith; endswith; bsize:>20;"#).1,
        "`bsize:>20` can never match: content `example.com` is 11 bytes"
    );
    assert_eq!(
        e("bsize:<0;"),
        (46, "`bsize:<0` can never match".to_string(), None)
    );
    assert_eq!(
        e("bsize:5<>6;"),
        (
            46,
            "`bsize:5<>6` allows no length".to_string(),
            Some("ranges are exclusive: `5<>8` means 6 or 7".into())
        )
    );
    assert_eq!(
        e("bsize:!5;"),
        (
            46,
            "negated `bsize` is not supported".to_string(),
            Some(NOT_HINT.into())
        )
    );
    assert_eq!(
        e("bsize:abc;"),
        (
            46,
            "`abc` is not a length".to_string(),
            Some("`bsize:N`, `<N`, `<=N`, `>N`, `>=N` or `N<>M` (exclusive)".into())
        )
    );
    assert_eq!(
        e("bsize:99999999999999999999999;").1,
        "`99999999999999999999999` is not a length"
    );
    assert_eq!(
        e("bsize:>18446744073709551615;").1,
        "`bsize:>18446744073709551615` can never match"
    );
    assert_eq!(
        e("bsize:1; bsize:2;"),
        (
            49,
            "`bsize` appears twice for this `tls.sni`".to_string(),
            None
        )
    );
    assert_eq!(
        e("dotprefix; bsize:0;"),
        (
            57,
            "`bsize:0` can never match a `dotprefix` buffer".to_string(),
            Some("the buffer holds at least the added `.`".into())
        )
    );
    assert_eq!(
        err_at(&tls("bsize:3; sid:1;")),
        (
            31,
            "`bsize` needs a buffer first: `tls.sni`, `quic.sni`, `dns.query` or `http.host`"
                .to_string()
        )
    );
}

// ---- Header ----

#[test]
fn actions() {
    let with = |a: &str| format!("{a} tls any any -> any any (tls.sni; content:\"x\"; sid:1;)");
    assert_eq!(rule(&with("alert")).action, Action::Alert);
    assert_eq!(rule(&with("drop")).action, Action::Drop);
    assert_eq!(rule(&with("pass")).action, Action::Pass);
    for r in ["reject", "rejectsrc", "rejectdst", "rejectboth"] {
        let (col, msg, hint) = error(&with(r));
        assert_eq!(col, 1);
        assert_eq!(msg, format!("`{r}` is not a sift action"));
        assert_eq!(
            hint.as_deref(),
            Some("sift records verdicts and never resets traffic: use `drop`")
        );
    }
    assert_eq!(
        error(&with("log")),
        (
            1,
            "`log` is not a Suricata action".to_string(),
            Some(
                "Suricata rules use alert, drop or pass (`log` is in sift's own rule language)"
                    .into()
            )
        )
    );
    assert_eq!(
        error(&with("alret")),
        (
            1,
            "expected a rule action (alert, drop or pass), found `alret`".to_string(),
            Some("did you mean `alert`?".into())
        )
    );
}

#[test]
fn protocols() {
    use crate::decode::ip::proto;
    let with = |p: &str| conds(&format!("alert {p} any any -> any any (sid:1;)"));
    assert!(with("ip").is_empty());
    assert!(with("any").is_empty());
    assert!(with("pkthdr").is_empty());
    assert_eq!(with("tcp"), vec![Cond::Transport(vec![proto::TCP])]);
    assert_eq!(with("udp"), vec![Cond::Transport(vec![proto::UDP])]);
    assert_eq!(with("sctp"), vec![Cond::Transport(vec![proto::SCTP])]);
    assert_eq!(
        with("icmp"),
        vec![Cond::Transport(vec![proto::ICMP, proto::ICMPV6])]
    );
    assert_eq!(with("icmpv4"), vec![Cond::Transport(vec![proto::ICMP])]);
    assert_eq!(with("icmpv6"), vec![Cond::Transport(vec![proto::ICMPV6])]);
    assert_eq!(with("TCP"), vec![Cond::Transport(vec![proto::TCP])]);
    assert_eq!(with("http"), vec![Cond::App(vec![AppProto::Http])]);
    assert_eq!(with("http1"), vec![Cond::App(vec![AppProto::Http])]);
    assert_eq!(with("dns"), vec![Cond::App(vec![AppProto::Dns])]);
    assert_eq!(with("mdns"), vec![Cond::App(vec![AppProto::Mdns])]);
    assert_eq!(with("nbns"), vec![Cond::App(vec![AppProto::Nbns])]);
    assert_eq!(with("ikev2"), vec![Cond::App(vec![AppProto::Ike])]);
    assert_eq!(
        with("wireguard"),
        vec![Cond::App(vec![AppProto::WireGuard])]
    );
    assert_eq!(
        error("alert ssh any any -> any any (sid:1;)"),
        (
            7,
            "sift does not classify `ssh`".to_string(),
            Some(format!(
                "sift classifies {SIFT_APPS}; ip, tcp, udp, icmp and sctp work too"
            ))
        )
    );
    assert_eq!(
        error("alert tlss any any -> any any (sid:1;)"),
        (
            7,
            "unknown protocol `tlss`".to_string(),
            Some("did you mean `tls`?".into())
        )
    );
    assert_eq!(
        error("alert frobnicate any any -> any any (sid:1;)").2,
        Some(format!(
            "ip, any, tcp, udp, icmp, sctp, or what sift classifies: {SIFT_APPS}"
        ))
    );
}

#[test]
fn addresses_and_ports() {
    // (A first rule, as source::detect looks for the arrow within
    // the first words, which lists with spaces push further.)
    let p = parsed(&format!(
        "{FIRST}alert tcp [10.0.0.0/8, 192.0.2.1,[2001:db8::/32]] [1024:, 22] -> 198.51.100.0/24 [80,443,8000:8080,:10] (sid:1;)"
    ));
    let c = p.rules[1].conds.clone();
    let net = |s: &str| Cidr::parse(s).unwrap();
    assert_eq!(
        c[1..],
        [
            Cond::Ip {
                side: Side::Client,
                nets: vec![net("10.0.0.0/8"), net("192.0.2.1"), net("2001:db8::/32")]
            },
            Cond::Port {
                side: Side::Client,
                ranges: vec![(1024, 65535), (22, 22)]
            },
            Cond::Ip {
                side: Side::Server,
                nets: vec![net("198.51.100.0/24")]
            },
            Cond::Port {
                side: Side::Server,
                ranges: vec![(80, 80), (443, 443), (8000, 8080), (0, 10)]
            },
        ]
    );
    // `<>`: either end; `any` in a list is any; spaces in lists.
    assert_eq!(
        parsed(&format!(
            "{FIRST}alert udp 192.0.2.7 [53, any] <> any [80: 82] (sid:1;)"
        ))
        .rules[1]
            .conds[1..],
        [
            Cond::Ip {
                side: Side::Either,
                nets: vec![net("192.0.2.7")]
            },
            Cond::Port {
                side: Side::Either,
                ranges: vec![(80, 82)]
            },
        ]
    );
    // Variables are any, with a warning once per file.
    let p = parsed(
        "alert tls $HOME_NET $HTTP_PORTS -> [$EXTERNAL_NET, 10.0.0.1] any (sid:1;)\n\
         alert tls $HOME_NET any -> any $HTTP_PORTS (sid:2;)\n",
    );
    assert_eq!(p.rules[0].conds, vec![Cond::App(vec![AppProto::Tls])]);
    assert_eq!(
        warnings(&p),
        vec![
            (1, 11, "`$HOME_NET` is taken as any address".to_string()),
            (1, 21, "`$HTTP_PORTS` is taken as any port".to_string()),
            (1, 37, "`$EXTERNAL_NET` is taken as any address".to_string()),
        ]
    );
    assert_eq!(
        p.warnings[1].hint.as_deref(),
        Some("sift has no rule variables; write the ports to restrict the rule (reported once per file)")
    );
}

#[test]
fn header_errors() {
    let neg = format!("{NOT_HINT}; or list the addresses the rule is for");
    assert_eq!(
        error("alert tls !10.0.0.1 any -> any any (sid:1;)"),
        (
            11,
            "negated addresses are not supported".to_string(),
            Some(neg)
        )
    );
    assert_eq!(
        err_at("alert tls [10.0.0.0/8, !10.0.0.5] any -> any any (sid:1;)"),
        (24, "negated addresses are not supported".to_string())
    );
    assert_eq!(
        err_at("alert tls any !80 -> any any (sid:1;)"),
        (15, "negated ports are not supported".to_string())
    );
    assert_eq!(
        err_at("alert tls any any -> 10.0.0.300 any (sid:1;)"),
        (
            22,
            "`10.0.0.300` is not an IPv4 or IPv6 address".to_string()
        )
    );
    assert_eq!(
        err_at("alert tls any any -> 10.0.0.0/40 any (sid:1;)"),
        (22, "prefix length `40` is not 0 to 32".to_string())
    );
    assert_eq!(
        error("alert tls any any -> any 70000 (sid:1;)"),
        (
            26,
            "`70000` is not a port or port range (0 to 65535)".to_string(),
            Some("a port (443), a range (1024:2048, 1024:, :1023), a list `[80, 443]`, `any` or a `$VARIABLE`".into())
        )
    );
    assert_eq!(
        err_at("alert tls any any -> any 90:80 (sid:1;)"),
        (26, "port range `90:80` runs backwards".to_string())
    );
    assert_eq!(
        err_at("alert tls any any -> any [] (sid:1;)"),
        (26, "empty port list".to_string())
    );
    assert_eq!(
        err_at("alert tls any any -> any [80 443] (sid:1;)"),
        (
            27,
            "`80443` is not a port or port range (0 to 65535)".to_string()
        )
    );
    assert_eq!(
        error("alert tls [1.2.3.4 any -> any any (sid:1;)"),
        (
            11,
            "this `[` is never closed".to_string(),
            Some("close the list with `]`".into())
        )
    );
    assert_eq!(
        err_at("alert tls [1.2.3.4 any] any -> any any (sid:1;)"),
        (
            12,
            "`1.2.3.4 any` is not an IPv4 or IPv6 address".to_string()
        )
    );
    assert_eq!(
        err_at("alert tls [1.2.3.4[5.6.7.8]] any -> any any (sid:1;)"),
        (
            19,
            "expected `,` or `]` in the address list, found `[`".to_string()
        )
    );
    assert_eq!(
        err_at("alert tls [1.2.3.4,[5.6.7.8] any -> any any (sid:1;)"),
        (11, "this `[` is never closed".to_string())
    );
    assert_eq!(
        err_at("alert tls [1.2.3.4],5.6.7.8 any -> any any (sid:1;)"),
        (20, "unexpected `,` in the address field".to_string())
    );
    let deep = format!(
        "alert tls {}1.2.3.4{} any -> any any (sid:1;)",
        "[".repeat(20),
        "]".repeat(20)
    );
    assert_eq!(
        err_at(&deep),
        (19, "address lists nested too deep".to_string())
    );
    // Directions and missing fields; a first rule makes these files
    // Suricata rules.
    let second = |r: &str| {
        let e = errors(&format!("{FIRST}{r}"));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, 2);
        (e[0].1, e[0].2.clone(), e[0].3.clone())
    };
    assert_eq!(
        second("alert tls any any <- any any (sid:1;)"),
        (
            19,
            "expected `->` or `<>`, found `<-`".to_string(),
            Some("there is no `<-`: swap the two sides and write `->`".into())
        )
    );
    assert_eq!(
        second("alert tls any -> any any (sid:1;)"),
        (
            15,
            "expected a source port before `->`".to_string(),
            Some(HEADER.into())
        )
    );
    assert_eq!(
        second("alert tls any any -> any (sid:1;)").1,
        "expected a destination port, found `(`"
    );
    assert_eq!(
        second("alert tls any any -> any any").1,
        "expected `(` and the rule's options, found the end of the rule"
    );
    assert_eq!(
        second("alert tls any any -> any any any (sid:1;)"),
        (
            30,
            "expected `(` to open the rule's options, found `any`".to_string(),
            Some(HEADER.into())
        )
    );
    assert_eq!(
        second("alert tls any any any -> any (sid:1;)").1,
        "expected `->` or `<>`, found `any`"
    );
    assert_eq!(
        second("alert"),
        (
            6,
            "expected a protocol, found the end of the rule".to_string(),
            Some(HEADER.into())
        )
    );
    assert_eq!(
        second("(sid:1;)").1,
        "expected a rule action (alert, drop or pass), found `(`"
    );
}

// ---- Options ----

#[test]
fn meta_options() {
    let r = rule(
        r#"drop tls any any -> any any (msg:"a \"quoted\"\; semi\\colon"; priority:1; rev:7; classtype:trojan-activity; reference:url,example.org; metadata:created_at 2024_01_01; tls.sni; content:"x"; fast_pattern; sid:4294967295;)"#,
    );
    assert_eq!(r.msg, r#"a "quoted"; semi\colon"#);
    assert_eq!((r.priority, r.rev, r.id), (1, 7, u32::MAX));
    assert_eq!(r.category, "trojan-activity");
    assert_eq!(r.action, Action::Drop);
    // Defaults: no msg, rev 0 (as Suricata reports it), priority 3.
    let r = rule("pass tls any any -> any any (tls.sni; content:\"x\"; sid:1)");
    assert_eq!(
        (r.msg.as_str(), r.rev, r.priority),
        ("", 0, crate::rules::DEFAULT_PRIORITY)
    );
    // The flow values that hold for names a client sends.
    for f in [
        "established",
        "to_server",
        "from_client",
        "established,to_server",
        " established , to_server ",
    ] {
        assert_eq!(
            rule(&tls(&format!("flow:{f}; tls.sni; content:\"x\"; sid:1;"))).id,
            1,
            "{f}"
        );
    }
}

#[test]
fn meta_errors() {
    assert_eq!(
        error(&tls(r#"msg:"no sid"; tls.sni; content:"x";"#)),
        (
            1,
            "this rule has no `sid`".to_string(),
            Some("every rule needs a sid: add `sid:N;` with a number no other rule uses".into())
        )
    );
    assert_eq!(
        err_at(&tls("sid:0;")),
        (35, "`sid` must be 1 to 4294967295, found `0`".to_string())
    );
    assert_eq!(
        err_at(&tls("sid:4294967296;")),
        (
            35,
            "`sid` must be 1 to 4294967295, found `4294967296`".to_string()
        )
    );
    assert_eq!(
        err_at(&tls("sid:1; sid:2;")),
        (38, "`sid` appears twice in this rule".to_string())
    );
    assert_eq!(
        error(&tls("sid:1; priority:0;")),
        (
            47,
            "`priority` must be 1 to 255, found `0`".to_string(),
            Some("1 is the highest priority".into())
        )
    );
    assert_eq!(
        err_at(&tls("sid:1; priority:256;")).1,
        "`priority` must be 1 to 255, found `256`"
    );
    assert_eq!(
        err_at(&tls("sid:1; rev:x;")),
        (42, "`rev` must be 0 to 4294967295, found `x`".to_string())
    );
    assert_eq!(
        error(&tls("sid:1; msg:hello;")),
        (
            42,
            "expected a quoted value for `msg`".to_string(),
            Some("msg:\"what this rule finds\";".into())
        )
    );
    assert_eq!(
        error(&tls("sid:1; msg;")),
        (
            38,
            "`msg` needs a value".to_string(),
            Some("msg:\"what this rule finds\";".into())
        )
    );
    assert_eq!(
        err_at(&tls("sid:; msg:\"x\";")),
        (31, "`sid` needs a value".to_string())
    );
    assert_eq!(
        err_at(&tls(r#"sid:1; msg:"a" "b";"#)),
        (46, "unexpected `\"b\"` after the closing quote".to_string())
    );
    assert_eq!(
        error(&tls("sid:1; flow:established,to_client;")),
        (
            55,
            "unsupported flow value `to_client`".to_string(),
            Some("sift matches names the client sends, so only `established`, `to_server` and `from_client` apply".into())
        )
    );
    assert_eq!(
        err_at(&tls("sid:1; flow:established,;")).1,
        "unsupported flow value `(empty)`"
    );
    assert_eq!(
        error(&tls("sid:1; nocase:1;")),
        (
            45,
            "`nocase` takes no value".to_string(),
            Some("write `nocase;`".into())
        )
    );
    assert_eq!(
        error(&tls(r#"msg "x"; sid:1;"#)),
        (
            35,
            "expected `:` or `;` after `msg`, found `\"`".to_string(),
            None
        )
    );
    // Without its `;`, the next option is part of the value.
    assert_eq!(
        err_at(&tls(r#"sid:1 msg:"x";"#)),
        (
            35,
            "`sid` must be 1 to 4294967295, found `1 msg:\"x\"`".to_string()
        )
    );
    assert_eq!(
        err_at(&tls("sid:1;; msg:\"x\";")),
        (37, "expected an option keyword, found `;`".to_string())
    );
}

#[test]
fn unsupported_keywords_at_their_column() {
    let e = |opts: &str| error(&tls(opts));
    assert_eq!(
        e(r#"http.uri; content:"/x"; sid:1;"#),
        (
            31,
            "unsupported keyword `http.uri`".to_string(),
            Some(format!("sift reads {}", SUPPORTED.join(", ")))
        )
    );
    let whole = "sift matches whole names: use `startswith`, `endswith`, `bsize` or `pcre`";
    for (k, col) in [
        ("depth:4", 59),
        ("offset:1", 59),
        ("distance:0", 59),
        ("within:5", 59),
        ("isdataat:!1,relative", 59),
    ] {
        let (c, msg, hint) = e(&format!(r#"tls.sni; content:"example"; {k}; sid:1;"#));
        let key = k.split(':').next().unwrap();
        assert_eq!(
            (c, msg.as_str()),
            (col, format!("unsupported keyword `{key}`").as_str())
        );
        assert_eq!(hint.as_deref(), Some(whole));
    }
    assert_eq!(
        e(r#"tls.sni; content:"x"; byte_test:1,>,2,0; flowbits:set,x; sid:1;"#).0,
        53
    );
    assert_eq!(
        e(r#"flowbits:isset,foo; tls.sni; content:"x"; sid:1;"#).1,
        "unsupported keyword `flowbits`"
    );
    assert_eq!(
        e(r#"tls.sni; content:"x"; threshold:type limit, track by_src, count 1, seconds 60; sid:1;"#).1,
        "unsupported keyword `threshold`"
    );
    assert_eq!(
        e("ja3.hash; content:\"e7d705a3286e19ea42f587b344ee6865\"; sid:1;"),
        (
            31,
            "unsupported keyword `ja3.hash`".to_string(),
            Some(
                "sift's own rule language matches fingerprints: `ja3 <hash>`, `ja4 <fingerprint>`"
                    .into()
            )
        )
    );
    assert_eq!(
        e(r#"content:"example.com"; http_host; sid:1;"#),
        (
            54,
            "unsupported keyword `http_host`".to_string(),
            Some("the old content modifier: write `http.host;` before the content".into())
        )
    );
    assert_eq!(
        e(r#"tls_sni; content:"example.com"; sid:1;"#).2,
        Some("the old name of the sticky buffer: write `tls.sni;` before the content".into())
    );
    assert_eq!(
        e(r#"dns_query; content:"example.com"; sid:1;"#).2,
        Some("the old name of the sticky buffer: write `dns.query;` before the content".into())
    );
    assert_eq!(
        e(r#"http.host.raw; content:"x"; sid:1;"#).2,
        Some(
            "sift matches the normalized host (lowercase, without the port): use `http.host`"
                .into()
        )
    );
    assert_eq!(
        e(r#"tls.sn; content:"x"; sid:1;"#).2,
        Some("did you mean `tls.sni`?".into())
    );
    // A keyword on a continuation line is placed on that line.
    let errs = errors(
        "alert tls any any -> any any (tls.sni; \\\n   content:\"x\"; \\\n  \tdepth:3; sid:1;)\n",
    );
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].0, errs[0].1), (3, 4));
}

#[test]
fn content_forms() {
    let c = |v: &str| conds(&tls(&format!("tls.sni; content:{v}; sid:1;")))[1].clone();
    assert_eq!(
        c(r#""|65 78|ample|2E|com""#),
        name(Source::TlsSni, vec![contains("example.com", false, false)])
    );
    assert_eq!(
        c(r#""a|3a|b""#),
        name(Source::TlsSni, vec![contains("a:b", false, false)])
    );
    assert_eq!(
        c(r#""a\;b\"c\\d\:e""#),
        name(Source::TlsSni, vec![contains("a;b\"c\\d:e", false, false)])
    );
    assert_eq!(
        c(r#" "spaced" "#),
        name(Source::TlsSni, vec![contains("spaced", false, false)])
    );
    assert_eq!(
        c(r#""a;b""#),
        name(Source::TlsSni, vec![contains("a;b", false, false)])
    );
    assert_eq!(
        c(r#""bücher.example""#),
        name(
            Source::TlsSni,
            vec![contains("bücher.example", false, false)]
        )
    );
    // The same content twice is one condition.
    assert_eq!(
        conds(&tls(r#"tls.sni; content:"a"; content:"a"; sid:1;"#)).len(),
        2
    );
}

#[test]
fn content_errors() {
    let e = |v: &str| error(&tls(&format!("tls.sni; {v} sid:1;")));
    assert_eq!(
        e(r#"content:!"example.com";"#),
        (
            48,
            "negated content is not supported".to_string(),
            Some(NOT_HINT.into())
        )
    );
    assert_eq!(e(r#"content:"";"#), (48, "empty content".to_string(), None));
    assert_eq!(
        e(r#"content:example;"#),
        (
            48,
            "expected a quoted value for `content`".to_string(),
            Some("content:\"example.com\";".into())
        )
    );
    assert_eq!(
        e(r#"content:"a|0a|b";"#),
        (
            48,
            "content holds the byte `|0a|`, which no server name holds".to_string(),
            None
        )
    );
    assert_eq!(
        e(r#"content:"|ff fe|";"#),
        (
            48,
            "content is not UTF-8 text".to_string(),
            Some(
                "names are compared as text; an internationalized name is matched in its xn-- form"
                    .into()
            )
        )
    );
    assert_eq!(
        e(r#"content:"a|2g|";"#),
        (
            52,
            "`g` is not a hex digit".to_string(),
            Some("between pipes, write bytes in hex: `|2e 63 6f 6d|`".into())
        )
    );
    assert_eq!(
        e(r#"content:"a|2e 6|";"#),
        (
            54,
            "a hex byte is two digits".to_string(),
            Some("write `|0a|`, not `|a|`".into())
        )
    );
    assert_eq!(
        e(r#"content:"a|2e";"#),
        (
            50,
            "this `|` is never closed".to_string(),
            Some("hex bytes go between two pipes: `|2e 63 6f 6d|`".into())
        )
    );
    assert_eq!(
        e(r#"content:"a\xb";"#),
        (
            50,
            "unknown escape `\\x` in content".to_string(),
            Some("in a content `\\` escapes only `;`, `\"`, `:` and `\\`; write other bytes in hex, such as `|2e|`".into())
        )
    );
    assert_eq!(
        error(&tls(r#"content:"example.com"; sid:1;"#)),
        (
            31,
            "`content` needs a buffer first: `tls.sni`, `quic.sni`, `dns.query` or `http.host`"
                .to_string(),
            Some(
                "sift matches server names: write `tls.sni;` (or another) before `content`".into()
            )
        )
    );
    for m in ["nocase", "startswith", "endswith"] {
        assert_eq!(
            error(&tls(&format!("tls.sni; {m}; sid:1;"))),
            (
                40,
                format!("`{m}` must follow a `content`"),
                Some(format!(
                    "it modifies the content before it: `content:\"example\"; {m};`"
                ))
            )
        );
    }
    // A new buffer leaves the previous content behind.
    assert_eq!(
        err_at(&tls(r#"tls.sni; content:"a"; dns.query; nocase; sid:1;"#)),
        (64, "`nocase` must follow a `content`".to_string())
    );
}

#[test]
fn pcre_forms_and_errors() {
    let e = |v: &str| error(&tls(&format!("tls.sni; {v} sid:1;")));
    assert_eq!(
        conds(&tls(r#"tls.sni; pcre:"/\"q\;x\//"; sid:1;"#))[1],
        name(
            Source::TlsSni,
            vec![NamePattern::Regex(r#"\"q\;x\/"#.into())]
        )
    );
    assert_eq!(
        e(r#"pcre:"/^a/R";"#),
        (
            50,
            "unsupported pcre flag `R`".to_string(),
            Some("sift reads only `i` (names are matched case-insensitively); the regex is matched against the whole name".into())
        )
    );
    assert_eq!(
        e(r#"pcre:"/^a/iW";"#),
        (
            51,
            "unsupported pcre flag `W`".to_string(),
            Some("`W` selects the HTTP host: write `http.host;` before the pcre instead".into())
        )
    );
    assert_eq!(
        e(r#"pcre:!"/^a/";"#),
        (
            45,
            "negated pcre is not supported".to_string(),
            Some(NOT_HINT.into())
        )
    );
    assert_eq!(
        e(r#"pcre:"^a";"#),
        (
            45,
            "expected `\"/regex/flags\"` for `pcre`".to_string(),
            Some("pcre:\"/^cdn[0-9]+\\./i\";".into())
        )
    );
    assert_eq!(e(r#"pcre:"/^a";"#).1, "this pcre has no closing `/`");
    let (col, msg, hint) = e(r#"pcre:"/(foo/";"#);
    assert_eq!(col, 46);
    assert!(
        msg.starts_with("invalid regex: ") && msg.contains("Missing close parenthesis"),
        "{msg}"
    );
    assert_eq!(
        hint.as_deref(),
        Some("Hyperscan syntax (PCRE without backreferences or lookaround)")
    );
    assert_eq!(
        err_at(&tls(r#"pcre:"/a/"; sid:1;"#)),
        (
            31,
            "`pcre` needs a buffer first: `tls.sni`, `quic.sni`, `dns.query` or `http.host`"
                .to_string()
        )
    );
}

#[test]
fn app_layer_protocol() {
    assert_eq!(
        conds(
            "alert ip any any -> any any (app-layer-protocol:tls; tls.sni; content:\"x\"; sid:1;)"
        )[0],
        Cond::App(vec![AppProto::Tls])
    );
    // Said twice (header and keyword), kept once.
    assert_eq!(
        conds("alert tls any any -> any any (app-layer-protocol:tls; sid:1;)"),
        vec![Cond::App(vec![AppProto::Tls])]
    );
    assert_eq!(
        conds("alert ip any any -> any any (app-layer-protocol:ipsec; sid:1;)"),
        vec![Cond::App(vec![AppProto::Ike, AppProto::Esp, AppProto::Ah])]
    );
    let e = |v: &str| {
        error(&format!(
            "alert ip any any -> any any (app-layer-protocol:{v}; sid:1;)"
        ))
    };
    assert_eq!(
        e("!tls"),
        (
            49,
            "negated `app-layer-protocol` is not supported".to_string(),
            Some(NOT_HINT.into())
        )
    );
    assert_eq!(
        e("smb"),
        (
            49,
            "sift does not classify `smb`".to_string(),
            Some(format!("sift classifies {SIFT_APPS}"))
        )
    );
    assert_eq!(
        e("dnss"),
        (
            49,
            "unknown application protocol `dnss`".to_string(),
            Some("did you mean `dns`?".into())
        )
    );
    assert_eq!(
        e("tls,final"),
        (
            52,
            "`app-layer-protocol` takes one protocol, without a mode".to_string(),
            Some("write `app-layer-protocol:tls;`".into())
        )
    );
}

// ---- Files ----

#[test]
fn comments_blank_lines_and_continuations() {
    let t = rule_texts(0, "\u{feff}# a comment\n\u{feff}x\n");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].chars, vec!['\u{feff}', 'x']);
    let t = rule_texts(0, "\u{feff}alert \\\n  x\n");
    assert_eq!(t[0].chars.iter().collect::<String>(), "alert   x");
    assert_eq!(
        t[0].at[0],
        Span {
            file: 0,
            line: 1,
            col: 2
        }
    );
    assert_eq!(
        t[0].at[6],
        Span {
            file: 0,
            line: 2,
            col: 1
        }
    );
    let p = parsed(
        "# a comment\r\n\
         \r\n\
         \x20  # an indented comment\n\
         alert tls any any -> any any ( \\\n\
         \x20   msg:\"two\\\n\
         lines\"; \\\n\
         \x20   tls.sni; content:\"x\"; sid:1; )   \n\
         #alert tls any any -> any any (tls.sni; content:\"y\"; sid:2;)\n",
    );
    assert_eq!(p.rules.len(), 1);
    assert_eq!(p.rules[0].msg, "twolines");
    assert_eq!(p.rules[0].span.line, 4);
    // A rule cut short by the end of the file.
    let e = errors(&format!("{FIRST}alert tls any any -> any any (sid:2; \\\n"));
    assert_eq!(
        e,
        vec![(
            2,
            38,
            "expected `)` at the end of the rule".to_string(),
            Some("a rule's options end with `)`; a rule goes on to the next line only after a `\\` at the end of the line".into())
        )]
    );
}

#[test]
fn columns_count_characters() {
    // `é` is two bytes, one column.
    let (col, msg) =
        err_at(r#"alert tls any any -> any any (msg:"éé"; tls.sni; content:"x"; depth:1; sid:1;)"#);
    assert_eq!((col, msg.as_str()), (63, "unsupported keyword `depth`"));
    // The rendered diagnostic underlines the keyword.
    let d = read_text(
        "t.rules",
        "alert tls any any -> any any (tls.sni; offset:2; sid:1;)",
    )
    .unwrap_err();
    let shown = d.to_string();
    assert!(
        shown.starts_with("t.rules:1:40: error: unsupported keyword `offset`\n 1 | alert tls"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("\n   | {}^^^^^^\n", " ".repeat(39))),
        "{shown}"
    );
}

#[test]
fn unterminated_and_trailing() {
    assert_eq!(
        error(&tls(r#"msg:"oops; sid:1;"#)),
        (
            35,
            "unterminated string".to_string(),
            Some(
                "close it with `\"`; inside it, write `\\\"` for a quote and `\\;` for a semicolon"
                    .into()
            )
        )
    );
    assert_eq!(
        error("alert tls any any -> any any (tls.sni; content:\"x\"; sid:1;) trailing"),
        (
            61,
            "unexpected `trailing` after the rule's closing `)`".to_string(),
            Some("one rule per line".into())
        )
    );
    assert_eq!(
        err_at("alert tls any any -> any any (tls.sni; content:\"x\"; sid:1;))"),
        (
            60,
            "unexpected `)` after the rule's closing `)`".to_string()
        )
    );
}

#[test]
fn recovers_rule_by_rule() {
    let text = format!(
        "{FIRST}\
         alert tls any any -> any any (tls.sni; depth:1; sid:2;)\n\
         alert tls any any -> any any (tls.sni; content:\"ok\"; sid:3;)\n\
         reject tls any any -> any any (sid:4;)\n\
         alert tls any any -> any any (msg:\"x\"; sid:5\n\
         alert ssh any any -> any any (sid:6;)\n"
    );
    let e = errors(&text);
    let at: Vec<(u32, u32)> = e.iter().map(|x| (x.0, x.1)).collect();
    assert_eq!(at, vec![(2, 40), (4, 1), (5, 45), (6, 7)], "{e:?}");
    // A file stops after MAX_ERRORS errors.
    let many = format!(
        "{FIRST}{}",
        "alert tls any any -> any any (tls.sni; depth:1; sid:2;)\n".repeat(80)
    );
    assert_eq!(errors(&many).len(), MAX_ERRORS);
}

#[test]
fn no_conditions_warns() {
    let p = parsed("alert ip any any -> any any (msg:\"everything\"; sid:9;)");
    assert_eq!(
        warnings(&p),
        vec![(
            1,
            1,
            "rule 9 has no conditions and matches every flow".to_string()
        )]
    );
}

#[test]
fn nothing_panics() {
    let good = "alert tls [10.0.0.0/8,$HOME_NET] [1:2,3] <> any any (msg:\"a\\;b\"; flow:established; \
                tls.sni; dotprefix; content:\".Ex|41|mple.com\"; endswith; nocase; bsize:5<>30; \
                dns.query; content:\"x\"; startswith; pcre:\"/^x[0-9]+/i\"; app-layer-protocol:dns; sid:77; rev:2;)";
    // Every cut of a full rule, and every character replaced by
    // characters that matter to the parser.
    let chars: Vec<char> = good.chars().collect();
    let mut texts = Vec::new();
    for n in 0..=chars.len() {
        texts.push(chars[..n].iter().collect::<String>());
        texts.push(format!("{}\\\n", chars[..n].iter().collect::<String>()));
    }
    for i in 0..chars.len() {
        for c in [
            '"', '\\', ';', ':', '|', '[', ']', '(', ')', '!', ' ', 'é', '\u{feff}', '/',
        ] {
            let mut v = chars.clone();
            v[i] = c;
            texts.push(v.into_iter().collect());
        }
    }
    texts.extend(
        [
            "(",
            ")",
            "\\",
            "alert tls any any -> any any (",
            "alert tls any any -> any any ()",
            "alert tls any any -> any any (;)",
            "alert tls any any -> any any (:)",
            "alert tls any any -> any any (\"\")",
            "alert tls any any -> any any (content:\"\\",
            "alert tls any any -> any any (tls.sni; content:\"|",
            "alert tls any any -> any any (tls.sni; content:\"|\"",
            "alert tls any any -> any any (tls.sni; pcre:\"/\"; sid:1;)",
            "alert tls any any -> any any (tls.sni; pcre:\"\"; sid:1;)",
            "alert tls any any -> any any (tls.sni; pcre:\"//\"; sid:1;)",
            "alert tls any any -> any any (tls.sni; bsize:<>; sid:1;)",
            "alert tls any any -> any any (tls.sni; bsize:-; sid:1;)",
            "alert tls any any -> any any (tls.sni; bsize:0x; sid:1;)",
            "alert tls [ any -> any any (sid:1;)",
            "alert tls ] any -> any any (sid:1;)",
            "alert tls [,] any -> any any (sid:1;)",
            "alert tls any : -> any any (sid:1;)",
            "alert tls any any -> any any (sid:99999999999999999999999999;)",
            "alert tls any any -> any any (tls.sni; content:\"x\"; bsize:18446744073709551615; sid:1;)",
        ]
        .map(String::from),
    );
    for t in &texts {
        for text in [t.clone(), format!("{FIRST}{t}\n{FIRST}")] {
            let _ = read_text("t.rules", &text);
            // Directly too: a broken text may not be detected as Suricata rules.
            parse(&mut Loader::default(), 0, &text);
        }
    }
}

// ---- Matching, through the compiled name index ----

/// The ids of the rules whose name and length conditions all hold for
/// `name` (whatever its source).
fn matching(p: &Parsed, idx: &NameIndex, name: &str) -> Vec<u32> {
    let mut s = idx.scratch();
    let mut hit: HashSet<(u32, u16)> = HashSet::new();
    idx.scan(&mut s, name, &mut |t| {
        hit.insert((t.rule, t.cond));
    });
    p.rules
        .iter()
        .enumerate()
        .filter(|(ri, r)| {
            r.conds.iter().enumerate().all(|(ci, c)| match c {
                Cond::Name { .. } => hit.contains(&(*ri as u32, ci as u16)),
                Cond::NameLength { min, max, .. } => (*min..=*max).contains(&name.len()),
                _ => true,
            })
        })
        .map(|(_, r)| r.id)
        .collect()
}

fn index(text: &str) -> (Parsed, NameIndex) {
    let p = parsed(text);
    let (idx, _) = NameIndex::build(&p.rules, &p.files, &LoadOptions::default()).expect("compiles");
    (p, idx)
}

#[test]
fn matches_as_suricata_would() {
    let (p, idx) = index(
        "alert dns any any -> any any (dns.query; dotprefix; content:\".example.com\"; endswith; sid:1;)\n\
         alert dns any any -> any any (dns.query; dotprefix; content:\".example.com\"; sid:2;)\n\
         alert dns any any -> any any (dns.query; content:\"example.com\"; endswith; sid:3;)\n\
         alert dns any any -> any any (dns.query; content:\"cdn\"; startswith; sid:4;)\n\
         alert dns any any -> any any (dns.query; content:\"ample\"; sid:5;)\n\
         alert dns any any -> any any (dns.query; content:\"example.com\"; bsize:11; sid:6;)\n\
         alert dns any any -> any any (dns.query; content:\".example.com\"; endswith; sid:7;)\n\
         alert dns any any -> any any (dns.query; pcre:\"/^cdn[0-9]+\\./i\"; sid:8;)\n\
         alert dns any any -> any any (dns.query; content:\"cdn\"; content:\"example.com\"; endswith; bsize:<16; sid:9;)\n",
    );
    let m = |n: &str| matching(&p, &idx, n);
    assert_eq!(m("example.com"), vec![1, 2, 3, 5, 6]);
    assert_eq!(m("a.example.com"), vec![1, 2, 3, 5, 7]);
    assert_eq!(m("badexample.com"), vec![3, 5]);
    assert_eq!(m("example.com.au"), vec![2, 5]);
    assert_eq!(m("cdn1.example.com"), vec![1, 2, 3, 4, 5, 7, 8]);
    assert_eq!(m("cdn.example.com"), vec![1, 2, 3, 4, 5, 7, 9]);
    assert_eq!(m("www.cdn.example.com"), vec![1, 2, 3, 5, 7]);
    assert_eq!(m("other.net"), Vec::<u32>::new());
}

/// Suricata's reading of a content on a buffer, for the cross-check.
fn suricata_model(name: &str, content: &str, start: bool, end: bool, dotprefix: bool) -> bool {
    let buffer = if dotprefix {
        format!(".{name}")
    } else {
        name.to_string()
    };
    let (b, c) = (buffer.to_ascii_lowercase(), content.to_ascii_lowercase());
    match (start, end) {
        (true, true) => b == c,
        (true, false) => b.starts_with(&c),
        (false, true) => b.ends_with(&c),
        (false, false) => b.contains(&c),
    }
}

#[test]
fn compiled_patterns_agree_with_suricata() {
    let contents = [
        ".example.com",
        "example.com",
        ".example",
        "example",
        ".com",
        "com",
        ".",
        "a.example.com",
        "Ex*mple",
    ];
    let names = [
        "example.com",
        "a.example.com",
        "badexample.com",
        "example.com.au",
        "example",
        "example.org",
        "x.example",
        "com",
        "a.b.example.com",
        "ex*mple.net",
        "cdn.com",
        "notexample.com",
    ];
    let mut text = String::new();
    let mut cases = Vec::new();
    let mut sid = 0u32;
    for c in contents {
        for start in [false, true] {
            for end in [false, true] {
                for dotprefix in [false, true] {
                    if dotprefix && start && !c.starts_with('.') {
                        continue; // refused: can never match
                    }
                    sid += 1;
                    text.push_str(&format!(
                        "alert tls any any -> any any (tls.sni; {}content:\"{c}\"; nocase; {}{}sid:{sid};)\n",
                        if dotprefix { "dotprefix; " } else { "" },
                        if start { "startswith; " } else { "" },
                        if end { "endswith; " } else { "" },
                    ));
                    cases.push((sid, c, start, end, dotprefix));
                }
            }
        }
    }
    let (p, idx) = index(&text);
    assert!(p.warnings.is_empty());
    for n in names {
        let got: HashSet<u32> = matching(&p, &idx, n).into_iter().collect();
        for &(sid, c, start, end, dotprefix) in &cases {
            let want = suricata_model(n, c, start, end, dotprefix);
            assert_eq!(
                got.contains(&sid),
                want,
                "name {n}, content {c:?} start {start} end {end} dotprefix {dotprefix}"
            );
        }
    }
    // The refused combination is refused.
    let e = errors("alert tls any any -> any any (tls.sni; dotprefix; content:\"example\"; startswith; endswith; sid:1;)");
    assert_eq!(e.len(), 1);
}
