//! Tests of the parent module, with real packet bytes.

use super::*;
use crate::classify::wireguard::controls::{self, hex, XorShift};

/// IKEv2 IKE_SA_INIT request, 10.202.0.1:500 -> 10.202.0.2:500, ipsec-ikev2.pcap frame 1 (464 bytes).
const IKEV2_SA_INIT_REQUEST: &str = "\
    c4416f87fefa05e400000000000000002120220800000000000001d022000030\
    0000002c010100040300000c0100000c800e0080030000080300000c03000008\
    02000005000000080400000e28000108000e000026152fc64c2def329215f026\
    47ca182447e890c824506c438e4b08b0e268d6d6e6632d0ae1b17f9ca3b66618\
    7723d968bf64c184729d91fa31a26e7de078a910d49de39dffc3460e321566bc\
    90f322a4f7c13e8606fd345ae84ca9e89a4e653d5c5498f5c642fe614c67296d\
    9d680a9eb35545d6a382d75574662a333d99834499771cba007094cb693c2918\
    4cc721f4f2d6a5014859540b18d5997ca05136eeb4e9c6cc40db4a816763096a\
    2aa2b93b7f4cb7f8b4488ab54ff82b9ef272cb1a574b24e35dcbf7679aa5b966\
    6e07f35b3fa2451e4e7793fd6f6ac6d50a1b411c98583743c544e03ba8a1c8d2\
    f6524a000d1126cf43ea66538b75b3b14e1b995a290000244eb9735761a537ac\
    60c811ded9eac7785abf110f7daff11a0133fa4b895ea0622900001c00004004\
    a5357e92da79b4a957c7934ed8532f258fea84c32900001c00004005ad701888\
    e5e5f2fd063bd04167843cb36dfb8cb9290000080000402e290000100000402f\
    00020003000400050000000800004016";

/// IKE_SA_INIT response, ipsec-ikev2.pcap frame 2 (472 bytes).
const IKEV2_SA_INIT_RESPONSE: &str = "\
    c4416f87fefa05e4e5ce8e19b62cfb2f2120222000000000000001d822000030\
    0000002c010100040300000c0100000c800e0080030000080300000c03000008\
    02000005000000080400000e28000108000e00008740266d34c80215780ad691\
    1d14a1a097214c724c5c7a3457b97658b1ad2f058095a68fb9dc67d102531a37\
    e2b1699f5fdeba3c00d2818293d4f7054feaf9755e83d5f632a3176dd5dff655\
    b2071d6dd7565708a9301b98732bcad3539bdbc70ebe1da9b9ba0e9ad8e74a8a\
    3a524e1e48574f5ed0fcb385da300049fb8579188ebc0edac3cfb66424809c47\
    45b49095868103d778a601823a69d9faa0f0618c619990771a4eed0e105ecc46\
    7cdd7ea1319484b7cba9c395ee0bdf4519b26636b0bb9fb7fc308db324dfc158\
    c8624728897ec5a1dc0af9fbecaa0d082fcaf5d34934d720948edd96eb87578f\
    19d6ae51bc2729371d5abc817866e4c7c24d77eb290000242d10c8efcb911df9\
    029d0c4dc5fcd19c11964e75f730f2a76a20badf42311e052900001c00004004\
    6d6666edc13d54a612de5ff97ffb883e9dad7c842900001c00004005e6631148\
    3137ad8a0f54efbbf37c54ad8a730415290000080000402e290000100000402f\
    000200030004000529000008000040220000000800004014";

/// IKEv1 Main Mode message 1 (SA, vendor ids), ipsec-ikev1.pcap frame 1 (180 bytes).
const IKEV1_MM1: &str = "\
    5a317d23cd179c9c00000000000000000110020000000000000000b40d000038\
    00000001000000010000002c01010001000000240101000080010007800e0080\
    800200048004000e80030001800b0001800c3de00d00000c09002689dfd6b712\
    0d000014afcad71368a1f1c96b8696fc775701000d0000184048b7d56ebce885\
    25e7de7f00d6c2d3800000000d0000144a131c81070358455c5728f20e95452f\
    0000001490cb80913ebb696e086381b5ec427b1f";

/// IKEv1 Main Mode message 2, ipsec-ikev1.pcap frame 2 (160 bytes).
const IKEV1_MM2: &str = "\
    5a317d23cd179c9c3f3fda936352109c0110020000000000000000a00d000038\
    00000001000000010000002c01010001000000240101000080010007800e0080\
    800200048004000e80030001800b0001800c3de00d00000c09002689dfd6b712\
    0d000014afcad71368a1f1c96b8696fc775701000d0000184048b7d56ebce885\
    25e7de7f00d6c2d380000000000000144a131c81070358455c5728f20e95452f";

/// IKEv1 Main Mode message 5 (encrypted) behind the non-ESP marker on 4500, ipsec-ikev1.pcap frame 5 (112 bytes).
const IKEV1_MM5_MARKER: &str = "\
    000000005a317d23cd179c9c3f3fda936352109c05100201000000000000006c\
    b56f09c84d260fea525c21ef1a27949f70f422049be626768f9bae947d3f69c3\
    508a1d0302612111cc335760f2e5d7170c98dfd2b5e8f6912839c8ce5e203d53\
    68f320c5f397c86ab741c51ab303a2db";

