//! The rule readers (sift's language and the Suricata subset) over
//! arbitrary text: they never panic, every diagnostic has a place, and a
//! set that reads matches names without panicking either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sift::rules::names::NameIndex;
use sift::rules::source::read_text;
use sift::rules::LoadOptions;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // As written (the dialect detected), and inside a Suricata rule's
    // options, so both readers see every input.
    let suricata = format!("alert tls any any -> any any ({text}");
    for t in [text, suricata.as_str()] {
        match read_text("fuzz.rules", t) {
            Ok(parsed) => {
                if let Ok((index, _)) =
                    NameIndex::build(&parsed.rules, &parsed.files, &LoadOptions::default())
                {
                    let mut s = index.scratch();
                    for name in ["example.com", "a.b.example.org", "", "x\ny"] {
                        index.scan(&mut s, name, &mut |t| {
                            assert!((t.rule as usize) < parsed.rules.len());
                        });
                    }
                }
            }
            Err(d) => {
                assert!(!d.is_empty());
                for diag in d.shown() {
                    assert!(diag.span.line >= 1, "{diag}");
                    let _ = diag.to_string();
                }
            }
        }
    }
});
