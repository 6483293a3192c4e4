//! How fuzz bytes become structured inputs, and back.
//!
//! Promises: every structured input type implements [`Shape`]: [`Shape::read`]
//! turns *any* byte string into a value (bytes past the end read as zero, so
//! a short input is a small value, never an error), and [`Shape::write`] is
//! its inverse for the values `read` produces: `read(write(x)) == x`. That
//! inverse is what lets the hand-made seeds (the fuzz crate's `seeds`
//! module, `fuzz/src/seeds.rs`) be written as readable Rust values instead
//! of opaque bytes; `fuzz/tests/seeds.rs` checks it.
//!
//! Each choice is one byte (or a fixed number of bytes), read front to back
//! through [`arbitrary::Unstructured`]; that keeps the format simple enough
//! to invert, and libFuzzer's byte-level mutations map to local changes of
//! the structure. A weighted choice is a table of `(weight, value)` pairs
//! read exactly as the table repeating each value `weight` times would be
//! ([`Reader::pick_weighted`]), so a table's weights read at a glance while
//! the committed seeds keep their meaning.
//!
//! Does not promise: that `write(read(bytes)) == bytes` (many byte strings
//! read to one value), nor stability of the format across versions of this
//! crate (the seeds are regenerated when it changes).

use arbitrary::{Arbitrary, Unstructured};

/// A structured input that can be read from fuzz bytes and written back.
pub trait Shape: Sized {
    fn read(r: &mut Reader<'_>) -> Self;
    fn write(&self, w: &mut Writer);

    /// The value `data` reads as.
    fn from_bytes(data: &[u8]) -> Self {
        Self::read(&mut Reader::new(data))
    }

    /// Bytes that read back as this value.
    fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        self.write(&mut w);
        w.into_bytes()
    }
}

/// Nesting depth past which recursive shapes read only leaves: keeps the
/// reader (and `Drop` of what it built) off deep recursion on any input.
pub const MAX_LEVEL: u32 = 24;

/// Reads choices from fuzz bytes.
pub struct Reader<'a> {
    u: Unstructured<'a>,
    /// How many recursive shapes enclose the one being read.
    pub level: u32,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader {
            u: Unstructured::new(data),
            level: 0,
        }
    }

    /// The next byte; 0 once the input is used up.
    pub fn byte(&mut self) -> u8 {
        // `u8::arbitrary` pads with zeros at the end: it cannot fail.
        u8::arbitrary(&mut self.u).unwrap_or(0)
    }

    pub fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A number in `0..n` (`n` at most 256).
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!((1..=256).contains(&n));
        usize::from(self.byte()) % n
    }

    /// `table[b % len]`: every entry as likely ([`Reader::pick_weighted`]
    /// weighs them).
    pub fn pick<T: Copy>(&mut self, table: &[T]) -> T {
        table[self.below(table.len())]
    }

    /// A value of `table`, as likely as its weight: byte `b` reads as
    /// [`weighted`]`(table, b)`, the entry `b % total` of the table with each
    /// value repeated `weight` times, as [`Reader::pick`] reads that table.
    pub fn pick_weighted<T: Copy>(&mut self, table: &[(u8, T)]) -> T {
        weighted(table, self.below(total_weight(table)))
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    pub fn u32(&mut self) -> u32 {
        let mut b = [0; 4];
        b.iter_mut().for_each(|x| *x = self.byte());
        u32::from_le_bytes(b)
    }

    pub fn u64(&mut self) -> u64 {
        let mut b = [0; 8];
        b.iter_mut().for_each(|x| *x = self.byte());
        u64::from_le_bytes(b)
    }

    /// At most `max` values (`max` below 256), count first.
    pub fn list<T: Shape>(&mut self, max: usize) -> Vec<T> {
        let n = self.below(max + 1);
        (0..n).map(|_| T::read(self)).collect()
    }

    pub fn option<T: Shape>(&mut self) -> Option<T> {
        self.flag().then(|| T::read(self))
    }

    pub fn read<T: Shape>(&mut self) -> T {
        T::read(self)
    }

    /// Reads a nested shape one level deeper.
    pub fn nested<T>(&mut self, read: impl FnOnce(&mut Self) -> T) -> T {
        self.level += 1;
        let value = read(self);
        self.level -= 1;
        value
    }

    pub fn is_deep(&self) -> bool {
        self.level >= MAX_LEVEL
    }
}

/// Writes choices so that [`Reader`] reads them back.
#[derive(Default)]
pub struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn byte(&mut self, b: u8) {
        self.bytes.push(b);
    }

    pub fn flag(&mut self, f: bool) {
        self.byte(u8::from(f));
    }

    /// Writes `value` for a [`Reader::below`]`(n)`.
    pub fn below(&mut self, value: usize, n: usize) {
        assert!(value < n && n <= 256, "{value} is not below {n}");
        self.byte(value as u8);
    }

    /// Writes the first index of `value` in `table` for a [`Reader::pick`].
    pub fn pick<T: PartialEq + std::fmt::Debug>(&mut self, table: &[T], value: &T) {
        let index = table
            .iter()
            .position(|t| t == value)
            .unwrap_or_else(|| panic!("{value:?} is not in its table"));
        self.below(index, table.len());
    }

    /// Writes the first index of `value` in the expansion of `table` for a
    /// [`Reader::pick_weighted`] (the byte [`Writer::pick`] writes for the
    /// expanded table).
    pub fn pick_weighted<T: PartialEq + std::fmt::Debug>(&mut self, table: &[(u8, T)], value: &T) {
        let index =
            weighted_index(table, value).unwrap_or_else(|| panic!("{value:?} is not in its table"));
        self.below(index, total_weight(table));
    }

    pub fn u16(&mut self, v: u16) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn list<T: Shape>(&mut self, items: &[T], max: usize) {
        self.below(items.len(), max + 1);
        items.iter().for_each(|item| item.write(self));
    }

    pub fn option<T: Shape>(&mut self, value: &Option<T>) {
        self.flag(value.is_some());
        if let Some(v) = value {
            v.write(self);
        }
    }

    pub fn write<T: Shape>(&mut self, value: &T) {
        value.write(self);
    }
}

