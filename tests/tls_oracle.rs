//! tls-parser (rusticata) as a differential oracle for sift's hello parsers.
//!
//! Every TLS ClientHello and ServerHello of the nDPI corpus and of the
//! project's captures is parsed twice: by sift
//! ([`tls::parse_client_hello`], [`tls::parse_server_hello`]) and by
//! tls-parser, and the fields are compared. The messages are taken out of
//! each TCP direction by sift's own machinery — [`Stream`] puts the
//! segments in sequence order, [`HandshakeReader`] reads the records — so
//! what is compared is exactly what sift's classifier sees. A direction's
//! leading hellos are compared (a ClientHello, the second one after a
//! HelloRetryRequest; a ServerHello, or a HelloRetryRequest and then the
//! ServerHello); the first other message ends the direction, since what
//! follows a TLS 1.2 ChangeCipherSpec is encrypted even inside handshake
//! records. QUIC ClientHellos come from [`QuicInitialTracker`], which
//! decrypts the client's Initials.
//!
//! Fields: legacy version, cipher suites, extension types in wire order
//! (GREASE values included), SNI (as sent), ALPN names, supported_versions,
//! supported_groups, signature_algorithms, key_share groups,
//! ec_point_formats; for the ServerHello the legacy version, the cipher,
//! the extension types, the selected version and the ALPN name. tls-parser
//! hands the key_share extension over as raw bytes; its entries are read
//! here with the nom combinators tls-parser re-exports.
//!
//! Every disagreement is listed, with the reason found in the packets, in
//! `tests/ndpi/tls_oracle_differences.csv`; the test fails when a
//! disagreement is not listed or a listed one no longer occurs.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use common::*;
use sift::capture::file::Reader;
use sift::classify::quic::{QuicInitialTracker, QuicProgress};
use sift::classify::reassembly::{Budget, Stream};
use sift::classify::tls::{self, HandshakeReader, HandshakeType};
use sift::decode::defrag::{DefragConfig, Defragmenter};
use sift::decode::transport::{tcp_flags, Header};
use sift::decode::{self, ip, link, DecodeError, Decoded};

use tls_parser::nom::{
    combinator::complete,
    multi::{length_data, many0},
    number::complete::be_u16,
    sequence::pair,
    IResult,
};
use tls_parser::{TlsExtension, TlsExtensionType, TlsMessage, TlsMessageHandshake};

/// One hello read by both parsers.
struct Hello<'a> {
    capture: &'a str,
    /// "tcp a:p>b:p" (sender first) or "quic a:p>b:p".
    flow: String,
    /// "ClientHello", "ServerHello", "ClientHello2", …
    message: String,
    msg_type: HandshakeType,
    /// The whole handshake message, its 4-byte header included.
    bytes: Vec<u8>,
}

/// A field as each parser read it, in words for the table.
type Fields = Vec<(&'static str, String)>;

/// Table cells hold no comma, quote or line break: those bytes are escaped.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ',' | '"' | '\n' | '\r' | '\\' => out.push_str(&format!("\\x{:02x}", c as u32)),
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        "-".to_string()
    } else {
        out
    }
}

fn hex16(v: impl IntoIterator<Item = u16>) -> String {
    let s: Vec<String> = v.into_iter().map(|x| format!("{x:04x}")).collect();
    s.join(" ")
}

fn hex8(v: &[u8]) -> String {
    let s: Vec<String> = v.iter().map(|x| format!("{x:02x}")).collect();
    s.join(" ")
}

fn names<'a>(v: impl IntoIterator<Item = &'a [u8]>) -> String {
    let s: Vec<String> = v
        .into_iter()
        .map(|n| String::from_utf8_lossy(n).replace(' ', "\\x20"))
        .collect();
    s.join(" ")
}

// ---------------------------------------------------------------- sift

