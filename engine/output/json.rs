//! A JSON writer for EVE lines: appends to the caller's reusable buffer and
//! allocates nothing of its own.
//!
//! Keys are the program's own literals and are copied as they are; so are
//! strings the program itself composed from closed sets (timestamps,
//! addresses, protocol and state names), through [`JsonOut::raw_str`] and
//! [`JsonOut::raw`].
//! Text that can come from a packet, a rule file or the command line goes
//! through [`JsonOut::str`], whose escaping is serde_json's byte for byte
//! (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control bytes as
//! `\u00xx` in lowercase hex; DEL and non-ASCII UTF-8 verbatim), so EVE
//! output reads the same as when serde_json wrote it. `Display` values are
//! written first and escaped in place after, so a formatted value costs
//! one scan however many pieces it came in. It writes no floats (EVE has
//! none).
//!
//! Commas are the writer's job: it remembers whether the next key or
//! element follows a sibling. It does not check nesting; a caller that
//! opens an object closes it.

use std::fmt::{self, Write as _};

use crate::classify::facts::{Piece, Put};

/// Appends JSON to a byte buffer.
pub struct JsonOut<'a> {
    buf: &'a mut Vec<u8>,
    /// The next key or element follows a sibling (needs a comma).
    after_value: bool,
}

impl<'a> JsonOut<'a> {
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        JsonOut {
            buf,
            after_value: false,
        }
    }

    /// The comma a value or key needs after a sibling.
    #[inline(always)]
    fn sep(&mut self) {
        if self.after_value {
            self.buf.push(b',');
        }
    }

    /// Opens an object or array with `bracket`.
    #[inline(always)]
    fn open(&mut self, bracket: u8) -> &mut Self {
        self.sep();
        self.buf.push(bracket);
        self.after_value = false;
        self
    }

    /// Closes an object or array with `bracket`: it is a value.
    #[inline(always)]
    fn close(&mut self, bracket: u8) -> &mut Self {
        self.buf.push(bracket);
        self.after_value = true;
        self
    }

    #[inline(always)]
    pub fn begin_object(&mut self) -> &mut Self {
        self.open(b'{')
    }

    #[inline(always)]
    pub fn end_object(&mut self) -> &mut Self {
        self.close(b'}')
    }

    #[inline(always)]
    pub fn begin_array(&mut self) -> &mut Self {
        self.open(b'[')
    }

    #[inline(always)]
    pub fn end_array(&mut self) -> &mut Self {
        self.close(b']')
    }

    /// An object's key, copied unescaped: the program's own names only.
    #[inline(always)]
    pub fn key(&mut self, k: &str) -> &mut Self {
        debug_assert!(!needs_escape(k.as_bytes()), "key {k:?} needs escaping");
        if self.after_value {
            self.buf.extend_from_slice(b",\"");
        } else {
            self.buf.push(b'"');
        }
        self.buf.extend_from_slice(k.as_bytes());
        self.buf.extend_from_slice(b"\":");
        self.after_value = false;
        self
    }

    /// A whole member (`"key":value`) rendered before by a `JsonOut` of
    /// its own, copied as it is.
    #[inline(always)]
    pub fn member(&mut self, rendered: &[u8]) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(rendered);
        self.after_value = true;
        self
    }

    /// A string value, escaped.
    #[inline]
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.sep();
        self.buf.push(b'"');
        escape_into(self.buf, s.as_bytes());
        self.buf.push(b'"');
        self.after_value = true;
        self
    }

    /// A string value the program composed from characters that never
    /// need escaping (digits, names from closed sets), copied as it is.
    #[inline(always)]
    pub fn raw_str(&mut self, s: &str) -> &mut Self {
        self.raw(s.as_bytes())
    }

    /// [`JsonOut::raw_str`] of text kept as bytes (ASCII the program
    /// wrote: timestamps, addresses).
    #[inline(always)]
    pub fn raw(&mut self, s: &[u8]) -> &mut Self {
        debug_assert!(s.is_ascii() && !needs_escape(s), "{s:?} needs escaping");
        self.sep();
        self.buf.push(b'"');
        self.buf.extend_from_slice(s);
        self.buf.push(b'"');
        self.after_value = true;
        self
    }

    /// A string value written by `Display`, then escaped in place.
    pub fn display(&mut self, v: impl fmt::Display) -> &mut Self {
        self.sep();
        self.buf.push(b'"');
        let start = self.buf.len();
        write!(Bytes(self.buf), "{v}").expect("writing to a Vec cannot fail");
        escape_tail(self.buf, start);
        self.buf.push(b'"');
        self.after_value = true;
        self
    }

    /// A string value of the [`Piece`]s `spell` gives: their words copied
    /// as they are (the program's own text), their numbers written in
    /// place. False, with nothing written, when `spell` gives none.
    pub fn spelled(&mut self, spell: impl FnOnce(&mut Put<'_>) -> bool) -> bool {
        let (mark, after) = (self.buf.len(), self.after_value);
        self.sep();
        self.buf.push(b'"');
        let buf = &mut *self.buf;
        let spelled = spell(&mut |p: Piece| match p {
            Piece::Text(t) => {
                debug_assert!(!needs_escape(t.as_bytes()), "{t:?} needs escaping");
                buf.extend_from_slice(t.as_bytes());
            }
            Piece::Decimal(n) => decimal_into(buf, n),
            Piece::Decimal2(n) if n < 10 => buf.extend_from_slice(&[b'0', b'0' + n as u8]),
            Piece::Decimal2(n) => decimal_into(buf, n),
            Piece::Hex4(h) => buf.extend_from_slice(&crate::hex::quad(h)),
        });
        if spelled {
            self.buf.push(b'"');
            self.after_value = true;
        } else {
            self.buf.truncate(mark);
            self.after_value = after;
        }
        spelled
    }

    /// An unsigned integer value.
    #[inline(always)]
    pub fn uint(&mut self, v: u64) -> &mut Self {
        self.sep();
        decimal_into(self.buf, v);
        self.after_value = true;
        self
    }

    /// An unsigned integer as a string value (`"47"`).
    pub fn uint_str(&mut self, v: u64) -> &mut Self {
        self.sep();
        self.buf.push(b'"');
        decimal_into(self.buf, v);
        self.buf.push(b'"');
        self.after_value = true;
        self
    }

    /// A run of members composed on the stack and appended in one copy
    /// (see [`Run`]): `write` gives the first member without its comma
    /// (the writer adds the one it needs) and the others with theirs.
    #[inline(always)]
    pub fn run<const N: usize>(&mut self, write: impl FnOnce(&mut Run<'_, N>)) -> &mut Self {
        self.sep();
        let mut run = Run {
            out: &mut *self.buf,
            buf: [0; N],
            len: 0,
        };
        write(&mut run);
        run.spill();
        self.after_value = true;
        self
    }

    #[inline(always)]
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.sep();
        self.buf
            .extend_from_slice(if v { b"true" } else { b"false" });
        self.after_value = true;
        self
    }
}

