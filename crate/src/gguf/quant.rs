//! ggml's tensor types and their dequantization to float32, computed as gguf-py (`gguf/quants.py`) computes it,
//! operation for operation in float32, so the values are bit-for-bit the same (`tests/reference/gguf_fixtures.py`
//! checks every type). Block layouts are llama.cpp's `ggml-common.h`: Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 in blocks of 32 with
//! one or two float16 scales; the k-quants in super-blocks of 256 with 6-bit sub-block scales (Q4_K, Q5_K) or
//! 8-bit ones (Q6_K).

use crate::f16::f16_to_f32;

/// The tensor types read here (ggml's `ggml_type` ids), under ggml's names.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32,
    F16,
    BF16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q4_K,
    Q5_K,
    Q6_K,
}

impl GgmlType {
    pub fn from_id(id: u32) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::F16,
            2 => Self::Q4_0,
            3 => Self::Q4_1,
            6 => Self::Q5_0,
            7 => Self::Q5_1,
            8 => Self::Q8_0,
            12 => Self::Q4_K,
            13 => Self::Q5_K,
            14 => Self::Q6_K,
            30 => Self::BF16,
            _ => return None,
        })
    }

    /// The type `name` (`Q4_K`) names.
    pub fn from_name(name: &str) -> Option<Self> {
        (0..=30).filter_map(Self::from_id).find(|t| t.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "F32",
            Self::F16 => "F16",
            Self::BF16 => "BF16",
            Self::Q4_0 => "Q4_0",
            Self::Q4_1 => "Q4_1",
            Self::Q5_0 => "Q5_0",
            Self::Q5_1 => "Q5_1",
            Self::Q8_0 => "Q8_0",
            Self::Q4_K => "Q4_K",
            Self::Q5_K => "Q5_K",
            Self::Q6_K => "Q6_K",
        }
    }

    /// Elements per block.
    pub fn block_size(self) -> usize {
        match self {
            Self::F32 | Self::F16 | Self::BF16 => 1,
            Self::Q4_0 | Self::Q4_1 | Self::Q5_0 | Self::Q5_1 | Self::Q8_0 => 32,
            Self::Q4_K | Self::Q5_K | Self::Q6_K => 256,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 | Self::BF16 => 2,
            Self::Q4_0 => 18,
            Self::Q4_1 => 20,
            Self::Q5_0 => 22,
            Self::Q5_1 => 24,
            Self::Q8_0 => 34,
            Self::Q4_K => 144,
            Self::Q5_K => 176,
            Self::Q6_K => 210,
        }
    }

    /// The bytes `n` elements take, if `n` is a whole number of blocks.
    pub fn bytes_for(self, n: usize) -> Option<usize> {
        (n % self.block_size() == 0).then(|| (n / self.block_size()).checked_mul(self.block_bytes())).flatten()
    }
}

fn f16(b: &[u8], at: usize) -> f32 {
    f16_to_f32(u16::from_le_bytes([b[at], b[at + 1]]))
}

/// `raw` (whole blocks of `kind`) as float32 values.
pub fn dequantize(kind: GgmlType, raw: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(raw.len() / kind.block_bytes() * kind.block_size());
    dequantize_into(kind, raw, &mut out);
    out
}

/// `dequantize`, appended to `out` (a row at a time into one buffer: a weight kept in its blocks).
pub fn dequantize_into(kind: GgmlType, raw: &[u8], out: &mut Vec<f32>) {
    for b in raw.chunks_exact(kind.block_bytes()) {
        match kind {
            GgmlType::F32 => out.push(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            GgmlType::F16 => out.push(f16(b, 0)),
            GgmlType::BF16 => out.push(f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16)),
            GgmlType::Q4_0 => {
                let d = f16(b, 0);
                let qs = &b[2..18];
                out.extend(qs.iter().map(|&q| d * ((q & 0x0F) as i8 - 8) as f32));
                out.extend(qs.iter().map(|&q| d * ((q >> 4) as i8 - 8) as f32));
            }
            GgmlType::Q4_1 => {
                let (d, m) = (f16(b, 0), f16(b, 2));
                let qs = &b[4..20];
                out.extend(qs.iter().map(|&q| d * (q & 0x0F) as f32 + m));
                out.extend(qs.iter().map(|&q| d * (q >> 4) as f32 + m));
            }
            GgmlType::Q5_0 | GgmlType::Q5_1 => {
                let one = kind == GgmlType::Q5_1;
                let d = f16(b, 0);
                let m = if one { f16(b, 2) } else { 0.0 };
                let at = if one { 4 } else { 2 };
                let qh = u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
                let qs = &b[at + 4..at + 20];
                for half in 0..2 {
                    for (j, &q) in qs.iter().enumerate() {
                        let low = if half == 0 { q & 0x0F } else { q >> 4 };
                        let high = ((qh >> (half * 16 + j)) & 1) as u8;
                        let v = low | (high << 4);
                        out.push(if one { d * v as f32 + m } else { d * (v as i8 - 16) as f32 });
                    }
                }
            }
            GgmlType::Q8_0 => {
                let d = f16(b, 0);
                out.extend(b[2..34].iter().map(|&q| (q as i8) as f32 * d));
            }
            GgmlType::Q4_K | GgmlType::Q5_K => {
                let (d, dmin) = (f16(b, 0), f16(b, 2));
                let (sc, m) = scale_min(&b[4..16]);
                let (qh, qs) =
                    if kind == GgmlType::Q5_K { (Some(&b[16..48]), &b[48..176]) } else { (None, &b[16..144]) };
                for j in 0..8 {
                    let (dl, ml) = (d * sc[j] as f32, dmin * m[j] as f32);
                    let bytes = &qs[(j / 2) * 32..(j / 2) * 32 + 32];
                    for (l, &q) in bytes.iter().enumerate() {
                        let low = if j % 2 == 0 { q & 0x0F } else { q >> 4 };
                        let high = qh.map_or(0, |h| (h[l] >> j) & 1);
                        out.push(dl * (low | (high << 4)) as f32 - ml);
                    }
                }
            }
            GgmlType::Q6_K => {
                let (ql, qh, scales) = (&b[0..128], &b[128..192], &b[192..208]);
                let d = f16(b, 208);
                for e in 0..256 {
                    let (half, r) = (e / 128, e % 128);
                    let (shift, t) = (r / 64, r % 64);
                    let low = (ql[half * 64 + t] >> (4 * shift)) & 0x0F;
                    let (k, l) = (r / 32, r % 32);
                    let high = (qh[half * 32 + l] >> (2 * k)) & 0x03;
                    let q = (low | (high << 4)) as i8 - 32;
                    let dl = d * (scales[e / 16] as i8) as f32;
                    out.push(dl * q as f32);
                }
            }
        }
    }
}

/// The eight 6-bit scales and mins of a k-quant super-block (`get_scale_min_k4`), packed in 12 bytes.
fn scale_min(s: &[u8]) -> ([u8; 8], [u8; 8]) {
    let mut sc = [0; 8];
    let mut m = [0; 8];
    for j in 0..4 {
        sc[j] = s[j] & 0x3F;
        m[j] = s[j + 4] & 0x3F;
        sc[j + 4] = (s[j + 8] & 0x0F) | ((s[j] >> 2) & 0x30);
        m[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 2) & 0x30);
    }
    (sc, m)
}
