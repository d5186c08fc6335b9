//! What a flow record shows a reader at a glance, taken from its
//! [`Names`] in one place for every output that is not EVE (the HTML
//! report, IPFIX, the metrics): the server name it asked for, and its
//! findings that are not protocols — a VPN, a suspicion of obfuscation,
//! an evasion — each as a kind, a label and a confidence.
//!
//! A new kind of finding is one more arm in [`findings`]; the outputs
//! list whatever it returns.

use crate::classify::Names;

/// One finding: `kind` names the EVE object it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// "vpn", "obfuscation" (later "evasion").
    pub kind: &'static str,
    /// The protocol, class or technique: "openvpn", "fully_encrypted".
    pub label: String,
    /// More about it, in words: an obfuscation's suspects ("shadowsocks,
    /// vmess").
    pub detail: Option<String>,
    /// "high", "medium", "low", when the finding has one.
    pub confidence: Option<&'static str>,
}

/// The name the flow asked for: TLS or QUIC SNI, HTTP Host, DNS query.
pub fn server_name(n: &Names) -> Option<&str> {
    n.tls
        .as_ref()
        .and_then(|h| h.sni.as_deref())
        .or_else(|| n.quic.as_ref().and_then(|q| q.sni()))
        .or_else(|| n.http.as_ref().and_then(|h| h.hostname.as_deref()))
        .or_else(|| {
            n.dns
                .as_ref()
                .map(|d| d.rrname.as_str())
                .filter(|r| !r.is_empty())
        })
}

/// The flow's findings, in the order EVE writes their objects.
pub fn findings(n: &Names) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(v) = &n.vpn {
        out.push(Finding {
            kind: "vpn",
            label: v.protocol.as_str().to_string(),
            detail: None,
            confidence: Some(v.confidence.as_str()),
        });
    }
    if let Some(o) = &n.obfuscation {
        let suspects: Vec<&str> = o.suspects.iter().map(|s| s.as_str()).collect();
        out.push(Finding {
            kind: "obfuscation",
            label: o.class.as_str().to_string(),
            detail: (!suspects.is_empty()).then(|| suspects.join(", ")),
            confidence: Some(o.confidence.as_str()),
        });
    }
    // Evasion: one finding per technique, its fooling and decoy as detail.
    for e in n.evasion.iter().flat_map(|e| e.entries.iter()) {
        let mut detail: Vec<String> = crate::classify::evasion::fooling::names(e.fooling)
            .map(str::to_string)
            .collect();
        if let Some(d) = &e.decoy {
            detail.push(format!("decoy {d}"));
        }
        out.push(Finding {
            kind: "evasion",
            label: e.technique.as_str().to_string(),
            detail: (!detail.is_empty()).then(|| detail.join(", ")),
            confidence: None,
        });
    }
    out
}