fn sift_client(body: &[u8]) -> Result<Fields, String> {
    let ch = tls::parse_client_hello(body).map_err(|e| e.to_string())?;
    let sni = ch.sni_raw.clone().or(ch.sni.clone()).unwrap_or_default();
    Ok(vec![
        ("legacy_version", hex16([ch.legacy_version])),
        ("cipher_suites", hex16(ch.cipher_suites.iter().copied())),
        ("extensions", hex16(ch.extensions.iter().copied())),
        ("sni", sni),
        ("alpn", names(ch.alpn.iter().map(|a| a.as_bytes()))),
        (
            "supported_versions",
            hex16(ch.supported_versions.iter().copied()),
        ),
        (
            "supported_groups",
            hex16(ch.supported_groups.iter().copied()),
        ),
        (
            "signature_algorithms",
            hex16(ch.signature_algorithms.iter().copied()),
        ),
        (
            "key_share_groups",
            hex16(ch.key_share_groups.iter().copied()),
        ),
        ("ec_point_formats", hex8(&ch.ec_point_formats)),
    ])
}

fn sift_server(body: &[u8]) -> Result<Fields, String> {
    let sh = tls::parse_server_hello(body).map_err(|e| e.to_string())?;
    Ok(vec![
        ("legacy_version", hex16([sh.legacy_version])),
        ("cipher", hex16([sh.cipher])),
        ("extensions", hex16(sh.extensions.iter().copied())),
        ("selected_version", hex16([sh.version])),
        ("alpn", sh.alpn.unwrap_or_default()),
    ])
}

// ---------------------------------------------------------- tls-parser

fn nom_error(e: &tls_parser::nom::Err<tls_parser::nom::error::Error<&[u8]>>) -> String {
    match e {
        tls_parser::nom::Err::Incomplete(_) => "incomplete".to_string(),
        tls_parser::nom::Err::Error(e) | tls_parser::nom::Err::Failure(e) => {
            format!("{:?}", e.code)
        }
    }
}

/// The extension's type code as sent (tls-parser files every GREASE value
/// under `TlsExtensionType::Grease`, 0xfafa, and keeps the real one aside).
fn ext_type(e: &TlsExtension<'_>) -> u16 {
    match e {
        TlsExtension::Grease(t, _) => *t,
        TlsExtension::Unknown(t, _) => t.0,
        other => TlsExtensionType::from(other).0,
    }
}

/// tls-parser's reader of a hello's extension block.
type ExtensionParser<'a> = fn(&'a [u8]) -> IResult<&'a [u8], Vec<TlsExtension<'a>>>;

/// The extension list, and a note when tls-parser stopped before its end
/// (an extension it could not read ends the list).
fn their_extensions<'a>(
    ext: Option<&'a [u8]>,
    parse: ExtensionParser<'a>,
) -> Result<(Vec<TlsExtension<'a>>, String), String> {
    let Some(ext) = ext else {
        return Ok((Vec::new(), String::new()));
    };
    let (rest, list) = parse(ext).map_err(|e| nom_error(&e))?;
    let note = if rest.is_empty() {
        String::new()
    } else {
        format!(" (stopped; {} bytes unread)", rest.len())
    };
    Ok((list, note))
}

/// RFC 8446 §4.2.8: KeyShareClientHello { KeyShareEntry client_shares<0..2^16-1> }.
fn key_share_groups(data: &[u8]) -> String {
    let entry = pair(be_u16, length_data(be_u16));
    let list: IResult<&[u8], &[u8]> = length_data(be_u16)(data);
    match list.and_then(|(_, l)| many0(complete(entry))(l)) {
        Ok(([], entries)) => hex16(entries.iter().map(|(g, _)| *g)),
        Ok((rest, _)) => format!("unread: {} bytes", rest.len()),
        Err(e) => format!("error: {}", nom_error(&e)),
    }
}