/// IKEv1 Main Mode message 6, ipsec-ikev1.pcap frame 6 (96 bytes).
const IKEV1_MM6_MARKER: &str = "\
    000000005a317d23cd179c9c3f3fda936352109c05100201000000000000005c\
    0b70532ca92200e6111284bf783b0d1203aadbbf1a1f6e9610650eb411011150\
    6f6e17329a099e0ca17d4f3221ff55d2239cee7eafde9ad342d0e3330563653a";

/// IKEv2 IKE_AUTH request behind the non-ESP marker, 10.202.0.1:4500 -> 10.202.0.2:4500, ipsec-ikev2-natt.pcap frame 3 (276 bytes).
const IKE_AUTH_REQUEST_MARKER: &str = "\
    000000003b7108e88e365c2af24324cce53c4fdc2e2023080000000100000110\
    230000f4ab4a697d858247824479ef2d35893fdba54ae9f94a922caaef88954e\
    9a9beef2d1f7ca6a330498a4365224c8a0ab52d49060e46887e628bb8b457bbe\
    5a2bf115f8b0caf5c8f3171e7e58faaf2a4e03ac331ec8526366e28a84af59ac\
    96b8afb6bdbd1ef15dea63179bed3b95232350915d8a2343df4874841912e348\
    fe149897207d369704430333eb1e52a89fffc84550f204cbbb77e53b9e16d70a\
    176fbce127cbdc96d5c9d6c2f9ac6a109449d033863356fbceeeb2c6a3da0228\
    c0071028d38e974ce28bd7299b00e1e13d2aec953f2ea5c7af4d5bb2d0b43416\
    e497aaf15b0a53dbaebfb9d8dedcfd0e579710e5";

/// IKE_AUTH response, ipsec-ikev2-natt.pcap frame 4 (244 bytes).
const IKE_AUTH_RESPONSE_MARKER: &str = "\
    000000003b7108e88e365c2af24324cce53c4fdc2e20232000000001000000f0\
    240000d447c76a184842a75d651f1e1087dae8a7cb7c96172dd200f80d0dff59\
    e85c0a8e5db94256d70bc132d97045c03d0a3295d677d86257ebc3610a888fc1\
    787157a4468df91d51dc60147f3b9f924718e494f2d195dda153b4a7dbb635de\
    6f7cb6db5e5bd3ec40953ae4bcfa90ebaa5a5598c4962ae9e27f88e4bc15ea1f\
    d2c869951260fb22359f93e1068baf1c3d095cef647ec45e35b3a129031cbd3e\
    27b6e73ae5f044e905f764886dcff4d79d1ae8930057f90510e9695fab334e19\
    c7d56b3962b4083921556a0374410b347691572d";

/// ESP in UDP, ipsec-ikev2-natt.pcap frame 5 (136 bytes).
const ESP_UDP_5: &str = "\
    0c1bfe96000000018fd5b898d4a866bf05b4489d957056d0097199d7253ec5f6\
    842851a3936f5f01db7d530c2cabf22a82833d82b755653b4eb633758fe88feb\
    45c4452628c78bc2293eb1a96101d8a66c99b13c599ccd83f8bad3363946b4c3\
    3614eda5100265dfee000970eb7a481be4d1710086133ebed2e9f583b36927f8\
    aac283c14d4b9413";

/// ESP in UDP, ipsec-ikev2-natt.pcap frame 6 (136 bytes).
const ESP_UDP_6: &str = "\
    cf2d3d2600000001cd25f0215a7b69e2fb840445a243aedf5f2193c43ef03c2b\
    5db98a63f037b2b964d1b99c928226efda09f6bb3070ee3f186971f58bf23860\
    6824fe1e2bdd0464003d035f34849f2081982a62fc7d45bda33b1b3f3e5257d6\
    af5e5642c8a0e1592c318967377adb6e3c3085c65383a2da4448697965733976\
    3d0d2e426d0f7682";

/// ESP in UDP, ipsec-ikev2-natt.pcap frame 7 (136 bytes).
const ESP_UDP_7: &str = "\
    0c1bfe9600000002f31a49634f6e26220a34f3539a5e418e1a86109472d16e4f\
    701e470b6bcb312251c4409f55fa3bebc7de0da72c12c28d9fef2b3adc9b2ff8\
    c425afc5b11f8ecd802f86b2ca256b7830d434a1d9c4c3eba898146a112bb474\
    79712971733e77d858361062413dafa610c5ba25e6ca5af1a34a1d9739ae065d\
    616bb2f8678f03f8";

/// ESP in UDP, ipsec-ikev2-natt.pcap frame 8 (136 bytes).
const ESP_UDP_8: &str = "\
    cf2d3d2600000002e780cf2e03c3730914924af15a176aae3fffb5e2eaf6f116\
    dad6733e9f71422a06012ddf131cde309e358c990e157e0056183d930dc7dfe2\
    4775ee453d19f3f2403a0281b3091d524dda126d95eea5c31aa0dca4f527ca3e\
    161c87e2cf7100ba0d37f1294e26da1e2e25d2514243e83ac5744824988f88b5\
    f3badb2423308e31";

