//! The hot path's trade scanner: LS sends every S3_/K3_ frame as one flat shape,
//! `{"header":{"tr_cd":…,"tr_key":…},"body":{"k":"v",…}}`, all values plain strings.
//! This reads exactly that shape in one pass, borrowing the eight fields a tick needs.
//!
//! Owns no rules of its own: anything outside that narrow shape (an escape, a number, a
//! repeated or missing field, another header key, any doubt at all) returns `None` and
//! the frame goes to the serde decoder, which decides. So wherever the scanner answers,
//! it must answer exactly as serde would; the property test `check_incoming` in
//! `tests/support/wire_corpus.rs` compares the two on every input it generates.

use std::borrow::Cow;

use super::{trade_market, TradeFields};
use crate::market::Market;

/// The trade in `text`, if it has the plain shape; `None` means "ask serde".
pub(super) fn scan_trade(text: &str) -> Option<(Market, TradeFields<'_>)> {
    let mut s = Scanner {
        b: text.as_bytes(),
        text,
        at: 0,
    };
    s.byte(b'{')?;
    if s.string()? != "header" {
        return None;
    }
    s.byte(b':')?;
    let market = s.header()?;
    s.byte(b',')?;
    if s.string()? != "body" {
        return None;
    }
    s.byte(b':')?;
    let fields = s.body()?;
    s.byte(b'}')?;
    s.ws();
    (s.at == s.b.len()).then_some((market, fields))
}