fn their_client(msg: &[u8]) -> Result<Fields, String> {
    let ch = match tls_parser::parse_tls_message_handshake(msg) {
        Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)))) => ch,
        Ok((_, other)) => return Err(format!("read as {other:?}")),
        Err(e) => return Err(nom_error(&e)),
    };
    let (exts, note) = their_extensions(ch.ext, tls_parser::parse_tls_client_hello_extensions)?;
    let mut f = Fields::new();
    f.push(("legacy_version", hex16([ch.version.0])));
    f.push(("cipher_suites", hex16(ch.ciphers.iter().map(|c| c.0))));
    f.push((
        "extensions",
        hex16(exts.iter().map(ext_type)) + note.as_str(),
    ));
    let first = |want: u16| exts.iter().find(|e| ext_type(e) == want);
    let sni = match first(0) {
        Some(TlsExtension::SNI(list)) => list
            .iter()
            .find(|(t, _)| t.0 == 0)
            .map(|(_, n)| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default(),
        _ => String::new(),
    };
    f.push(("sni", sni));
    f.push((
        "alpn",
        match first(16) {
            Some(TlsExtension::ALPN(v)) => names(v.iter().copied()),
            _ => String::new(),
        },
    ));
    f.push((
        "supported_versions",
        match first(43) {
            Some(TlsExtension::SupportedVersions(v)) => hex16(v.iter().map(|x| x.0)),
            _ => String::new(),
        },
    ));
    f.push((
        "supported_groups",
        match first(10) {
            Some(TlsExtension::EllipticCurves(v)) => hex16(v.iter().map(|g| g.0)),
            _ => String::new(),
        },
    ));
    f.push((
        "signature_algorithms",
        match first(13) {
            Some(TlsExtension::SignatureAlgorithms(v)) => hex16(v.iter().copied()),
            _ => String::new(),
        },
    ));
    f.push((
        "key_share_groups",
        match first(51) {
            Some(TlsExtension::KeyShare(d)) => key_share_groups(d),
            _ => String::new(),
        },
    ));
    f.push((
        "ec_point_formats",
        match first(11) {
            Some(TlsExtension::EcPointFormats(v)) => hex8(v),
            _ => String::new(),
        },
    ));
    Ok(f)
}

fn their_server(msg: &[u8]) -> Result<Fields, String> {
    let sh = match tls_parser::parse_tls_message_handshake(msg) {
        Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ServerHello(sh)))) => sh,
        Ok((_, other)) => return Err(format!("read as {other:?}")),
        Err(e) => return Err(nom_error(&e)),
    };
    let (exts, note) = their_extensions(sh.ext, tls_parser::parse_tls_server_hello_extensions)?;
    let first = |want: u16| exts.iter().find(|e| ext_type(e) == want);
    let selected = match first(43) {
        Some(TlsExtension::SupportedVersions(v)) if v.len() == 1 => v[0].0,
        _ => sh.version.0,
    };
    let alpn = match first(16) {
        Some(TlsExtension::ALPN(v)) => v
            .first()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default(),
        _ => String::new(),
    };
    Ok(vec![
        ("legacy_version", hex16([sh.version.0])),
        ("cipher", hex16([sh.cipher.0])),
        (
            "extensions",
            hex16(exts.iter().map(ext_type)) + note.as_str(),
        ),
        ("selected_version", hex16([selected])),
        ("alpn", alpn),
    ])
}

// ----------------------------------------------------------- comparing

/// Compares one hello; adds each disagreement as a table key
/// (capture,flow,field,sift,tls-parser) to `found`.
fn compare(h: &Hello<'_>, found: &mut BTreeSet<String>) {
    let body = h.bytes.get(4..).unwrap_or(&[]);
    let (mine, theirs) = if h.msg_type == HandshakeType::CLIENT_HELLO {
        (sift_client(body), their_client(&h.bytes))
    } else {
        (sift_server(body), their_server(&h.bytes))
    };
    let mut differ = |field: &str, a: &str, b: &str| {
        found.insert(format!(
            "{},{},{}.{field},{},{}",
            h.capture,
            h.flow,
            h.message,
            cell(a),
            cell(b)
        ));
    };
    match (mine, theirs) {
        (Ok(a), Ok(b)) => {
            for ((name, x), (_, y)) in a.iter().zip(&b) {
                if x != y {
                    differ(name, x, y);
                }
            }
        }
        (Err(_), Err(_)) => {}
        (Ok(_), Err(e)) => differ("parse", "ok", &format!("error: {e}")),
        (Err(e), Ok(_)) => differ("parse", &format!("error: {e}"), "ok"),
    }
}

// ------------------------------------------------------- reading flows