/// ESP in UDP, ipsec-ikev2-natt.pcap frame 9 (136 bytes).
const ESP_UDP_9: &str = "\
    0c1bfe9600000003c351a80051056e5574363b57ea204b2777e7ba761d5ac966\
    fe3a0d304493e9b60de0c44a4c443f9379e0a3a6e97e5fb4d2bcba11436ddfa6\
    c39d383e65d344ce067f048453c77d5694926b877154bc3da103613190296e18\
    2a3bc812d458f3f138a38f0c44ad88cec77256442a88bd7bfbe783a1e986625f\
    ae08b8855221e88b";

/// ESP in UDP, ipsec-ikev2-natt.pcap frame 10 (136 bytes).
const ESP_UDP_10: &str = "\
    cf2d3d26000000035a56081f1519b60a57ef77435dc75730c6aa7eaf5ee5d785\
    b6e97033ad8d16e2fe00ff4245b00d38de72056009e391b8bd46f9d02272aa02\
    1b1eedf34bff0a5210c8c95e7c253ad99107728898222505c162b948fc340087\
    16a13570d74501ee8cd6222a39cd49fbf4044d55dbe2983c1da4aabbc16d7c4d\
    11671bfb93903567";

/// ESP over IP (protocol 50), SPI 0x2360b0e3, sequence 1, esp.pcapng frame 5 (132 bytes).
const ESP_IP_CLIENT: &str = "\
    2360b0e30000000179cb5f816525d386146f359c0bee3177550e57749496e315\
    49cd4efae18ace39561b7295f6bd12eb5974ec500c0adbc3969805cd4e587550\
    13660babeec31bae40bba3797fba93dd377336d0434718983b4b2560108f10ad\
    d4c056997555702eeedf9208b5456706824185169c5159bca483645a85e92002\
    a5330164";

/// ESP over IP, SPI 0xf0092cb5, sequence 1, esp.pcapng frame 6 (132 bytes).
const ESP_IP_SERVER: &str = "\
    f0092cb5000000012d7f968d542cc11a586c57a26997505ba79626cc3a052d9e\
    07b38ff7fe5e1f08b6998a5467a1b7b7be795c6c2e60b6a7324db92ba84c0700\
    52c5c67fc9d3593ebaf106bc92025701005578bfab434ee1e99e7bfcf4148e9e\
    82ba805d121b79d2080308c72c4a415e14f9e7089cd3b977f127ae0096ece588\
    ecdb9766";

/// AH (protocol 51) over an ICMP echo request, SPI 0x604816f6, ah.pcapng frame 5 (104 bytes).
const AH_CLIENT: &str = "\
    01040000604816f600000001e732abace1c60046eec641ed0800670400050001\
    000000000014172cabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd\
    abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd\
    abcdabcdabcdabcd";

/// AH over the echo reply, SPI 0xaf8683ef, ah.pcapng frame 6 (104 bytes).
const AH_SERVER: &str = "\
    01040000af8683ef0000000102ee2dd7fb6854f1cbe8109c00006f0400050001\
    000000000014172cabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd\
    abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd\
    abcdabcdabcdabcd";

fn verdict(p: &Progress) -> &VpnVerdict {
    match p {
        Progress::Verdict(v) => v,
        other => panic!("expected a verdict, got {other:?}"),
    }
}

fn detail(v: &VpnVerdict, key: &str) -> Option<String> {
    v.detail(key)
}

/// An RFC 8229 frame: 2-byte length counting itself, the non-ESP
/// marker, the IKE message.
fn tcp_frame(msg: &[u8]) -> Vec<u8> {
    let mut v = ((msg.len() + 6) as u16).to_be_bytes().to_vec();
    v.extend_from_slice(&NON_ESP_MARKER);
    v.extend_from_slice(msg);
    v
}

#[test]
fn reads_an_ikev2_sa_init_request() {
    let m = parse_message(&hex(IKEV2_SA_INIT_REQUEST)).unwrap();
    let h = m.header;
    assert_eq!(h.initiator_spi, 0xc441_6f87_fefa_05e4);
    assert_eq!(h.responder_spi, 0);
    assert_eq!(
        (h.version, h.exchange),
        (IkeVersion::V2, ExchangeType::IKE_SA_INIT)
    );
    assert_eq!(
        (h.flags, h.message_id, h.length),
        (flags::INITIATOR, 0, 464)
    );
    assert!(!m.encrypted);
    assert_eq!(m.payloads.describe(h.version), "SA,KE,Nonce,N,N,N,N,N");
}

