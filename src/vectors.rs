//! Dense vectors of chunks: storage in one file, incremental refresh, exact nearest-neighbour search.
//!
//! Owns the vector file format and the brute-force cosine search (vectors are L2-normalised, so a
//! dot product). Vectors are keyed by chunk id, so only chunks whose text changed are embedded
//! again. It does not know where the file lives (the store hands it a path) nor how vectors are made
//! (any [`TextEmbedder`]).
//!
//! File format (little-endian): magic `NGV1`, u32 dims, u32 count, u32 length + UTF-8 model
//! fingerprint, then per vector: u8 id length, id bytes, dims × f32.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"NGV1";

/// Something that turns passages and queries into L2-normalised vectors of the same space.
pub trait TextEmbedder {
    /// Identifies the model and its settings: vectors made by another fingerprint are not reused.
    fn fingerprint(&self) -> String;
    fn dims(&self) -> usize;
    /// One vector per text, in order; `progress` gets the number of texts done so far.
    fn embed_passages(&mut self, texts: &[&str], progress: &mut dyn FnMut(usize)) -> Result<Vec<Vec<f32>>>;
    /// The vector of a search query (models like e5 embed queries differently from passages).
    fn embed_query(&mut self, query: &str) -> Result<Vec<f32>>;
}

/// Chunk vectors in memory.
#[derive(Debug, Clone, Default)]
pub struct VectorSet {
    pub fingerprint: String,
    pub dims: usize,
    ids: Vec<String>,
    /// Row-major, `ids.len() × dims`.
    data: Vec<f32>,
}

/// One dense hit: chunk id and cosine similarity.
#[derive(Debug, Clone)]
pub struct DenseHit {
    pub chunk_id: String,
    pub score: f32,
}

