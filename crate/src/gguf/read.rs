//! The byte cursor under `Gguf::parse`: little-endian numbers, length-prefixed strings and typed values, each
//! checked against the bytes that remain, with the offset and what was being read in every error.

use super::value::Value;
use crate::error::Error;

/// Arrays of arrays nest at most this deep (llama.cpp writes one level).
const MAX_DEPTH: usize = 2;

pub struct Cursor<'a> {
    file: &'a str,
    bytes: &'a [u8],
    at: usize,
    /// What the values read so far may still take in memory: the file's size, so that no file makes this reader
    /// hold more than itself (a byte array's items are `Value`s, 32 bytes each).
    budget: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(file: &'a str, bytes: &'a [u8]) -> Self {
        Self { file, bytes, at: 0, budget: bytes.len() }
    }

    pub fn position(&self) -> usize {
        self.at
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn error(&self, what: &str, why: impl std::fmt::Display) -> Error {
        Error::invalid(self.file, format!("at byte {}: {what}: {why}", self.at))
    }

    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Error> {
        if n > self.remaining() {
            return Err(self.error(what, format!("needs {n} bytes, {} left (file truncated?)", self.remaining())));
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Error> {
        Ok(self.take(N, what)?.try_into().expect("N bytes"))
    }

    pub fn u32(&mut self, what: &str) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub fn u64(&mut self, what: &str) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// A count of items each at least `min_size` bytes long: no more than the remaining bytes can hold.
    pub fn count(&mut self, what: &str, min_size: usize) -> Result<usize, Error> {
        let n = self.u64(what)?;
        if n > (self.remaining() / min_size.max(1)) as u64 {
            return Err(self.error(what, format!("{n} cannot fit in the {} bytes that remain", self.remaining())));
        }
        Ok(n as usize)
    }

    fn spend(&mut self, n: usize, what: &str) -> Result<(), Error> {
        self.budget = self.budget.checked_sub(n).ok_or_else(|| {
            self.error(what, format!("would take more memory than the file's {} bytes", self.bytes.len()))
        })?;
        Ok(())
    }

    pub fn string(&mut self, what: &str) -> Result<String, Error> {
        let n = self.count(what, 1)?;
        self.spend(n, what)?;
        let raw = self.take(n, what)?;
        String::from_utf8(raw.to_vec()).map_err(|_| self.error(what, "is not UTF-8"))
    }

    /// A value of GGUF type `kind` (`gguf_type`), for metadata key `key`.
    pub fn value(&mut self, kind: u32, key: &str, depth: usize) -> Result<Value, Error> {
        Ok(match kind {
            0 => Value::U8(self.array::<1>(key)?[0]),
            1 => Value::I8(self.array::<1>(key)?[0] as i8),
            2 => Value::U16(u16::from_le_bytes(self.array(key)?)),
            3 => Value::I16(i16::from_le_bytes(self.array(key)?)),
            4 => Value::U32(self.u32(key)?),
            5 => Value::I32(i32::from_le_bytes(self.array(key)?)),
            6 => Value::F32(f32::from_le_bytes(self.array(key)?)),
            7 => match self.array::<1>(key)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(self.error(key, format!("a boolean byte of {b}"))),
            },
            8 => Value::Str(self.string(key)?),
            9 => {
                if depth >= MAX_DEPTH {
                    return Err(self.error(key, "arrays nested too deep"));
                }
                let item = self.u32(key)?;
                let size = min_size(item).ok_or_else(|| self.error(key, format!("array of unknown type {item}")))?;
                let n = self.count(key, size)?;
                self.spend(n.saturating_mul(std::mem::size_of::<Value>()), key)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(item, key, depth + 1)?);
                }
                Value::Array(items)
            }
            10 => Value::U64(self.u64(key)?),
            11 => Value::I64(i64::from_le_bytes(self.array(key)?)),
            12 => Value::F64(f64::from_le_bytes(self.array(key)?)),
            other => return Err(self.error(key, format!("unknown value type {other}"))),
        })
    }
}

/// The fewest bytes a value of type `kind` takes (a string: its length; an array: its type and count).
fn min_size(kind: u32) -> Option<usize> {
    Some(match kind {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        8 | 10..=12 => 8,
        9 => 12,
        _ => return None,
    })
}
