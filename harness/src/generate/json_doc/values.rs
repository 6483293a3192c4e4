//! Any JSON-ish value: [`Value`].
//!
//! Promises: a value is a literal, a number, a string, an array or object
//! of further values (each with its own whitespace and punctuation), or a
//! [`Value::Nest`] of up to [`MAX_DEPTH`] arrays or objects rendered
//! without recursion. Reading stops nesting at the reader's depth limit
//! (`crate::input::MAX_LEVEL`), so no input recurses deeply, and rendering
//! stops once the text is past 1 MiB, where only its size matters.
//!
//! Does not promise: deeper nesting than [`MAX_DEPTH`]: the replay tests
//! cover that with hand-written files, as it is too slow to fuzz.

use lifecycle_model::spec::MAX_FILE_BYTES;

use super::containers::render_container;
use super::{Lit, Num, Punct, RenderedMember, Str, Ws};
use crate::input::{Reader, Shape, Writer};

/// Any JSON-ish value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Lit(Lit),
    Num(Num),
    Str(Str),
    Array {
        ws: Ws,
        punct: Punct,
        items: Vec<Value>,
    },
    Object {
        ws: Ws,
        punct: Punct,
        members: Vec<(Str, Value)>,
    },
    /// `depth` nested arrays (`[[…]]`) or objects (`{"a":{"a":…}}`)
    /// around `inner`, rendered without recursion (and cut short past
    /// 1 MiB, where only the size matters).
    Nest {
        object: bool,
        depth: u32,
        inner: Box<Value>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueTag {
    Lit,
    Num,
    Str,
    Array,
    Object,
    Nest,
}

const VALUE_TAGS: [(u8, ValueTag); 6] = [
    (2, ValueTag::Lit),
    (3, ValueTag::Num),
    (3, ValueTag::Str),
    (2, ValueTag::Array),
    (2, ValueTag::Object),
    (1, ValueTag::Nest),
];

/// Nesting is `selector % SHALLOW` levels deep, or up to [`MAX_DEPTH`]
/// when the selector is [`DEEP`]: rare and bounded, because a deeply nested
/// document costs milliseconds to decode and would slow every run that
/// mutates it. (The replay test covers half a million nested arrays and
/// 100,000 nested objects.)
const SHALLOW: u32 = 200;
const DEEP: u8 = 255;
pub const MAX_DEPTH: u16 = 4095;

/// Appends `piece` `n` times, stopping once the text is over 1 MiB: past
/// that, every reader rejects it for its size alone (SPEC §1.6.1), so the
/// rest cannot matter and is not worth the time.
fn repeat(out: &mut Vec<u8>, piece: &[u8], n: usize) {
    let room = (MAX_FILE_BYTES + 1).saturating_sub(out.len());
    let n = n.min(room.div_ceil(piece.len()));
    out.reserve(n * piece.len());
    (0..n).for_each(|_| out.extend_from_slice(piece));
}

impl Value {
    fn tag(&self) -> ValueTag {
        match self {
            Value::Lit(_) => ValueTag::Lit,
            Value::Num(_) => ValueTag::Num,
            Value::Str(_) => ValueTag::Str,
            Value::Array { .. } => ValueTag::Array,
            Value::Object { .. } => ValueTag::Object,
            Value::Nest { .. } => ValueTag::Nest,
        }
    }

    pub fn render(&self, out: &mut Vec<u8>) {
        match self {
            Value::Lit(lit) => out.extend_from_slice(lit.text().as_bytes()),
            Value::Num(num) => num.render(out),
            Value::Str(s) => s.render(out),
            Value::Array { ws, punct, items } => {
                let items: Vec<RenderedMember> =
                    items.iter().map(|v| (Vec::new(), v.to_bytes())).collect();
                render_container(out, false, *ws, *punct, &items);
            }
            Value::Object { ws, punct, members } => {
                let members: Vec<RenderedMember> = members
                    .iter()
                    .map(|(name, value)| (name.to_bytes(), value.to_bytes()))
                    .collect();
                render_container(out, true, *ws, *punct, &members);
            }
            Value::Nest {
                object,
                depth,
                inner,
            } => {
                let (open, close): (&[u8], &[u8]) = if *object {
                    (b"{\"a\":", b"}")
                } else {
                    (b"[", b"]")
                };
                let depth = *depth as usize;
                repeat(out, open, depth);
                if out.len() <= MAX_FILE_BYTES {
                    inner.render(out);
                }
                repeat(out, close, depth);
            }
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.render(&mut out);
        out
    }
}

impl Shape for Value {
    fn read(r: &mut Reader<'_>) -> Self {
        let tag = r.pick_weighted(&VALUE_TAGS);
        let container = matches!(tag, ValueTag::Array | ValueTag::Object | ValueTag::Nest);
        if container && r.is_deep() {
            return Value::Lit(Lit::Null);
        }
        match tag {
            ValueTag::Lit => Value::Lit(r.read()),
            ValueTag::Num => Value::Num(r.read()),
            ValueTag::Str => Value::Str(r.read()),
            ValueTag::Array => r.nested(|r| Value::Array {
                ws: r.read(),
                punct: r.read(),
                items: r.list(5),
            }),
            ValueTag::Object => r.nested(|r| Value::Object {
                ws: r.read(),
                punct: r.read(),
                members: r.list(5),
            }),
            ValueTag::Nest => r.nested(|r| {
                let object = r.flag();
                let selector = r.byte();
                let depth = if selector == DEEP {
                    u32::from(r.u16() & MAX_DEPTH)
                } else {
                    u32::from(selector) % SHALLOW
                };
                Value::Nest {
                    object,
                    depth,
                    inner: r.read(),
                }
            }),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.pick_weighted(&VALUE_TAGS, &self.tag());
        match self {
            Value::Lit(lit) => w.write(lit),
            Value::Num(num) => w.write(num),
            Value::Str(s) => w.write(s),
            Value::Array { ws, punct, items } => {
                w.write(ws);
                w.write(punct);
                w.list(items, 5);
            }
            Value::Object { ws, punct, members } => {
                w.write(ws);
                w.write(punct);
                w.list(members, 5);
            }
            Value::Nest {
                object,
                depth,
                inner,
            } => {
                w.flag(*object);
                if *depth < SHALLOW {
                    w.byte(*depth as u8);
                } else {
                    let depth = u16::try_from(*depth)
                        .ok()
                        .filter(|d| *d <= MAX_DEPTH)
                        .unwrap_or_else(|| panic!("a nest is at most {MAX_DEPTH} deep"));
                    w.byte(DEEP);
                    w.u16(depth);
                }
                w.write(inner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::json_doc::Lit;

    #[test]
    fn a_repeat_stops_once_the_text_is_past_a_mebibyte() {
        let mut out = b"[".to_vec();
        repeat(&mut out, b"[", usize::MAX);
        assert_eq!(out.len(), MAX_FILE_BYTES + 1);
        let mut out = Vec::new();
        repeat(&mut out, b"ab", 3);
        assert_eq!(out, b"ababab");
    }

    #[test]
    fn a_nest_reads_back_at_every_depth_either_side_of_shallow() {
        for depth in [0, SHALLOW - 1, SHALLOW, SHALLOW + 1, u32::from(MAX_DEPTH)] {
            for object in [false, true] {
                let nest = Value::Nest {
                    object,
                    depth,
                    inner: Box::new(Value::Lit(Lit::Null)),
                };
                let written = Shape::to_bytes(&nest);
                assert_eq!(Value::from_bytes(&written), nest, "{depth}");
            }
        }
    }
}