fn endpoint(a: IpAddr, port: u16) -> String {
    match a {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// Calls `f` with every decoded packet of a capture (fragments
/// reassembled, tunnels opened), as sift's workers see them.
fn for_each_packet(bytes: &[u8], mut f: impl FnMut(&Decoded<'_>)) {
    let Ok(mut reader) = Reader::new(bytes) else {
        return;
    };
    let mut defrag = Defragmenter::new(DefragConfig::default());
    while let Some(Ok(p)) = reader.next_packet() {
        let Ok(net) = link::decode(p.link, p.data) else {
            continue;
        };
        let Ok(ipp) = ip::parse(net.bytes) else {
            continue;
        };
        if ipp.fragment.is_none() {
            if let Ok(d) = decode::datagram(&ipp) {
                f(&d);
            }
            continue;
        }
        let Some(whole) = defrag.add(p.ts, &ipp, p.wire_len) else {
            continue;
        };
        let d = if ipp.src.is_ipv6() {
            ip::walk_extensions(whole.proto, &whole.payload)
                .map_err(DecodeError::from)
                .and_then(|u| decode::upper(ipp.src, ipp.dst, u.proto, u.payload, false))
        } else {
            decode::upper(ipp.src, ipp.dst, whole.proto, &whole.payload, false)
        };
        if let Ok(d) = d {
            f(&d);
        }
    }
}

type Side = (IpAddr, u16);

/// One TCP direction: its stream in order and the TLS records read from it.
#[derive(Default)]
struct Direction {
    isn: Option<u32>,
    stream: Stream,
    reader: HandshakeReader,
    /// No more hellos can come: the reader stopped, or a message other than
    /// a hello was read.
    done: bool,
    client_hellos: u32,
    server_hellos: u32,
}

/// One UDP flow, for QUIC: who sent first, and the Initial tracker.
struct QuicFlow {
    client: Side,
    tracker: QuicInitialTracker,
    done: bool,
}

/// Every hello of one capture, in the order they complete.
fn hellos<'a>(capture: &'a str, bytes: &[u8]) -> Vec<Hello<'a>> {
    let mut out = Vec::new();
    let mut tcp: HashMap<(Side, Side), Direction> = HashMap::new();
    let mut udp: HashMap<(Side, Side), QuicFlow> = HashMap::new();
    let mut budget = Budget::new(1 << 30);
    for_each_packet(bytes, |d| {
        let (src, dst) = ((d.src, d.transport.src_port), (d.dst, d.transport.dst_port));
        let payload = d.transport.payload;
        match d.transport.header {
            Header::Tcp(h) if d.proto == 6 => {
                if h.has(tcp_flags::SYN) {
                    let reused = tcp
                        .get(&(src, dst))
                        .and_then(|x| x.isn)
                        .is_some_and(|isn| isn != h.seq);
                    if reused {
                        // The 4-tuple is reused by a new connection.
                        tcp.remove(&(src, dst));
                        if !h.has(tcp_flags::ACK) {
                            tcp.remove(&(dst, src));
                        }
                    }
                    tcp.entry((src, dst)).or_default().isn = Some(h.seq);
                }
                if payload.is_empty() {
                    return;
                }
                let dir = tcp.entry((src, dst)).or_default();
                if dir.done {
                    return;
                }
                // Zero padding on a bare ACK before the stream starts (as
                // sift's dispatcher does).
                let padding =
                    payload.len() <= 8 && !h.has(tcp_flags::PSH) && payload.iter().all(|&b| b == 0);
                if padding && dir.stream.delivered() == 0 {
                    return;
                }
                if let Some(isn) = dir.isn {
                    dir.stream.syn(isn);
                }
                let mut messages: Vec<(HandshakeType, Vec<u8>)> = Vec::new();
                let Direction { stream, reader, .. } = dir;
                let mut stopped = false;
                stream.segment(h.seq, payload, &mut budget, &mut |chunk| {
                    if stopped {
                        return;
                    }
                    let feed = reader.push(chunk);
                    while let Some(m) = reader.next_message() {
                        let mut v = vec![m.msg_type.0];
                        v.extend_from_slice(&(m.body.len() as u32).to_be_bytes()[1..]);
                        v.extend_from_slice(m.body);
                        messages.push((m.msg_type, v));
                    }
                    stopped = feed.is_final();
                });
                dir.done = stopped;
                for (ty, v) in messages {
                    let count = match ty {
                        HandshakeType::CLIENT_HELLO => &mut dir.client_hellos,
                        HandshakeType::SERVER_HELLO => &mut dir.server_hellos,
                        _ => {
                            dir.done = true;
                            break;
                        }
                    };
                    *count += 1;
                    let kind = if ty == HandshakeType::CLIENT_HELLO {
                        "ClientHello"
                    } else {
                        "ServerHello"
                    };
                    let message = match *count {
                        1 => kind.to_string(),
                        n => format!("{kind}{n}"),
                    };
                    out.push(Hello {
                        capture,
                        flow: format!("tcp {}>{}", endpoint(src.0, src.1), endpoint(dst.0, dst.1)),
                        message,
                        msg_type: ty,
                        bytes: v,
                    });
                }
                if dir.done {
                    dir.stream.release(&mut budget);
                    dir.reader = HandshakeReader::new();
                }
            }
            Header::Udp if !payload.is_empty() => {
                let key = if src <= dst { (src, dst) } else { (dst, src) };
                let flow = udp.entry(key).or_insert_with(|| QuicFlow {
                    client: src,
                    tracker: QuicInitialTracker::new(),
                    done: false,
                });
                if flow.done {
                    return;
                }
                let from_client = src == flow.client;
                match flow.tracker.on_datagram(payload, from_client) {
                    QuicProgress::ClientHello => {
                        flow.done = true;
                        if let Some(ch) = flow.tracker.client_hello() {
                            let (c, s) = if from_client { (src, dst) } else { (dst, src) };
                            out.push(Hello {
                                capture,
                                flow: format!("quic {}>{}", endpoint(c.0, c.1), endpoint(s.0, s.1)),
                                message: "ClientHello".to_string(),
                                msg_type: HandshakeType::CLIENT_HELLO,
                                bytes: ch.to_vec(),
                            });
                        }
                    }
                    QuicProgress::Chlo | QuicProgress::Failed(_) => flow.done = true,
                    QuicProgress::NotQuic if from_client => flow.done = true,
                    _ => {}
                }
                if flow.done {
                    flow.tracker = QuicInitialTracker::new();
                }
            }
            _ => {}
        }
    });
    out
}

/// Capture files under `dir`, recursively, sorted.
fn captures_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            captures_under(&p, out);
        } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
            out.push(p);
        }
    }
}

