//! How arrays and objects are punctuated: [`Punct`] and the one renderer
//! of both.
//!
//! Promises: `render_container` writes `[a,b]` or `{"a":1}` from rendered
//! items, with the given [`Ws`] around every token and at most one
//! punctuation mistake (a trailing, leading, double or missing comma, a
//! missing or `=` colon, a single-quoted name, an unclosed, doubled or
//! wrong bracket, a comment), put at the first place it fits; proper
//! punctuation is the likely [`Punct`].
//!
//! Does not promise: that the mistake shows; a missing comma in a container
//! of one item, or a single-quoted name in an empty object, leaves it
//! proper.

use super::Ws;
use crate::input::{Reader, Shape, Writer};

/// How a container is punctuated: properly, or with one mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Punct {
    Proper,
    TrailingComma,
    LeadingComma,
    DoubleComma,
    MissingComma,
    MissingColon,
    EqualsForColon,
    SingleQuotedName,
    Unclosed,
    ExtraClose,
    WrongClose,
    Comment,
}

const PUNCTS: [(u8, Punct); 12] = [
    (20, Punct::Proper),
    (1, Punct::TrailingComma),
    (1, Punct::LeadingComma),
    (1, Punct::DoubleComma),
    (1, Punct::MissingComma),
    (1, Punct::MissingColon),
    (1, Punct::EqualsForColon),
    (1, Punct::SingleQuotedName),
    (1, Punct::Unclosed),
    (1, Punct::ExtraClose),
    (1, Punct::WrongClose),
    (1, Punct::Comment),
];

impl Shape for Punct {
    fn read(r: &mut Reader<'_>) -> Self {
        r.pick_weighted(&PUNCTS)
    }
    fn write(&self, w: &mut Writer) {
        w.pick_weighted(&PUNCTS, self);
    }
}

/// One object member, rendered: the name literal and the value text.
pub type RenderedMember = (Vec<u8>, Vec<u8>);

/// Renders `[a,b]` or `{"a":1}` with `ws` around every token and `punct`'s
/// one mistake (if any) at the first place it fits.
pub(super) fn render_container(
    out: &mut Vec<u8>,
    object: bool,
    ws: Ws,
    punct: Punct,
    items: &[RenderedMember],
) {
    let (open, close, wrong) = if object {
        (b'{', b'}', b']')
    } else {
        (b'[', b']', b'}')
    };
    let ws = ws.bytes();
    out.push(open);
    out.extend_from_slice(ws);
    if punct == Punct::LeadingComma {
        out.push(b',');
    }
    for (i, (name, value)) in items.iter().enumerate() {
        if i > 0 {
            match punct {
                Punct::MissingComma if i == 1 => {}
                Punct::DoubleComma if i == 1 => out.extend_from_slice(b",,"),
                _ => out.push(b','),
            }
            out.extend_from_slice(ws);
        }
        if object {
            let first = i == 0;
            match punct {
                Punct::SingleQuotedName if first && name.len() >= 2 => {
                    out.push(b'\'');
                    out.extend_from_slice(&name[1..name.len() - 1]);
                    out.push(b'\'');
                }
                _ => out.extend_from_slice(name),
            }
            out.extend_from_slice(ws);
            match punct {
                Punct::MissingColon if first => {}
                Punct::EqualsForColon if first => out.push(b'='),
                _ => out.push(b':'),
            }
            out.extend_from_slice(ws);
        }
        out.extend_from_slice(value);
        out.extend_from_slice(ws);
    }
    match punct {
        Punct::TrailingComma => out.push(b','),
        Punct::Comment => out.extend_from_slice(b"/* c */"),
        _ => {}
    }
    match punct {
        Punct::Unclosed => {}
        Punct::ExtraClose => out.extend_from_slice(&[close, close]),
        Punct::WrongClose => out.push(wrong),
        _ => out.push(close),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(object: bool, ws: Ws, punct: Punct) -> String {
        let items: Vec<RenderedMember> = vec![
            (b"\"a\"".to_vec(), b"1".to_vec()),
            (b"\"b\"".to_vec(), b"2".to_vec()),
        ];
        let mut out = Vec::new();
        render_container(&mut out, object, ws, punct, &items);
        String::from_utf8(out).expect("ASCII")
    }

    #[test]
    fn each_punctuation_mistake_is_made_once_at_the_first_place_it_fits() {
        for (punct, object) in [
            (Punct::Proper, r#"{"a":1,"b":2}"#),
            (Punct::TrailingComma, r#"{"a":1,"b":2,}"#),
            (Punct::LeadingComma, r#"{,"a":1,"b":2}"#),
            (Punct::DoubleComma, r#"{"a":1,,"b":2}"#),
            (Punct::MissingComma, r#"{"a":1"b":2}"#),
            (Punct::MissingColon, r#"{"a"1,"b":2}"#),
            (Punct::EqualsForColon, r#"{"a"=1,"b":2}"#),
            (Punct::SingleQuotedName, r#"{'a':1,"b":2}"#),
            (Punct::Unclosed, r#"{"a":1,"b":2"#),
            (Punct::ExtraClose, r#"{"a":1,"b":2}}"#),
            (Punct::WrongClose, r#"{"a":1,"b":2]"#),
            (Punct::Comment, r#"{"a":1,"b":2/* c */}"#),
        ] {
            assert_eq!(rendered(true, Ws::None, punct), object, "{punct:?}");
        }
        assert_eq!(rendered(false, Ws::None, Punct::ExtraClose), "[1,2]]");
        let three: Vec<RenderedMember> = (1..=3).map(|n| (Vec::new(), vec![b'0' + n])).collect();
        for (punct, array) in [
            (Punct::MissingComma, "[12,3]"),
            (Punct::DoubleComma, "[1,,2,3]"),
        ] {
            let mut out = Vec::new();
            render_container(&mut out, false, Ws::None, punct, &three);
            assert_eq!(String::from_utf8(out).expect("ASCII"), array);
        }
        assert_eq!(rendered(false, Ws::Space, Punct::Proper), "[ 1 , 2 ]");
    }
}