struct Scanner<'a> {
    b: &'a [u8],
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    /// Skips JSON whitespace (what serde_json skips between tokens).
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.b.get(self.at) {
            self.at += 1;
        }
    }

    /// Whitespace, then exactly `want`.
    fn byte(&mut self, want: u8) -> Option<()> {
        self.ws();
        (*self.b.get(self.at)? == want).then(|| self.at += 1)
    }

    /// Whitespace, then a string with no escape and no control character (serde refuses
    /// those raw); the text between the quotes.
    fn string(&mut self) -> Option<&'a str> {
        self.byte(b'"')?;
        let start = self.at;
        loop {
            match *self.b.get(self.at)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => self.at += 1,
            }
        }
        // Both ends are ASCII quotes, so the slice is on char boundaries.
        let s = self.text.get(start..self.at)?;
        self.at += 1;
        Some(s)
    }

    /// Calls `each(key, value)` for every member of a flat object of strings; `each`
    /// refuses a member with `None`.
    fn object(&mut self, mut each: impl FnMut(&'a str, &'a str) -> Option<()>) -> Option<()> {
        self.byte(b'{')?;
        self.ws();
        if self.b.get(self.at) == Some(&b'}') {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.byte(b':')?;
            let value = self.string()?;
            each(key, value)?;
            self.ws();
            match *self.b.get(self.at)? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The header of a trade: `tr_cd` S3_ or K3_, optionally `tr_key`, nothing else.
    fn header(&mut self) -> Option<Market> {
        let (mut tr_cd, mut tr_key) = (None, false);
        self.object(|key, value| match key {
            "tr_cd" if tr_cd.is_none() => {
                tr_cd = Some(value);
                Some(())
            }
            "tr_key" if !tr_key => {
                tr_key = true;
                Some(())
            }
            _ => None,
        })?;
        trade_market(tr_cd?)
    }

    /// The eight fields; other members are skipped as serde skips them. A repeated field
    /// is serde's error, so it is left to serde.
    fn body(&mut self) -> Option<TradeFields<'a>> {
        let mut f: [Option<&'a str>; 8] = [None; 8];
        self.object(|key, value| {
            let slot = match key {
                "shcode" => 0,
                "price" => 1,
                "chetime" => 2,
                "sign" => 3,
                "change" => 4,
                "cgubun" => 5,
                "cvolume" => 6,
                "volume" => 7,
                _ => return Some(()),
            };
            match f[slot] {
                Some(_) => None,
                None => {
                    f[slot] = Some(value);
                    Some(())
                }
            }
        })?;
        let [shcode, price, chetime, sign, change, cgubun, cvolume, volume] = f;
        Some(TradeFields {
            shcode: Cow::Borrowed(shcode?),
            price: Cow::Borrowed(price?),
            chetime: Cow::Borrowed(chetime?),
            sign: Cow::Borrowed(sign?),
            change: Cow::Borrowed(change.unwrap_or_default()),
            cgubun: Cow::Borrowed(cgubun.unwrap_or_default()),
            cvolume: Cow::Borrowed(cvolume?),
            volume: Cow::Borrowed(volume?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::realtime::{decode_incoming, Incoming};

    const S3: &str = r#"{"header":{"tr_cd":"S3_","tr_key":"005930"},"body":{"chetime":"090851","sign":"2","change":"1050","drate":"1.93","price":"55550","opentime":"090030","open":"55600","cgubun":"+","cvolume":"1","volume":"10887","shcode":"005930","exchname":"KRX"}}"#;

    /// What the serde path of `decode_incoming` makes of `text`: the trade, or `None`
    /// for another frame or an error.
    fn serde_trade(text: &str) -> Option<(Market, TradeFields<'_>)> {
        match super::super::decode::<TradeFields<'_>>(text) {
            Ok(super::super::Decoded::Trade { market, body }) => Some((market, body)),
            _ => None,
        }
    }

    #[test]
    fn the_plain_shape_is_scanned_with_every_field_borrowed() {
        let (market, f) = scan_trade(S3).expect("the plain shape");
        assert_eq!(market, Market::Kospi);
        assert_eq!(f.shcode, "005930");
        assert_eq!(f.price, "55550");
        assert_eq!(f.chetime, "090851");
        assert_eq!(f.sign, "2");
        assert_eq!(f.change, "1050");
        assert_eq!(f.cgubun, "+");
        assert_eq!(f.cvolume, "1");
        assert_eq!(f.volume, "10887");
        assert!(matches!(f.price, Cow::Borrowed(_)));
        let k3 = S3.replace("S3_", "K3_");
        assert_eq!(scan_trade(&k3).unwrap().0, Market::Kosdaq);
    }

    #[test]
    fn whitespace_and_optional_fields_read_as_serde_reads_them() {
        let spaced = " {\n \"header\" : { \"tr_cd\" : \"S3_\" } ,\r\n\t\"body\":{ \"shcode\":\"005930\", \"price\":\"1\", \"chetime\":\"090000\", \"sign\":\"3\", \"cvolume\":\"2\", \"volume\":\"3\" } } \n";
        let (market, f) = scan_trade(spaced).expect("whitespace is allowed");
        assert_eq!(Some((market, f.clone())), serde_trade(spaced));
        // `change` and `cgubun` default to empty, as in serde.
        assert_eq!((f.change.as_ref(), f.cgubun.as_ref()), ("", ""));
    }

    /// Each of these is outside the plain shape: the scanner declines, and what the
    /// engine gets is serde's answer (a trade or an error), the same as before.
    #[test]
    fn anything_outside_the_plain_shape_is_left_to_serde() {
        let cases = [
            S3.replace(r#""price":"55550""#, r#""price":"55550","price":"1""#), // repeated
            S3.replace(r#""drate":"1.93""#, r#""drate":1.93"#), // a number, even unread
            S3.replace(r#""exchname":"KRX""#, r#""exchname":"K\"RX""#), // an escape
            S3.replace(r#""shcode":"005930","#, ""),                 // missing required
            S3.replace(r#""tr_key":"005930""#, r#""tr_key":"005930","rsp_cd":"00000""#),
            S3.replace(r#""tr_key":"005930""#, r#""tr_key":null"#),
            S3.replace("S3_", "H1_"),
            format!("{S3}x"),
            format!("{S3}{{}}"),
            S3.trim_end_matches('}').to_owned(),
            r#"{"body":{"shcode":"005930","price":"1","chetime":"090000","sign":"3","cvolume":"2","volume":"3"},"header":{"tr_cd":"S3_"}}"#.to_owned(),
            S3.replace(r#""header""#, r#""extra":"1","header""#),
            S3.replace('\u{7b}', "{ ").replace("KRX", "K\u{1}X"),
        ];
        for text in &cases {
            assert!(scan_trade(text).is_none(), "scanned: {text}");
            let incoming = decode_incoming(text);
            let serde = super::super::decode::<TradeFields<'_>>(text);
            assert_eq!(incoming.is_ok(), serde.is_ok(), "{text}");
            if let Ok(Incoming::Trade { market, fields }) = incoming {
                assert_eq!(Some((market, fields)), serde_trade(text), "{text}");
            }
        }
        // The unread number is still a trade to the engine (serde skips it too).
        assert!(matches!(
            decode_incoming(&cases[1]),
            Ok(Incoming::Trade { .. })
        ));
    }

    #[test]
    fn a_non_ascii_value_is_borrowed_whole() {
        let text = S3.replace(r#""exchname":"KRX""#, r#""hname":"삼성전자""#);
        let (_, f) = scan_trade(&text).expect("UTF-8 in an unread value");
        assert_eq!(Some((Market::Kospi, f)), serde_trade(&text));
    }
}