/// Text composed in a buffer on the stack, then appended to the line in
/// one copy ([`JsonOut::run`]). A line's fixed runs (keys with their
/// punctuation, numbers, timestamps, addresses, names from closed sets)
/// are many small pieces; appended to the `Vec` one by one, each would
/// load, check and store the vector's length and capacity. Here the length
/// is a local the pieces advance, and the room check is one comparison.
/// A piece that does not fit sends what is composed to the line first
/// (text longer than the buffer goes straight to it), so any text can be
/// given; the buffer's size is a matter of speed only. Nothing is escaped:
/// pieces are the program's own text.
pub struct Run<'a, const N: usize> {
    out: &'a mut Vec<u8>,
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Run<'_, N> {
    /// Room for the widest fixed piece (a number's 20 digits, an
    /// address's 45 characters) with its punctuation.
    const ROOMY: () = assert!(N >= 64, "a run needs room for its widest piece");

    /// Sends what is composed to the line.
    #[inline(always)]
    fn spill(&mut self) {
        self.out.extend_from_slice(&self.buf[..self.len]);
        self.len = 0;
    }

    /// Makes room for `n` bytes (at most 64).
    #[inline(always)]
    fn room(&mut self, n: usize) {
        let () = Self::ROOMY;
        debug_assert!(n <= 64);
        if N - self.len < n {
            self.spill();
        }
    }

    /// Program text, copied as it is (never escaped).
    #[inline(always)]
    pub fn text(&mut self, s: &[u8]) -> &mut Self {
        debug_assert!(!needs_escape(s), "{s:?} needs escaping");
        if N - self.len < s.len() {
            self.spill();
            if s.len() > N {
                self.out.extend_from_slice(s);
                return self;
            }
        }
        self.buf[self.len..self.len + s.len()].copy_from_slice(s);
        self.len += s.len();
        self
    }

    /// Hands `fill` the next `K` bytes (at most 64) as a fixed-size
    /// window and advances by the count it returns (at most `K`): text of
    /// a known widest length written in place, with the room checked once.
    #[inline(always)]
    pub fn window<const K: usize>(
        &mut self,
        fill: impl FnOnce(&mut [u8; K]) -> usize,
    ) -> &mut Self {
        self.room(K);
        let window: &mut [u8; K] = (&mut self.buf[self.len..self.len + K])
            .try_into()
            .expect("a window of K bytes");
        let used = fill(window);
        debug_assert!(used <= K && !needs_escape(&window[..used]));
        self.len += used.min(K);
        self
    }

    /// `v` in decimal.
    #[inline(always)]
    pub fn uint(&mut self, v: u64) -> &mut Self {
        self.window(|w: &mut [u8; 20]| decimal_in(w, v))
    }
}

