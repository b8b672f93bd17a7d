//! Dense embeddings of passages and queries with the resolved model.
//!
//! Owns: loading ONNX Runtime (once per process) and the model through fastembed's
//! `TextEmbedding`, the query/passage prefixes, and batching: passages are sorted by token count
//! so each batch pads little, run in batches of at most [`MAX_BATCH`] passages and
//! [`MAX_BATCH_TOKENS`] tokens, and returned in input order.
//! Must not: find or download models (that is `model`), cache vectors, or print anything.
//!
//! Vectors are L2-normalised, so cosine similarity is a dot product.

use crate::model::{ModelError, ModelInfo, Pooling, ResolvedModel};
use fastembed::{InitOptionsUserDefined, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Most passages per inference call. With sorted input, small batches are fastest: on paras200
/// (≈ 130 tokens each, 2 cores) 8 gave 30.2 passages/s, 16 gave 28.4/s, 32 gave 26.5/s.
pub const MAX_BATCH: usize = 8;
/// Most tokens per inference call, padding included (passages × longest passage). Bounds the
/// memory ONNX Runtime's arena grows to and then keeps: 16 passages of 512 tokens take 1 GB,
/// 4 take 0.25 GB, at the same speed.
pub const MAX_BATCH_TOKENS: usize = 2048;

/// The ONNX Runtime library this process loaded; ONNX Runtime can only be loaded once.
static RUNTIME: OnceLock<PathBuf> = OnceLock::new();

/// A loaded embedding model.
pub struct Embedder {
    inner: TextEmbedding,
    model: ResolvedModel,
    load_time: Duration,
}

impl Embedder {
    /// Loads ONNX Runtime (first call only) and the model in `model.dir`.
    pub fn load(model: &ResolvedModel) -> Result<Embedder, ModelError> {
        let started = Instant::now();
        let runtime = init_runtime(model)?;

        let read = |name: &str| {
            let path = model.file(name);
            std::fs::read(&path).map_err(|e| ModelError::io("read", &path, e))
        };
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: read("config.json")?,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        };
        let pooling = match model.settings.pooling {
            Pooling::Mean => fastembed::Pooling::Mean,
            Pooling::Cls => fastembed::Pooling::Cls,
        };
        let user_model =
            UserDefinedEmbeddingModel::new(read(crate::model::ONNX_FILE)?, tokenizer_files).with_pooling(pooling);
        let options = InitOptionsUserDefined::new().with_max_length(model.settings.max_length);
        let inner = TextEmbedding::try_new_from_user_defined(user_model, options)
            .map_err(|e| ModelError::Load { dir: model.dir.clone(), message: e.to_string() })?;

        let mut model = model.clone();
        // A process holds one ONNX Runtime; report the one actually in use.
        model.ort_dylib = runtime.to_path_buf();
        let mut embedder = Embedder { inner, model, load_time: Duration::ZERO };
        // One tiny inference checks that the model runs and matches its declared dimensions.
        embedder.embed_query("notegraph").map_err(|e| match e {
            ModelError::Embed { message } => ModelError::Load {
                dir: embedder.model.dir.clone(),
                message: format!("a test embedding failed: {message}"),
            },
            other => other,
        })?;
        embedder.load_time = started.elapsed();
        Ok(embedder)
    }

    /// Length of every vector.
    pub fn dims(&self) -> usize {
        self.model.settings.dims
    }

    /// The model's name from its settings (store it with the index).
    pub fn name(&self) -> &str {
        &self.model.settings.name
    }

    /// How long [`Embedder::load`] took.
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    /// What `notegraph model info` shows, including the load time.
    pub fn info(&self) -> ModelInfo {
        self.model.info().with_load_time(self.load_time)
    }

    /// Embeds passages (the passage prefix is added here). Returns one vector per input, in
    /// input order. `progress` receives the number of passages done after each batch.
    pub fn embed_passages(
        &mut self,
        texts: &[&str],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let prefix = &self.model.settings.passage_prefix;
        let prefixed: Vec<String> = texts.iter().map(|t| format!("{prefix}{t}")).collect();

        // Longest first, so similar lengths share a batch and padding stays small.
        let mut lengths = Vec::with_capacity(prefixed.len());
        for text in &prefixed {
            let encoding = self
                .inner
                .tokenizer
                .encode(text.as_str(), true)
                .map_err(|e| ModelError::Embed { message: format!("tokenizing failed: {e}") })?;
            lengths.push(encoding.len());
        }
        let mut order: Vec<usize> = (0..prefixed.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));

        let mut out: Vec<Vec<f32>> = vec![Vec::new(); prefixed.len()];
        let mut done = 0;
        while done < order.len() {
            // Sorted longest first, so the batch's first passage sets its padded length.
            let longest = lengths[order[done]].max(1);
            let size = (MAX_BATCH_TOKENS / longest).clamp(1, MAX_BATCH).min(order.len() - done);
            let batch = &order[done..done + size];
            let inputs: Vec<&str> = batch.iter().map(|&i| prefixed[i].as_str()).collect();
            let vectors = self.run(&inputs)?;
            for (&i, vector) in batch.iter().zip(vectors) {
                out[i] = vector;
            }
            done += size;
            progress(done);
        }
        Ok(out)
    }

    /// Embeds a search query (the query prefix is added here).
    pub fn embed_query(&mut self, query: &str) -> Result<Vec<f32>, ModelError> {
        let text = format!("{}{query}", self.model.settings.query_prefix);
        self.run(&[text.as_str()])?.pop().ok_or_else(|| ModelError::Embed { message: "no vector returned".into() })
    }

    fn run(&mut self, inputs: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        let vectors = self
            .inner
            .embed(inputs, Some(inputs.len().max(1)))
            .map_err(|e| ModelError::Embed { message: e.to_string() })?;
        let dims = self.model.settings.dims;
        if let Some(wrong) = vectors.iter().find(|v| v.len() != dims) {
            return Err(ModelError::Embed {
                message: format!(
                    "the model produces {}-dimensional vectors but its {} says \"dims\": {dims}",
                    wrong.len(),
                    crate::model::SETTINGS_FILE
                ),
            });
        }
        if vectors.len() != inputs.len() {
            return Err(ModelError::Embed {
                message: format!("{} vectors for {} inputs", vectors.len(), inputs.len()),
            });
        }
        Ok(vectors)
    }
}