#[test]
fn ikev2_sa_init_request_and_response_are_high() {
    let mut t = IkeTracker::new();
    assert_eq!(
        t.on_datagram(&hex(IKEV2_SA_INIT_REQUEST), true, 1),
        Progress::Candidate
    );
    let p = t.on_datagram(&hex(IKEV2_SA_INIT_RESPONSE), false, 2);
    let v = verdict(&p);
    assert_eq!(
        (v.protocol, v.confidence),
        (VpnProtocol::Ike, Confidence::High)
    );
    assert_eq!(detail(v, "ike_version").as_deref(), Some("2"));
    assert_eq!(detail(v, "exchanges").as_deref(), Some("IKE_SA_INIT"));
    assert_eq!(
        detail(v, "initiator_spi").as_deref(),
        Some("0xc4416f87fefa05e4")
    );
    assert_eq!(
        detail(v, "responder_spi").as_deref(),
        Some("0xe5ce8e19b62cfb2f")
    );
    assert_eq!(detail(v, "carrier").as_deref(), Some("udp"));
    assert_eq!(
        v.evidence.iter().map(|f| f.packet).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(v.evidence[1].what.to_string().contains("responder SPI set"));
}

#[test]
fn a_lone_valid_message_is_medium_when_the_flow_ends() {
    let mut t = IkeTracker::new();
    t.on_datagram(&hex(IKEV2_SA_INIT_REQUEST), true, 1);
    let v = t.verdict().unwrap();
    assert_eq!(v.confidence, Confidence::Medium);
    assert!(v.evidence[0].what.to_string().contains("no partner seen"));
    // Retransmitted, still unanswered: Medium on the way.
    t.on_datagram(&hex(IKEV2_SA_INIT_REQUEST), true, 2);
    let p = t.on_datagram(&hex(IKEV2_SA_INIT_REQUEST), true, 3);
    assert_eq!(verdict(&p).confidence, Confidence::Medium);
}

#[test]
fn ikev1_main_mode_is_high() {
    let mut t = IkeTracker::new();
    assert_eq!(t.on_datagram(&hex(IKEV1_MM1), true, 1), Progress::Candidate);
    let p = t.on_datagram(&hex(IKEV1_MM2), false, 2);
    let v = verdict(&p);
    assert_eq!(v.confidence, Confidence::High);
    assert_eq!(detail(v, "ike_version").as_deref(), Some("1"));
    assert_eq!(detail(v, "exchanges").as_deref(), Some("MAIN_MODE"));
    assert_eq!(
        detail(v, "initiator_spi").as_deref(),
        Some("0x5a317d23cd179c9c")
    );
    assert_eq!(
        detail(v, "responder_spi").as_deref(),
        Some("0x3f3fda936352109c")
    );
}

#[test]
fn ike_behind_the_non_esp_marker_is_high() {
    // IKEv2 IKE_AUTH (encrypted: one SK payload) and IKEv1 Main Mode
    // 5/6 (encrypted body), both on 4500 behind the marker.
    for (req, resp, version) in [
        (IKE_AUTH_REQUEST_MARKER, IKE_AUTH_RESPONSE_MARKER, "2"),
        (IKEV1_MM5_MARKER, IKEV1_MM6_MARKER, "1"),
    ] {
        let mut t = IkeTracker::new();
        assert_eq!(t.on_datagram(&hex(req), true, 1), Progress::Candidate);
        let p = t.on_datagram(&hex(resp), false, 2);
        let v = verdict(&p);
        assert_eq!(v.confidence, Confidence::High);
        assert_eq!(detail(v, "carrier").as_deref(), Some("udp-non-esp-marker"));
        assert_eq!(detail(v, "ike_version").as_deref(), Some(version));
    }
    let m = parse_message(&hex(IKE_AUTH_REQUEST_MARKER)[4..]).unwrap();
    assert!(m.encrypted);
    assert_eq!(m.header.exchange, ExchangeType::IKE_AUTH);
}

fn natt_flow() -> Vec<(Vec<u8>, bool)> {
    let mut v = vec![
        (hex(IKE_AUTH_REQUEST_MARKER), true),
        (hex(IKE_AUTH_RESPONSE_MARKER), false),
    ];
    for (i, h) in [
        ESP_UDP_5, ESP_UDP_6, ESP_UDP_7, ESP_UDP_8, ESP_UDP_9, ESP_UDP_10,
    ]
    .iter()
    .enumerate()
    {
        v.push((hex(h), i % 2 == 0));
    }
    v
}

#[test]
fn esp_after_ike_on_4500_is_esp_with_ike_details() {
    let mut t = UdpEncapTracker::new();
    let p: Vec<Progress> = natt_flow()
        .iter()
        .enumerate()
        .map(|(i, (b, c))| t.on_datagram(b, *c, i as u64 + 3))
        .collect();
    // IKE paired at packet 4; the flow waits for ESP both ways.
    assert!(p[..3].iter().all(|p| *p == Progress::Candidate), "{p:?}");
    let v = verdict(&p[3]);
    assert_eq!(
        (v.protocol, v.confidence),
        (VpnProtocol::Esp, Confidence::High)
    );
    assert_eq!(
        detail(v, "esp_spi_to_server").as_deref(),
        Some("0x0c1bfe96")
    );
    assert_eq!(
        detail(v, "esp_spi_to_client").as_deref(),
        Some("0xcf2d3d26")
    );
    assert_eq!(detail(v, "ike_version").as_deref(), Some("2"));
    assert_eq!(detail(v, "exchanges").as_deref(), Some("IKE_AUTH"));
    assert_eq!(detail(v, "nat_keepalives").as_deref(), Some("0"));
    // Evidence: the IKE pair, then each direction's first ESP packet.
    assert_eq!(
        v.evidence.iter().map(|f| f.packet).collect::<Vec<_>>(),
        [3, 4, 5, 6]
    );
}

#[test]
fn esp_in_udp_without_ike_needs_three_in_order_each_way() {
    let flow = natt_flow();
    let mut t = UdpEncapTracker::new();
    let p: Vec<Progress> = flow[2..]
        .iter()
        .enumerate()
        .map(|(i, (b, c))| t.on_datagram(b, *c, i as u64 + 1))
        .collect();
    assert!(p[..5].iter().all(|p| *p == Progress::Candidate), "{p:?}");
    let v = verdict(&p[5]);
    assert_eq!(
        (v.protocol, v.confidence),
        (VpnProtocol::Esp, Confidence::High)
    );
    assert_eq!(detail(v, "ike_version").as_deref(), None);
    // The same packets one way only: Medium when the flow ends.
    let mut t = EspTracker::in_udp();
    for (i, (b, _)) in flow[2..].iter().enumerate().step_by(2) {
        assert_eq!(t.on_packet(b, true, i as u64), Progress::Candidate);
    }
    assert_eq!(t.verdict().map(|v| v.confidence), Some(Confidence::Medium));
}

#[test]
fn nat_keepalives_are_counted_not_judged() {
    let mut t = UdpEncapTracker::new();
    let mut last = Progress::Candidate;
    for (i, (b, c)) in natt_flow().iter().enumerate() {
        let p = t.on_datagram(&[NAT_KEEPALIVE], *c, 100 + i as u64);
        assert_ne!(p, Progress::NotThis);
        last = t.on_datagram(b, *c, i as u64 + 1);
    }
    assert_eq!(
        detail(verdict(&last), "nat_keepalives").as_deref(),
        Some("8")
    );
    // The IKE tracker alone skips them too.
    let mut t = IkeTracker::new();
    assert_eq!(
        t.on_datagram(&[NAT_KEEPALIVE], true, 1),
        Progress::Candidate
    );
}

#[test]
fn ike_only_on_4500_is_ike_when_the_flow_ends() {
    let mut t = UdpEncapTracker::new();
    for (i, (b, c)) in natt_flow()[..2].iter().enumerate() {
        assert_eq!(t.on_datagram(b, *c, i as u64 + 1), Progress::Candidate);
    }
    let v = t.verdict().unwrap();
    assert_eq!(
        (v.protocol, v.confidence),
        (VpnProtocol::Ike, Confidence::High)
    );
}

#[test]
fn esp_and_ah_over_ip_both_directions_are_high() {
    let mut t = EspTracker::new();
    assert_eq!(
        t.on_packet(&hex(ESP_IP_CLIENT), true, 5),
        Progress::Candidate
    );
    let p = t.on_packet(&hex(ESP_IP_SERVER), false, 6);
    let v = verdict(&p);
    assert_eq!(
        (v.protocol, v.confidence),
        (VpnProtocol::Esp, Confidence::High)
    );
    assert_eq!(
        detail(v, "esp_spi_to_server").as_deref(),
        Some("0x2360b0e3")
    );
    assert_eq!(
        detail(v, "esp_spi_to_client").as_deref(),
        Some("0xf0092cb5")
    );
    // One packet alone: only the protocol number vouches for it.
    let mut t = EspTracker::new();
    t.on_packet(&hex(ESP_IP_CLIENT), true, 5);
    assert_eq!(t.verdict().map(|v| v.confidence), Some(Confidence::Low));

    let mut t = AhTracker::new();
    assert_eq!(t.on_packet(&hex(AH_CLIENT), true, 5), Progress::Candidate);
    let p = t.on_packet(&hex(AH_SERVER), false, 6);
    let v = verdict(&p);
    assert_eq!(
        (v.protocol, v.confidence),
        (VpnProtocol::Ah, Confidence::High)
    );
    assert_eq!(detail(v, "ah_spi_to_server").as_deref(), Some("0x604816f6"));
    assert_eq!(detail(v, "icv_bytes").as_deref(), Some("12"));
}

#[test]
fn ike_over_tcp_in_any_segmentation() {
    let mut client = TCP_PREFIX.to_vec();
    client.extend(tcp_frame(&hex(IKEV2_SA_INIT_REQUEST)));
    let server = tcp_frame(&hex(IKEV2_SA_INIT_RESPONSE));
    for size in [1, 2, 5, 7, 29, 100, 4096] {
        let mut t = IkeTracker::new();
        for (i, chunk) in client.chunks(size).enumerate() {
            assert_eq!(t.on_stream(chunk, true, i as u64), Progress::Candidate);
        }
        let mut last = Progress::Candidate;
        for (i, chunk) in server.chunks(size).enumerate() {
            last = t.on_stream(chunk, false, 1000 + i as u64);
        }
        let v = verdict(&last);
        assert_eq!(v.confidence, Confidence::High, "chunks of {size}");
        assert_eq!(detail(v, "carrier").as_deref(), Some("tcp-rfc8229"));
    }
    // Without the IKETCP prefix the stream is not RFC 8229.
    let mut t = IkeTracker::new();
    assert_eq!(
        t.on_stream(&tcp_frame(&hex(IKEV2_SA_INIT_REQUEST)), true, 1),
        Progress::NotThis
    );
    assert_eq!(t.refusal(), Some(&Refusal::Prefix));
    // ESP frames (SPI where the marker would be) are skipped whole.
    let mut t = IkeTracker::new();
    let mut stream = client.clone();
    let esp = hex(ESP_UDP_5);
    stream.extend(((esp.len() + 2) as u16).to_be_bytes());
    stream.extend(&esp);
    stream.extend(tcp_frame(&hex(IKEV2_SA_INIT_REQUEST)));
    assert_eq!(t.on_stream(&stream, true, 1), Progress::Candidate);
    assert_eq!(t.streams[0].esp_frames, 1);
}

#[test]
fn header_and_chain_rules_refuse() {
    let req = hex(IKEV2_SA_INIT_REQUEST);
    let resp = hex(IKEV2_SA_INIT_RESPONSE);
    let set = |b: &[u8], at: usize, v: u8| {
        let mut m = b.to_vec();
        m[at] = v;
        m
    };
    type Check = fn(&Refusal) -> bool;
    let mut longer = req.clone();
    longer.push(0);
    let cases: Vec<(&str, Vec<u8>, Check)> = vec![
        (
            "zero initiator SPI",
            {
                let mut m = req.clone();
                m[..8].fill(0);
                m
            },
            |r| *r == Refusal::InitiatorSpiZero,
        ),
        ("version 2.1", set(&req, 17, 0x21), |r| {
            *r == Refusal::Version(0x21)
        }),
        ("exchange 33", set(&req, 18, 33), |r| {
            matches!(r, Refusal::Exchange { .. })
        }),
        ("reserved flag", set(&req, 19, 0x09), |r| {
            matches!(r, Refusal::Flags { .. })
        }),
        ("length field", set(&req, 27, 0xd1), |r| {
            matches!(r, Refusal::LengthField { .. })
        }),
        ("one byte short", req[..req.len() - 1].to_vec(), |r| {
            matches!(r, Refusal::LengthField { .. })
        }),
        ("one byte more", longer, |r| {
            matches!(r, Refusal::LengthField { .. })
        }),
        ("first payload type", set(&req, 16, 99), |r| {
            matches!(r, Refusal::NextPayload { .. })
        }),
        ("payload reserved bits", set(&req, 29, 0x01), |r| {
            matches!(r, Refusal::PayloadReserved { .. })
        }),
        (
            "payload length 3",
            {
                let mut m = req.clone();
                m[30..32].copy_from_slice(&3u16.to_be_bytes());
                m
            },
            |r| matches!(r, Refusal::PayloadLength { .. }),
        ),
        (
            "chain not ending at the last byte",
            {
                let mut m = req.clone();
                let len = m.len() as u32 + 8;
                m.extend([0; 8]);
                m[24..28].copy_from_slice(&len.to_be_bytes());
                m
            },
            |r| matches!(r, Refusal::TrailingBytes { .. }),
        ),
        (
            "responder SPI in an IKE_SA_INIT request",
            set(&req, 15, 1),
            |r| matches!(r, Refusal::ResponderSpiSet { .. }),
        ),
        ("IKE_SA_INIT with message id 1", set(&req, 23, 1), |r| {
            matches!(r, Refusal::MessageId { .. })
        }),
        (
            "response flag on the initiator's IKE_SA_INIT",
            set(&req, 19, 0x28),
            |r| matches!(r, Refusal::Role { .. }),
        ),
        (
            "IKE_SA_INIT response without responder SPI",
            {
                let mut m = resp.clone();
                m[8..16].fill(0);
                m
            },
            |r| matches!(r, Refusal::ResponderSpiZero { .. }),
        ),
        (
            "IKE_AUTH in clear",
            {
                let mut m = resp.clone();
                m[18] = 35;
                m[23] = 1;
                m
            },
            |r| matches!(r, Refusal::NotEncrypted { .. }),
        ),
        (
            "encrypted IKEv1 body not in blocks",
            {
                let mut m = hex(IKEV1_MM5_MARKER)[4..].to_vec();
                m.truncate(m.len() - 4);
                let len = m.len() as u32;
                m[24..28].copy_from_slice(&len.to_be_bytes());
                m
            },
            |r| matches!(r, Refusal::EncryptedBody { .. }),
        ),
    ];
    for (what, bytes, expected) in cases {
        let got = parse_message(&bytes).map(|_| ()).unwrap_err();
        assert!(expected(&got), "{what}: refused for {got}");
        let mut t = IkeTracker::new();
        assert_eq!(t.on_datagram(&bytes, true, 1), Progress::NotThis, "{what}");
    }
    // Every proper prefix of a valid message is refused.
    for cut in 0..req.len() {
        assert!(parse_message(&req[..cut]).is_err(), "prefix {cut}");
    }
}

#[test]
fn sa_consistency_across_messages() {
    // The responder SPI changing within one IKE SA.
    let mut other = hex(IKEV1_MM2);
    other[15] ^= 1;
    let mut t = IkeTracker::new();
    t.on_datagram(&hex(IKEV1_MM1), true, 1);
    t.on_datagram(&hex(IKEV1_MM2), false, 2);
    assert_eq!(t.on_datagram(&other, false, 3), Progress::NotThis);
    assert!(matches!(t.refusal(), Some(Refusal::SpiChanged { .. })));
    // The client sending as the original initiator, then as responder.
    let mut flipped = hex(IKE_AUTH_REQUEST_MARKER);
    flipped[4 + 19] = 0x00;
    let mut t = IkeTracker::new();
    t.on_datagram(&hex(IKE_AUTH_REQUEST_MARKER), true, 1);
    assert_eq!(t.on_datagram(&flipped, true, 2), Progress::NotThis);
    assert_eq!(
        t.refusal(),
        Some(&Refusal::InitiatorFlag(0x3b71_08e8_8e36_5c2a))
    );
    // A response from the same side as its request does not pair.
    let mut t = IkeTracker::new();
    t.on_datagram(&hex(IKEV2_SA_INIT_REQUEST), true, 1);
    t.on_datagram(&hex(IKEV2_SA_INIT_RESPONSE), true, 2);
    assert!(!t.is_paired());
}

#[test]
fn esp_sequence_rules_refuse() {
    let esp = |spi: u32, seq: u32, len: usize| {
        let mut b = hex(ESP_UDP_5);
        b[..4].copy_from_slice(&spi.to_be_bytes());
        b[4..8].copy_from_slice(&seq.to_be_bytes());
        b.resize(len, 0);
        b
    };
    type Check = fn(&Refusal) -> bool;
    type Packets = Vec<(Vec<u8>, bool)>;
    let cases: Vec<(&str, Packets, Check)> = vec![
        ("reserved SPI", vec![(esp(255, 1, 136), true)], |r| {
            *r == Refusal::ReservedSpi(255)
        }),
        ("sequence 0", vec![(esp(0x1000, 0, 136), true)], |r| {
            matches!(r, Refusal::ZeroSequence(_))
        }),
        (
            "size not a multiple of 4",
            vec![(esp(0x1000, 1, 135), true)],
            |r| matches!(r, Refusal::EspLength { .. }),
        ),
        ("too small", vec![(esp(0x1000, 1, 28), true)], |r| {
            matches!(r, Refusal::EspLength { .. })
        }),
        (
            "sequence leaping ahead",
            vec![
                (esp(0x1000, 1, 136), true),
                (esp(0x1000, 2 + MAX_SEQ_STEP, 136), true),
            ],
            |r| matches!(r, Refusal::Sequence { .. }),
        ),
        (
            "sequence falling back",
            vec![
                (esp(0x1000, 200, 136), true),
                (esp(0x1000, 200 - REPLAY_WINDOW - 1, 136), true),
            ],
            |r| matches!(r, Refusal::Sequence { .. }),
        ),
        (
            "sequence repeating",
            vec![
                (esp(0x1000, 7, 136), true),
                (esp(0x1000, 7, 136), true),
                (esp(0x1000, 7, 136), true),
                (esp(0x1000, 7, 136), true),
            ],
            |r| matches!(r, Refusal::RepeatedSequence { .. }),
        ),
        (
            "new SPI mid-sequence",
            vec![(esp(0x1000, 1, 136), true), (esp(0x2000, 5000, 136), true)],
            |r| matches!(r, Refusal::NewSpiMidSequence { .. }),
        ),
        (
            "one SPI both ways",
            vec![(esp(0x1000, 1, 136), true), (esp(0x1000, 1, 136), false)],
            |r| *r == Refusal::SameSpi(0x1000),
        ),
    ];
    for (what, packets, expected) in cases {
        let mut t = EspTracker::in_udp();
        let mut last = Progress::Candidate;
        for (i, (b, c)) in packets.iter().enumerate() {
            last = t.on_packet(b, *c, i as u64);
        }
        assert_eq!(last, Progress::NotThis, "{what}");
        let r = t.refusal().unwrap();
        assert!(expected(r), "{what}: refused for {r}");
    }
    // A child SA rekey: a new SPI starting afresh is fine.
    let mut t = EspTracker::in_udp();
    for (i, b) in [
        esp(0x1000, 90, 136),
        esp(0x1000, 91, 136),
        esp(0x2000, 1, 136),
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(t.on_packet(b, true, i as u64), Progress::Candidate);
    }
}

#[test]
fn look_alikes_are_refused() {
    let mut samples = controls::all();
    samples.push(("WireGuard initiation", {
        // wireguard-udp-51820.pcap frame 1 starts 01 00 00 00.
        let mut b = vec![1, 0, 0, 0];
        b.resize(148, 0x5a);
        b
    }));
    for (name, b) in samples {
        let mut t = IkeTracker::new();
        assert_eq!(t.on_datagram(&b, true, 1), Progress::NotThis, "IKE: {name}");
        let mut t = IkeTracker::new();
        assert_eq!(
            t.on_stream(&b, true, 1),
            Progress::NotThis,
            "IKE/TCP: {name}"
        );
        // As ESP-in-UDP the same packet, repeated, must not pass.
        let mut t = UdpEncapTracker::new();
        let mut p = Progress::Candidate;
        for i in 0..12 {
            p = t.on_datagram(&b, i % 2 == 0, i);
            if p == Progress::NotThis {
                break;
            }
        }
        assert!(!matches!(p, Progress::Verdict(_)), "4500: {name}: {p:?}");
        assert_eq!(t.verdict(), None, "4500: {name}");
    }
}

#[test]
fn random_payloads_never_decide() {
    let mut rng = XorShift(0x4950_5345_4321);
    for flow in 0..3000 {
        let mut ike = IkeTracker::new();
        let mut tcp = IkeTracker::new();
        let mut encap = UdpEncapTracker::new();
        let mut esp_ip = EspTracker::new();
        let mut ah = AhTracker::new();
        let packets = 1 + rng.below(12);
        for i in 0..packets {
            let len = rng.below(1500) as usize;
            let mut b = rng.bytes(len);
            // A third of the flows get IKE's version byte and a
            // matching length field, a third the non-ESP marker.
            match flow % 3 {
                0 if len >= IKE_HEADER_LEN => {
                    b[17] = if rng.below(2) == 0 { 0x10 } else { 0x20 };
                    b[24..28].copy_from_slice(&(len as u32).to_be_bytes());
                }
                1 if len >= 4 => b[..4].fill(0),
                _ => {}
            }
            let c = rng.below(2) == 0;
            for p in [
                ike.on_datagram(&b, c, i),
                tcp.on_stream(&b, c, i),
                encap.on_datagram(&b, c, i),
                ah.on_packet(&b, c, i),
            ] {
                assert!(!matches!(p, Progress::Verdict(_)), "flow {flow}: {p:?}");
            }
            // IP protocol 50 itself says ESP: a random packet may be
            // a Low candidate, never an in-sequence pair.
            let p = esp_ip.on_packet(&b, c, i);
            assert!(!matches!(p, Progress::Verdict(_)), "flow {flow}: {p:?}");
        }
        assert_eq!(ike.verdict(), None, "flow {flow}");
        assert_eq!(tcp.verdict(), None, "flow {flow}");
        assert_eq!(encap.verdict(), None, "flow {flow}");
        assert!(
            esp_ip
                .verdict()
                .is_none_or(|v| v.confidence == Confidence::Low),
            "flow {flow}"
        );
        assert!(
            ah.verdict().is_none_or(|v| v.confidence == Confidence::Low),
            "flow {flow}"
        );
    }
}

#[test]
fn truncated_and_mutated_packets_never_panic() {
    let mut rng = XorShift(11);
    let mut fixtures: Vec<Vec<u8>> = [
        IKEV2_SA_INIT_REQUEST,
        IKEV1_MM1,
        IKEV1_MM5_MARKER,
        IKE_AUTH_REQUEST_MARKER,
        ESP_UDP_5,
        ESP_IP_CLIENT,
        AH_CLIENT,
    ]
    .iter()
    .map(|h| hex(h))
    .collect();
    fixtures.extend(controls::all().into_iter().map(|(_, b)| b));
    for f in &fixtures {
        for cut in 0..=f.len() {
            let part = &f[..cut];
            let _ = parse_message(part);
            IkeTracker::new().on_datagram(part, true, 1);
            IkeTracker::new().on_stream(part, true, 1);
            UdpEncapTracker::new().on_datagram(part, true, 1);
            EspTracker::new().on_packet(part, true, 1);
            AhTracker::new().on_packet(part, true, 1);
        }
        for _ in 0..300 {
            let mut m = f.clone();
            if !m.is_empty() {
                let i = rng.below(m.len() as u64) as usize;
                m[i] ^= 1 << rng.below(8);
            }
            let mut ike = IkeTracker::new();
            ike.on_datagram(f, true, 1);
            ike.on_datagram(&m, false, 2);
            let mut tcp = IkeTracker::new();
            tcp.on_stream(TCP_PREFIX, true, 0);
            tcp.on_stream(&tcp_frame(&m), true, 1);
            let mut encap = UdpEncapTracker::new();
            encap.on_datagram(f, true, 1);
            encap.on_datagram(&m, false, 2);
            let _ = (ike.verdict(), tcp.verdict(), encap.verdict());
        }
    }
}

#[test]
fn undecided_flows_stop_at_the_cap_and_state_is_small() {
    let mut t = UdpEncapTracker::new();
    for i in 1..MAX_MESSAGES {
        assert_eq!(
            t.on_datagram(&[NAT_KEEPALIVE], true, u64::from(i)),
            Progress::Candidate
        );
    }
    assert_eq!(t.on_datagram(&[NAT_KEEPALIVE], true, 99), Progress::NotThis);
    assert_eq!(t.refusal(), Some(&Refusal::Undecided(MAX_MESSAGES)));
    for size in [
        std::mem::size_of::<IkeTracker>(),
        std::mem::size_of::<UdpEncapTracker>(),
        std::mem::size_of::<EspTracker>(),
        std::mem::size_of::<AhTracker>(),
    ] {
        assert!(size < 4096, "{size} bytes");
    }
}
