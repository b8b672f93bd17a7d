//! notegraph: a folder of Markdown notes → a searchable knowledge base and a concept map.
//!
//! The pipeline flows one way, one module per stage:
//! notes ([`corpus`]) → parsed documents ([`markdown`]) → chunks ([`chunk`]) →
//! lexical index ([`tokenize`], [`lexical`]) kept in the index folder ([`store`]) →
//! retrieval ([`retrieve`]) → output ([`render`], [`commands`]). [`eval`] scores retrieval.

pub mod chunk;
pub mod commands;
pub mod concepts;
pub mod corpus;
pub mod embed;
pub mod error;
pub mod eval;
pub mod export;
pub mod lexical;
pub mod markdown;
pub mod model;
pub mod render;
pub mod retrieve;
pub mod store;
pub mod tokenize;
pub mod vectors;

pub use error::{Error, Result};