/// Loads the ONNX Runtime library named by `model` unless this process already has one.
fn init_runtime(model: &ResolvedModel) -> Result<&'static Path, ModelError> {
    if let Some(loaded) = RUNTIME.get() {
        return Ok(loaded);
    }
    // `init_from` loads the library; the returned builder is not needed because fastembed
    // creates the environment itself. A second load attempt is a no-op inside `ort`.
    ort::init_from(&model.ort_dylib).map(drop).map_err(|e| ModelError::Runtime {
        path: model.ort_dylib.clone(),
        origin: model.ort_origin,
        message: e.to_string(),
    })?;
    Ok(RUNTIME.get_or_init(|| model.ort_dylib.clone()))
}

/// What identifies the vectors a model makes: vectors stored with another fingerprint are
/// recomputed.
pub fn fingerprint(model: &ResolvedModel) -> String {
    let s = &model.settings;
    format!(
        "{}|{}d|{:?}|{:?}|{:?}|{}|{}b",
        s.name, s.dims, s.pooling, s.passage_prefix, s.query_prefix, s.max_length, model.size_on_disk
    )
}

/// The index stores and searches vectors through this trait.
impl crate::vectors::TextEmbedder for Embedder {
    fn fingerprint(&self) -> String {
        fingerprint(&self.model)
    }
    fn dims(&self) -> usize {
        self.dims()
    }
    fn embed_passages(
        &mut self,
        texts: &[&str],
        progress: &mut dyn FnMut(usize),
    ) -> crate::error::Result<Vec<Vec<f32>>> {
        Ok(Embedder::embed_passages(self, texts, progress)?)
    }
    fn embed_query(&mut self, query: &str) -> crate::error::Result<Vec<f32>> {
        Ok(Embedder::embed_query(self, query)?)
    }
}

/// A resolved model (its files are in place) that is loaded only when a text first needs
/// embedding: loading takes over a second, and an index that is already up to date, or a BM25
/// query, never needs it.
pub struct LazyEmbedder {
    model: ResolvedModel,
    loaded: Option<Embedder>,
}

impl LazyEmbedder {
    pub fn new(model: ResolvedModel) -> Self {
        LazyEmbedder { model, loaded: None }
    }

    /// The loaded model, loading it now if needed.
    pub fn get(&mut self) -> Result<&mut Embedder, ModelError> {
        if self.loaded.is_none() {
            self.loaded = Some(Embedder::load(&self.model)?);
        }
        Ok(self.loaded.as_mut().expect("loaded above"))
    }
}

impl crate::vectors::TextEmbedder for LazyEmbedder {
    fn fingerprint(&self) -> String {
        fingerprint(&self.model)
    }
    fn dims(&self) -> usize {
        self.model.settings.dims
    }
    fn embed_passages(
        &mut self,
        texts: &[&str],
        progress: &mut dyn FnMut(usize),
    ) -> crate::error::Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.get()?.embed_passages(texts, progress)?)
    }
    fn embed_query(&mut self, query: &str) -> crate::error::Result<Vec<f32>> {
        Ok(self.get()?.embed_query(query)?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedder_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<super::Embedder>();
    }
}