/// Powers of ten that fit a `u64`.
const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Writes `v` in decimal at the start of `w` and says how many digits it
/// took: the digits counted first, then written eight at a time
/// ([`eight_digits`]), each group with one store (most numbers written
/// are small: one comparison for them).
#[inline]
fn decimal_in(w: &mut [u8; 20], v: u64) -> usize {
    if v < 10 {
        w[0] = b'0' + v as u8;
        return 1;
    }
    // Digits: log10 from the bit length (1233 / 4096 is just over
    // log10(2)), one too many when `v` is below that power of ten.
    let bits = 64 - v.leading_zeros() as usize;
    let t = (bits * 1233) >> 12;
    let n = t + 1 - usize::from(v < POW10[t]);
    // The leading group's zeros are shifted out (its first digit is in
    // the lowest byte); later groups are written over its surplus.
    let mut put = |at: usize, group: u64| w[at..at + 8].copy_from_slice(&group.to_le_bytes());
    match n {
        ..=8 => put(0, eight_digits(v) >> (8 * (8 - n))),
        9..=16 => {
            put(0, eight_digits(v / 100_000_000) >> (8 * (16 - n)));
            put(n - 8, eight_digits(v % 100_000_000));
        }
        _ => {
            let rest = v % 10_000_000_000_000_000;
            put(
                0,
                eight_digits(v / 10_000_000_000_000_000) >> (8 * (24 - n)),
            );
            put(n - 16, eight_digits(rest / 100_000_000));
            put(n - 8, eight_digits(rest % 100_000_000));
        }
    }
    n
}