/// The sum of the weights of `table`: how many entries its expansion has.
pub fn total_weight<T>(table: &[(u8, T)]) -> usize {
    table.iter().map(|(weight, _)| usize::from(*weight)).sum()
}

/// Entry `index % total` of `table` expanded, each value repeated `weight`
/// times in a row. A table of pairs reads exactly as its expansion would,
/// so a table can be written either way without changing what any
/// committed input means.
pub fn weighted<T: Copy>(table: &[(u8, T)], index: usize) -> T {
    let mut rest = index % total_weight(table);
    for &(weight, value) in table {
        let weight = usize::from(weight);
        if rest < weight {
            return value;
        }
        rest -= weight;
    }
    unreachable!("an index below the total weight falls in some entry")
}

/// The first index of `value` in the expansion of `table` (an entry of
/// weight 0 has none).
pub fn weighted_index<T: PartialEq>(table: &[(u8, T)], value: &T) -> Option<usize> {
    let mut start = 0;
    for (weight, v) in table {
        if *weight > 0 && v == value {
            return Some(start);
        }
        start += usize::from(*weight);
    }
    None
}

impl Shape for bool {
    fn read(r: &mut Reader<'_>) -> Self {
        r.flag()
    }
    fn write(&self, w: &mut Writer) {
        w.flag(*self);
    }
}

impl Shape for u8 {
    fn read(r: &mut Reader<'_>) -> Self {
        r.byte()
    }
    fn write(&self, w: &mut Writer) {
        w.byte(*self);
    }
}

impl<A: Shape, B: Shape> Shape for (A, B) {
    fn read(r: &mut Reader<'_>) -> Self {
        let a = A::read(r);
        (a, B::read(r))
    }
    fn write(&self, w: &mut Writer) {
        self.0.write(w);
        self.1.write(w);
    }
}

impl<T: Shape> Shape for Box<T> {
    fn read(r: &mut Reader<'_>) -> Self {
        Box::new(T::read(r))
    }
    fn write(&self, w: &mut Writer) {
        (**self).write(w);
    }
}

impl<T: Shape> Shape for Option<T> {
    fn read(r: &mut Reader<'_>) -> Self {
        r.option()
    }
    fn write(&self, w: &mut Writer) {
        w.option(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value twice, apart, as a table that grew at its end has it.
    const TABLE: [(u8, char); 4] = [(3, 'a'), (1, 'b'), (2, 'c'), (1, 'a')];

    fn expansion(table: &[(u8, char)]) -> Vec<char> {
        table
            .iter()
            .flat_map(|(weight, value)| std::iter::repeat_n(*value, usize::from(*weight)))
            .collect()
    }

    #[test]
    fn a_weighted_table_reads_byte_b_as_entry_b_mod_total_of_its_expansion() {
        let expanded = expansion(&TABLE);
        assert_eq!(expanded.len(), total_weight(&TABLE));
        for b in 0..=u8::MAX {
            let value = Reader::new(&[b]).pick_weighted(&TABLE);
            assert_eq!(value, expanded[usize::from(b) % expanded.len()], "byte {b}");
            assert_eq!(value, Reader::new(&[b]).pick(&expanded), "byte {b}");
        }
    }

    #[test]
    fn a_weighted_value_is_written_as_its_expansion_writes_it_and_reads_back() {
        for value in expansion(&TABLE) {
            let mut w = Writer::default();
            w.pick_weighted(&TABLE, &value);
            let bytes = w.into_bytes();
            let mut expanded = Writer::default();
            expanded.pick(&expansion(&TABLE), &value);
            assert_eq!(bytes, expanded.into_bytes(), "{value}");
            assert_eq!(Reader::new(&bytes).pick_weighted(&TABLE), value);
        }
    }

    #[test]
    fn bytes_pairs_boxes_and_options_read_back_as_written() {
        type Shaped = (u8, (Box<u8>, Option<u8>));
        for value in [(0, (Box::new(255), Some(7))), (200, (Box::new(1), None))] {
            let mut w = Writer::default();
            w.write(&value);
            let bytes = w.into_bytes();
            assert_eq!(Reader::new(&bytes).read::<Shaped>(), value);
        }
    }

    #[test]
    fn a_list_of_the_most_values_allowed_reads_back_whole() {
        let mut w = Writer::default();
        w.list(&[true, false, true, true, false], 5);
        let bytes = w.into_bytes();
        let read: Vec<bool> = Reader::new(&bytes).list(5);
        assert_eq!(read, [true, false, true, true, false]);
    }

    #[test]
    fn a_nested_read_leaves_the_level_where_it_was() {
        let mut r = Reader::new(&[]);
        for _ in 0..=MAX_LEVEL {
            r.nested(|r| assert_eq!(r.level, 1));
        }
        assert_eq!(r.level, 0);
        assert!(!r.is_deep());
    }

    #[test]
    fn a_reader_is_deep_from_the_most_levels_allowed() {
        fn deep_at(r: &mut Reader<'_>, levels: u32) -> bool {
            if levels == 0 {
                r.is_deep()
            } else {
                r.nested(|r| deep_at(r, levels - 1))
            }
        }
        let mut r = Reader::new(&[]);
        assert!(!deep_at(&mut r, MAX_LEVEL - 1));
        assert!(deep_at(&mut r, MAX_LEVEL));
    }
}
