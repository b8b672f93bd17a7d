//! `model fetch` and `model info`: the embedding model, made available and described.

use std::time::Instant;

use serde_json::json;

use super::{Context, FOUND, fetch_drawer, print_json};
use crate::embed::Embedder;
use crate::error::Result;
use crate::model;

/// Makes sure the model is in the cache (fetching and converting it if needed) and loads it once.
pub fn model_fetch(ctx: &Context) -> Result<u8> {
    let started = Instant::now();
    let resolved = model::resolve(&ctx.dense.request(), &mut fetch_drawer())?;
    let embedder = Embedder::load(&resolved)?;
    let info = embedder.info();
    println!(
        "model ready: {} ({} dims) in {} [{}], loaded in {:.2}s; total {:.1}s",
        info.name,
        info.dims,
        resolved.dir.display(),
        resolved.origin,
        embedder.load_time().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(FOUND)
}

/// Says which model is used, from where, its size, dimensions and load time (without fetching).
pub fn model_info(ctx: &Context, json_out: bool) -> Result<u8> {
    let mut request = ctx.dense.request();
    request.allow_fetch = false;
    let resolved = model::resolve(&request, &mut |_| {})?;
    let embedder = Embedder::load(&resolved)?;
    let info = embedder.info();
    if json_out {
        print_json(&json!(info))?;
    } else {
        println!("{}", serde_json::to_string_pretty(&info).unwrap_or_default());
    }
    Ok(FOUND)
}