#[test]
fn hellos_agree_with_tls_parser() {
    let mut files: Vec<(String, PathBuf)> = ndpi_captures()
        .into_iter()
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    let root = project_file("");
    let mut own = Vec::new();
    captures_under(&project_file("captures"), &mut own);
    own.sort();
    files.extend(own.into_iter().map(|p| {
        let name = p
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        (name, p)
    }));
    let started = std::time::Instant::now();
    let mut found = BTreeSet::new();
    let (mut client_tcp, mut server_tcp, mut client_quic) = (0usize, 0usize, 0usize);
    for (name, path) in &files {
        let bytes = std::fs::read(path).unwrap();
        for h in hellos(name, &bytes) {
            match (h.msg_type, h.flow.starts_with("quic")) {
                (_, true) => client_quic += 1,
                (HandshakeType::CLIENT_HELLO, _) => client_tcp += 1,
                _ => server_tcp += 1,
            }
            compare(&h, &mut found);
        }
    }
    eprintln!(
        "{} captures: {client_tcp} TLS ClientHellos, {server_tcp} ServerHellos and \
         {client_quic} QUIC ClientHellos compared with tls-parser in {:.1} s; {} differences",
        files.len(),
        started.elapsed().as_secs_f64(),
        found.len()
    );
    assert!(
        client_tcp > 1_000 && server_tcp > 1_000 && client_quic > 200,
        "too few hellos read: {client_tcp} ClientHellos, {server_tcp} ServerHellos, \
         {client_quic} QUIC ClientHellos"
    );
    assert_differences_listed("tls_oracle_differences.csv", 5, &found);
}