impl VectorSet {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&[f32]> {
        self.ids.iter().position(|i| i == id).map(|i| self.row(i))
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dims..(i + 1) * self.dims]
    }

    /// Reads the vector file; a missing file is an empty set.
    pub fn load(path: &Path) -> Result<VectorSet> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(VectorSet::default()),
            Err(e) => return Err(Error::io(path, e)),
        };
        Self::decode(&bytes).ok_or_else(|| {
            Error::index(path, "vector file is damaged; run `notegraph index` to rebuild it (delete the file first)")
        })
    }

    /// The fingerprint and number of vectors in the file, read from its header alone (the
    /// freshness check on every query must not load every vector). `None` when missing or damaged.
    pub fn read_header(path: &Path) -> Option<(String, usize)> {
        use std::io::Read;
        let mut f = std::fs::File::open(path).ok()?;
        let mut head = [0u8; 16];
        f.read_exact(&mut head).ok()?;
        if &head[..4] != MAGIC {
            return None;
        }
        let u32_at = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]) as usize;
        let mut fingerprint = vec![0u8; u32_at(12)];
        f.read_exact(&mut fingerprint).ok()?;
        Some((String::from_utf8(fingerprint).ok()?, u32_at(8)))
    }

    fn decode(b: &[u8]) -> Option<VectorSet> {
        let mut at = 0usize;
        let mut take = |n: usize| -> Option<&[u8]> {
            let s = b.get(at..at + n)?;
            at += n;
            Some(s)
        };
        if take(4)? != MAGIC {
            return None;
        }
        let u32_at = |s: &[u8]| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize;
        let dims = u32_at(take(4)?);
        let count = u32_at(take(4)?);
        let flen = u32_at(take(4)?);
        let fingerprint = String::from_utf8(take(flen)?.to_vec()).ok()?;
        let mut ids = Vec::with_capacity(count);
        let mut data = Vec::with_capacity(count * dims);
        for _ in 0..count {
            let idlen = take(1)?[0] as usize;
            ids.push(String::from_utf8(take(idlen)?.to_vec()).ok()?);
            let raw = take(dims * 4)?;
            data.extend(raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])));
        }
        Some(VectorSet { fingerprint, dims, ids, data })
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut b = Vec::with_capacity(16 + self.fingerprint.len() + self.ids.len() * (20 + self.dims * 4));
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&(self.dims as u32).to_le_bytes());
        b.extend_from_slice(&(self.ids.len() as u32).to_le_bytes());
        b.extend_from_slice(&(self.fingerprint.len() as u32).to_le_bytes());
        b.extend_from_slice(self.fingerprint.as_bytes());
        for (i, id) in self.ids.iter().enumerate() {
            b.push(id.len().min(255) as u8);
            b.extend_from_slice(&id.as_bytes()[..id.len().min(255)]);
            for x in self.row(i) {
                b.extend_from_slice(&x.to_le_bytes());
            }
        }
        crate::store::write_atomic(path, &b)
    }

    /// Keeps the vectors of `wanted` chunk ids that exist, drops the rest, and returns the ids
    /// (with their texts) that still need embedding. Everything is dropped when the embedder's
    /// fingerprint differs from the stored one.
    pub fn retain_and_missing<'a>(
        &mut self,
        wanted: &[(&'a str, String)],
        fingerprint: &str,
        dims: usize,
    ) -> Vec<(&'a str, String)> {
        if self.fingerprint != fingerprint || self.dims != dims {
            *self = VectorSet { fingerprint: fingerprint.to_string(), dims, ids: Vec::new(), data: Vec::new() };
        }
        let have: HashMap<&str, usize> = self.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        let mut ids = Vec::with_capacity(wanted.len());
        let mut data = Vec::with_capacity(wanted.len() * dims);
        let mut missing = Vec::new();
        for (id, text) in wanted {
            match have.get(id) {
                Some(&i) => {
                    ids.push(id.to_string());
                    data.extend_from_slice(self.row(i));
                }
                None => missing.push((*id, text.clone())),
            }
        }
        self.ids = ids;
        self.data = data;
        missing
    }

    pub fn push(&mut self, id: &str, v: &[f32]) {
        debug_assert_eq!(v.len(), self.dims);
        self.ids.push(id.to_string());
        self.data.extend_from_slice(v);
    }

    /// Drops the vectors of the given chunk ids (used when no embedder is available).
    pub fn retain_ids(&mut self, keep: &std::collections::HashSet<&str>) {
        let mut ids = Vec::new();
        let mut data = Vec::new();
        for (i, id) in self.ids.iter().enumerate() {
            if keep.contains(id.as_str()) {
                ids.push(id.clone());
                data.extend_from_slice(self.row(i));
            }
        }
        self.ids = ids;
        self.data = data;
    }

    /// The `k` chunks most similar to `query` (exact: a dot product with every vector).
    pub fn search(&self, query: &[f32], k: usize) -> Vec<DenseHit> {
        if query.len() != self.dims || self.dims == 0 {
            return Vec::new();
        }
        let mut scored: Vec<(f32, usize)> =
            (0..self.ids.len()).map(|i| (self.row(i).iter().zip(query).map(|(a, b)| a * b).sum::<f32>(), i)).collect();
        let k = k.min(scored.len());
        if k == 0 {
            return Vec::new();
        }
        scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
        scored.truncate(k);
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.into_iter().map(|(s, i)| DenseHit { chunk_id: self.ids[i].clone(), score: s }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn roundtrip_search_and_incremental_retain() {
        let mut set = VectorSet::default();
        let wanted = vec![("a", "A".to_string()), ("b", "B".to_string()), ("c", "C".to_string())];
        let missing = set.retain_and_missing(&wanted, "m1", 3);
        assert_eq!(missing.len(), 3);
        set.push("a", &unit(&[1.0, 0.0, 0.0]));
        set.push("b", &unit(&[0.0, 1.0, 0.0]));
        set.push("c", &unit(&[1.0, 1.0, 0.0]));
        let hits = set.search(&unit(&[1.0, 0.2, 0.0]), 2);
        assert_eq!(hits.iter().map(|h| h.chunk_id.as_str()).collect::<Vec<_>>(), ["a", "c"]);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.bin");
        set.save(&path).unwrap();
        let mut loaded = VectorSet::load(&path).unwrap();
        assert_eq!(loaded.len(), 3);
        assert_eq!(VectorSet::read_header(&path), Some(("m1".to_string(), 3)));
        assert_eq!(loaded.get("c"), set.get("c"));

        // "b" removed, "d" new: only "d" needs embedding.
        let wanted = vec![("a", "A".to_string()), ("c", "C".to_string()), ("d", "D".to_string())];
        let missing = loaded.retain_and_missing(&wanted, "m1", 3);
        assert_eq!(missing.iter().map(|m| m.0).collect::<Vec<_>>(), ["d"]);
        assert_eq!(loaded.len(), 2);
        // Another model: everything again.
        assert_eq!(loaded.retain_and_missing(&wanted, "m2", 3).len(), 3);
    }

    #[test]
    fn damaged_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.bin");
        std::fs::write(&path, b"NGV1\x03\x00").unwrap();
        let err = VectorSet::load(&path).unwrap_err().to_string();
        assert!(err.contains("v.bin") && err.contains("damaged"), "{err}");
    }
}