/// The eight decimal digits of `x` (below 10^8, zeros in front) as ASCII,
/// the first in the lowest byte: split into halves of four digits, then
/// pairs, then digits, every part in its own lane of the word, each split
/// a multiplication and a shift (exact in these ranges: x / 100 as
/// x * 10486 >> 20 below 43,699; x / 10 as x * 103 >> 10 below 179).
#[inline]
fn eight_digits(x: u64) -> u64 {
    debug_assert!(x < 100_000_000);
    // Lanes of 32 bits: the first four digits, the last four.
    let v = (x / 10_000) | ((x % 10_000) << 32);
    // Lanes of 16 bits: each half's two pairs.
    let hundreds = ((v * 10_486) >> 20) & 0x0000_007f_0000_007f;
    let v = hundreds | ((v - hundreds * 100) << 16);
    // Lanes of 8 bits: each pair's two digits.
    let tens = ((v * 103) >> 10) & 0x000f_000f_000f_000f;
    let v = tens | ((v - tens * 10) << 8);
    v + 0x3030_3030_3030_3030
}

/// A `fmt::Write` appending to the buffer as it is (`Display` writes in
/// many small pieces; they are escaped together afterwards).
struct Bytes<'a>(&'a mut Vec<u8>);

impl fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Escapes `buf[start..]` in place: nothing to do unless it holds a byte
/// that needs escaping; else the buffer grows by what the escapes add and
/// the text is rewritten from its end, so nothing is copied aside.
fn escape_tail(buf: &mut Vec<u8>, start: usize) {
    let Some(first) = next_special(&buf[start..], 0).map(|i| start + i) else {
        return;
    };
    let added: usize = buf[first..]
        .iter()
        .filter(|&&b| needs_escape_byte(b))
        .map(|&b| escape_seq(b).1 - 1)
        .sum();
    let old_len = buf.len();
    buf.resize(old_len + added, 0);
    let mut w = buf.len();
    for r in (first..old_len).rev() {
        let b = buf[r];
        if needs_escape_byte(b) {
            let (seq, n) = escape_seq(b);
            w -= n;
            buf[w..w + n].copy_from_slice(&seq[..n]);
        } else {
            w -= 1;
            buf[w] = b;
        }
    }
    debug_assert_eq!(w, first);
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `w` that is zero. A flag above a real one
/// may be false (the borrow runs on), but the lowest flag is exact.
#[inline]
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// High bit set in the lowest byte of `w` that needs escaping (a control
/// byte, `"` or `\`), if any; higher flags may be false.
#[inline]
fn special_bytes(w: u64) -> u64 {
    // Bytes below 0x20: `w - 0x20` borrows out of them, and their high
    // bit was clear.
    let control = w.wrapping_sub(0x20 * ONES) & !w & HIGHS;
    control | zero_bytes(w ^ (b'"' as u64 * ONES)) | zero_bytes(w ^ (b'\\' as u64 * ONES))
}

/// Where the first byte needing escaping is, from `from` on.
#[inline]
fn next_special(s: &[u8], mut from: usize) -> Option<usize> {
    while let Some(chunk) = s.get(from..from + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let hits = special_bytes(w);
        if hits != 0 {
            return Some(from + (hits.trailing_zeros() / 8) as usize);
        }
        from += 8;
    }
    s[from..]
        .iter()
        .position(|&b| needs_escape_byte(b))
        .map(|i| from + i)
}

#[inline]
fn needs_escape_byte(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

fn needs_escape(s: &[u8]) -> bool {
    s.iter().any(|&b| needs_escape_byte(b))
}

/// Appends `s` escaped as a JSON string's content: clean runs are copied
/// whole, only the bytes that need it are rewritten.
fn escape_into(out: &mut Vec<u8>, s: &[u8]) {
    let mut start = 0;
    while let Some(i) = next_special(s, start) {
        out.extend_from_slice(&s[start..i]);
        escape_byte(out, s[i]);
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
}

fn escape_byte(out: &mut Vec<u8>, b: u8) {
    let (seq, n) = escape_seq(b);
    out.extend_from_slice(&seq[..n]);
}

/// The escape of a byte that needs one, and its length: `\"`, `\\`, the
/// short forms of five controls, else `\u00xx`.
fn escape_seq(b: u8) -> ([u8; 6], usize) {
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            let [hi, lo] = crate::hex::pair(b);
            return ([b'\\', b'u', b'0', b'0', hi, lo], 6);
        }
    };
    ([b'\\', short, 0, 0, 0, 0], 2)
}

/// Appends `v` in decimal (see [`decimal_in`]).
fn decimal_into(out: &mut Vec<u8>, v: u64) {
    if v < 10 {
        out.push(b'0' + v as u8);
        return;
    }
    let mut digits = [0u8; 20];
    let n = decimal_in(&mut digits, v);
    // A copy of a variable length: glibc's memcpy takes a few bytes in
    // fewer instructions than a fixed-size copy cut to length.
    out.extend_from_slice(&digits[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut v = Vec::new();
        JsonOut::new(&mut v).str(s);
        String::from_utf8(v).unwrap()
    }

    /// serde_json is the oracle: EVE must read as it did when it wrote it.
    fn serde(s: &str) -> String {
        serde_json::to_string(s).unwrap()
    }

    #[test]
    fn every_byte_escapes_as_serde_json_does() {
        for b in 0u8..0x80 {
            let s = (b as char).to_string();
            assert_eq!(escaped(&s), serde(&s), "byte {b:#04x}");
            // The same byte inside and at each position of a long run, so
            // both the 8-byte scan and the tail see it.
            for at in 0..19 {
                let mut long = "abcdefghijklmnopqrs".to_string();
                long.replace_range(at..at + 1, &s);
                assert_eq!(escaped(&long), serde(&long), "byte {b:#04x} at {at}");
            }
        }
    }

    #[test]
    fn escape_classes() {
        assert_eq!(escaped(""), r#""""#);
        assert_eq!(escaped("a\"b"), r#""a\"b""#);
        assert_eq!(escaped("a\\b"), r#""a\\b""#);
        assert_eq!(escaped("\u{8}\u{c}\n\r\t"), r#""\b\f\n\r\t""#);
        assert_eq!(escaped("\u{0}\u{1f}\u{1}"), r#""\u0000\u001f\u0001""#);
        assert_eq!(escaped("\u{1b}[0m"), r#""\u001b[0m""#);
        assert_eq!(escaped("\u{7f}"), "\"\u{7f}\"");
        assert_eq!(escaped("/"), r#""/""#);
    }

    #[test]
    fn non_ascii_is_verbatim() {
        for s in [
            "bücher.example",
            "пример.рф",
            "例え.テスト\n",
            "\u{fffd}\u{fffd}\"x\u{10ffff}",
            "ééééééééé\\ééé",
        ] {
            assert_eq!(escaped(s), serde(s));
        }
    }

    #[test]
    fn runs_of_specials_and_long_clean_text() {
        let s = "\"\"\\\\\n\n\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}x";
        assert_eq!(escaped(s), serde(s));
        let long = "GET /index.html?q=1&r=2 HTTP/1.1 Mozilla/5.0 (X11; Linux x86_64)".repeat(5);
        assert_eq!(escaped(&long), serde(&long));
        let mixed = format!("{long}\t{long}\"");
        assert_eq!(escaped(&mixed), serde(&mixed));
    }

    #[test]
    fn display_escapes_what_it_wrote() {
        let mut v = Vec::new();
        JsonOut::new(&mut v).display(format_args!("{}-{}", "a\"b", 7));
        assert_eq!(v, br#""a\"b-7""#);
        // Escapes first, last, in runs, past a long clean start; what the
        // buffer held before is left alone.
        for s in [
            "\"",
            "\n\u{1}x\\",
            "clean text of some length\t",
            "\u{0}\u{0}\u{0}ü\u{1f}end",
            "no escapes at all, ünïcödé",
            "",
        ] {
            let mut v = b"[\"\\\n".to_vec();
            let mut o = JsonOut::new(&mut v);
            o.display(s);
            o.display(format_args!("{s}{s}"));
            let want = format!("[\"\\\n{},{}", serde(s), serde(&format!("{s}{s}")));
            assert_eq!(String::from_utf8(v).unwrap(), want, "{s:?}");
        }
    }

    #[test]
    fn pieces_read_as_their_display() {
        use crate::classify::facts::{fmt_spelled, spell_all};
        /// Pieces written by `Display` (through `fmt`).
        struct Slow<'p>(&'p [Piece]);
        impl fmt::Display for Slow<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_spelled(f, |put| spell_all(put, self.0)).unwrap_or(Err(fmt::Error))
            }
        }
        // Every decimal boundary and every hex digit in each place.
        let mut numbers: Vec<u64> = vec![0, u64::MAX];
        for d in 1..20 {
            let p = 10u64.pow(d);
            numbers.extend([p - 1, p, p + 1]);
        }
        let hexes: Vec<u16> = (0..16u16)
            .flat_map(|d| [d, d << 4, d << 8, d << 12])
            .chain([0xffff, 0x1301, 0xc02b])
            .collect();
        for (i, &n) in numbers.iter().enumerate() {
            let h = hexes[i % hexes.len()];
            let pieces = [
                Piece::Text("a "),
                Piece::Decimal(n),
                Piece::Text(" 0x"),
                Piece::Hex4(h),
                Piece::Text("."),
                Piece::Decimal2(n),
                Piece::Decimal2(n % 100),
                Piece::Text(""),
            ];
            let mut fast = b"[".to_vec();
            let mut o = JsonOut::new(&mut fast);
            assert!(o.spelled(|put| spell_all(put, &pieces)));
            // Nothing spelled: nothing written, the next value placed as
            // after the first.
            assert!(!o.spelled(|_| false));
            o.uint(1);
            let mut slow = b"[".to_vec();
            JsonOut::new(&mut slow).display(Slow(&pieces)).uint(1);
            assert_eq!(fast, slow, "{n} {h:#x}");
            let hundredths = n % 100;
            assert_eq!(
                fast,
                format!("[\"a {n} 0x{h:04x}.{n:02}{hundredths:02}\",1").into_bytes()
            );
        }
    }

    #[test]
    fn integers() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            65_535,
            1_000_000_007,
            10_000,
            10_001,
            99_999,
            100_000_000,
            1_000_000_000_000,
            12_345_678_901_234,
            u64::from(u32::MAX),
            u64::MAX / 10,
            u64::MAX - 1,
            u64::MAX,
        ]
        .into_iter()
        // Each length's first and last value, after a buffer's contents.
        .chain((0..20).flat_map(|k| {
            let p = 10u64.pow(k);
            [p - 1, p, p + 1, p.saturating_mul(10) - 1]
        })) {
            let mut v = b"[".to_vec();
            JsonOut::new(&mut v).uint(n);
            assert_eq!(String::from_utf8(v).unwrap(), format!("[{n}"));
        }
        let mut v = Vec::new();
        JsonOut::new(&mut v).uint_str(47);
        assert_eq!(v, br#""47""#);
    }

    #[test]
    fn nesting_and_commas() {
        let mut v = Vec::new();
        let mut o = JsonOut::new(&mut v);
        o.begin_object();
        o.key("a").uint(1);
        o.key("e").begin_object().end_object();
        o.key("b").begin_array();
        o.begin_object().key("x").bool(true).end_object();
        o.begin_object().end_object();
        o.begin_array().end_array();
        o.str("s").uint(2).bool(false);
        o.end_array();
        o.key("c")
            .begin_object()
            .key("d")
            .raw_str("tls")
            .key("f")
            .str("")
            .end_object();
        o.key("g").begin_array().end_array();
        o.end_object();
        let want = serde_json::json!({
            "a": 1,
            "e": {},
            "b": [{"x": true}, {}, [], "s", 2, false],
            "c": {"d": "tls", "f": ""},
            "g": [],
        });
        let got: serde_json::Value = serde_json::from_slice(&v).unwrap();
        assert_eq!(got, want);
        assert_eq!(
            String::from_utf8(v).unwrap(),
            r#"{"a":1,"e":{},"b":[{"x":true},{},[],"s",2,false],"c":{"d":"tls","f":""},"g":[]}"#
        );
    }

    #[test]
    fn appends_to_what_the_buffer_holds() {
        let mut v = b"prev\n".to_vec();
        JsonOut::new(&mut v)
            .begin_object()
            .key("k")
            .str("v")
            .end_object();
        assert_eq!(v, b"prev\n{\"k\":\"v\"}");
    }

    /// Every decimal boundary, written by a run, by the writer and by the
    /// standard library: the same digits.
    #[test]
    fn numbers_read_as_std_writes_them() {
        let mut values: Vec<u64> = (0..=1_000).collect();
        for k in 1..20 {
            let p = 10u64.pow(k);
            values.extend([p - 1, p, p + 1, p * 5 + 7]);
        }
        values.extend([u64::MAX, u64::MAX - 1, 1 << 63, (1 << 32) - 1, 1 << 32]);
        // Every digit count, many digit patterns.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            values.push(seed >> (seed % 64));
        }
        for v in values {
            let mut w = [0u8; 20];
            let n = decimal_in(&mut w, v);
            assert_eq!(&w[..n], v.to_string().as_bytes(), "{v}");
            let mut out = Vec::new();
            decimal_into(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes(), "{v}");
            let mut out = Vec::new();
            JsonOut::new(&mut out).run::<64>(|r| {
                r.uint(v);
            });
            assert_eq!(out, v.to_string().as_bytes(), "{v}");
        }
    }

    /// The eight-digit split is exact over its whole range (every value
    /// below 10^8, against digits taken one division at a time).
    #[test]
    fn eight_digits_everywhere() {
        for x in 0..100_000_000u64 {
            let got = eight_digits(x);
            let mut want = 0u64;
            let mut rest = x;
            for i in (0..8).rev() {
                want |= (b'0' as u64 + rest % 10) << (8 * i);
                rest /= 10;
            }
            assert_eq!(got, want, "{x}");
        }
    }

    /// A run gives the line its pieces in order whatever its size: pieces
    /// that no longer fit send what is composed first, text longer than
    /// the run goes straight to the line; the writer puts the comma before
    /// a run that follows a sibling, and none before the first.
    #[test]
    fn runs_spill_in_order() {
        let long = "x".repeat(150);
        let mut want = String::from(r#"{"a":1"#);
        let mut v = Vec::new();
        let mut o = JsonOut::new(&mut v);
        o.begin_object().key("a").uint(1);
        o.run::<64>(|r| {
            r.text(b"\"n\":[");
            for i in 0..40u64 {
                if i > 0 {
                    r.text(b",");
                }
                r.uint(i * 1_000_003).text(b"");
            }
            r.text(b"],\"long\":\"").text(long.as_bytes()).text(b"\"");
            r.text(b",\"last\":").uint(u64::MAX);
        });
        o.key("b").bool(true);
        o.end_object();
        want.push_str(r#","n":["#);
        let list: Vec<String> = (0..40u64).map(|i| (i * 1_000_003).to_string()).collect();
        want.push_str(&list.join(","));
        want.push_str(&format!(r#"],"long":"{long}","last":{}"#, u64::MAX));
        want.push_str(r#","b":true}"#);
        assert_eq!(String::from_utf8(v).unwrap(), want);

        let mut v = Vec::new();
        JsonOut::new(&mut v).begin_object().run::<64>(|r| {
            r.text(b"\"first\":").uint(7);
        });
        assert_eq!(v, br#"{"first":7"#);
    }
}
