//! GGUF files: every tensor type dequantized bit for bit as gguf-py dequantizes it
//! (`tests/reference/gguf_fixtures.py` wrote the file and the expected values), and hostile files (truncated
//! anywhere, wrong magic or version, absurd counts, lengths and dimensions, offsets past the end, unknown types)
//! refused with a message naming the file and what is wrong, never a panic.

use lora_playground::gguf::Gguf;
use lora_playground::safetensors::SafeTensors;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gguf");

fn types_file() -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/types.gguf")).unwrap()
}

#[test]
fn every_type_dequantizes_bit_for_bit_as_gguf_py() {
    let bytes = types_file();
    let gguf = Gguf::parse("types.gguf", &bytes).unwrap();
    let expected_bytes = std::fs::read(format!("{FIXTURES}/types.expected.safetensors")).unwrap();
    let expected = SafeTensors::parse("types.expected.safetensors", &expected_bytes).unwrap();
    assert_eq!(gguf.tensors.len(), 11, "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K");
    for t in &gguf.tensors {
        let (want, shape) = expected.f32(&t.name).unwrap();
        assert_eq!(t.torch_shape(), shape, "{}", t.name);
        let got = gguf.f32(t);
        assert_eq!(got.len(), want.len(), "{}", t.name);
        let differ = got.iter().zip(&want).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
        assert_eq!(differ, 0, "{} ({}): {differ} values differ from gguf-py's", t.name, t.kind.name());
    }
    assert_eq!(gguf.str("general.name").unwrap(), Some("ggml types for the reader's tests"));
}

/// Byte offsets of the parts of the fixture's header, found by walking it as the format says.
struct Layout {
    /// After magic, version, tensor count, kv count.
    kv_start: usize,
    /// Where the tensor table starts.
    tensors_start: usize,
    /// The first metadata value's type.
    first_type: usize,
}

fn layout(bytes: &[u8]) -> Layout {
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let kv_count = u64_at(16);
    let mut at = 24;
    for _ in 0..kv_count {
        at += 8 + u64_at(at);
        let kind = u32_at(at);
        at += 4;
        assert_eq!(kind, 8, "the fixture's metadata are strings");
        at += 8 + u64_at(at);
    }
    Layout { kv_start: 24, tensors_start: at, first_type: 24 + 8 + u64_at(24) }
}

fn refused(name: &str, bytes: &[u8]) -> String {
    let result = std::panic::catch_unwind(|| Gguf::parse("hostile.gguf", bytes).map(|g| g.tensors.len()));
    match result {
        Err(_) => panic!("{name}: the reader panicked"),
        Ok(Ok(n)) => panic!("{name}: a hostile file was read ({n} tensors)"),
        Ok(Err(e)) => {
            let message = e.to_string();
            assert!(message.contains("hostile.gguf"), "{name}: the message names the file: {message}");
            message
        }
    }
}

fn with(bytes: &[u8], at: usize, patch: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at..at + patch.len()].copy_from_slice(patch);
    b
}

#[test]
fn hostile_files_are_refused_by_name() {
    let good = types_file();
    let l = layout(&good);
    let mut cases: Vec<(String, Vec<u8>, &str)> = vec![
        ("empty".into(), vec![], "truncated"),
        ("wrong magic".into(), with(&good, 0, b"GGML"), "not a GGUF file"),
        ("safetensors bytes".into(), b"\x08\0\0\0\0\0\0\0{}      ".to_vec(), "not a GGUF file"),
        ("version 1".into(), with(&good, 4, &1u32.to_le_bytes()), "version 1"),
        ("version 99".into(), with(&good, 4, &99u32.to_le_bytes()), "version 99"),
        ("absurd tensor count".into(), with(&good, 8, &u64::MAX.to_le_bytes()), "tensor count"),
        ("tensor count one too many".into(), with(&good, 8, &12u64.to_le_bytes()), ""),
        ("absurd metadata count".into(), with(&good, 16, &(1u64 << 40).to_le_bytes()), "metadata count"),
        ("absurd key length".into(), with(&good, l.kv_start, &(1u64 << 50).to_le_bytes()), "metadata key"),
        ("unknown value type".into(), with(&good, l.first_type, &77u32.to_le_bytes()), "unknown value type"),
        ("absurd tensor name length".into(), with(&good, l.tensors_start, &u64::MAX.to_le_bytes()), "tensor name"),
    ];
    // Inside the first tensor's entry: name "f32" (8 + 3 bytes), then n_dims, dims, type, offset.
    let t = l.tensors_start + 8 + 3;
    cases.push(("zero dimensions".into(), with(&good, t, &0u32.to_le_bytes()), "0 dimensions"));
    cases.push(("five dimensions".into(), with(&good, t, &5u32.to_le_bytes()), "5 dimensions"));
    cases.push(("absurd dimension".into(), with(&good, t + 4, &(1u64 << 62).to_le_bytes()), "dimension"));
    cases.push(("zero dimension".into(), with(&good, t + 4, &0u64.to_le_bytes()), "dimension of 0"));
    cases.push(("unknown tensor type".into(), with(&good, t + 4 + 16, &99u32.to_le_bytes()), "ggml type 99"));
    cases.push(("Q2_K tensor".into(), with(&good, t + 4 + 16, &10u32.to_le_bytes()), "ggml type 10"));
    cases.push(("offset past the end".into(), with(&good, t + 4 + 16 + 4, &(1u64 << 40).to_le_bytes()), "outside"));
    cases.push(("misaligned offset".into(), with(&good, t + 4 + 16 + 4, &4u64.to_le_bytes()), "outside"));
    cases.push(("offset overflow".into(), with(&good, t + 4 + 16 + 4, &(u64::MAX - 7).to_le_bytes()), "outside"));
    // A row that is not a whole number of blocks: the second tensor (f16) given 2 x 511 elements as Q8_0.
    // Truncated at 40 places spread over the header, the tensor table and the data.
    let n = good.len();
    for k in 0..40 {
        let cut =
            if k < 30 { k * l.tensors_start / 30 + 1 } else { l.tensors_start + (k - 30) * (n - l.tensors_start) / 10 };
        cases.push((format!("truncated at byte {cut}"), good[..cut.min(n - 1)].to_vec(), ""));
    }
    assert!(cases.len() >= 60, "{} hostile files", cases.len());
    for (name, bytes, says) in &cases {
        let message = refused(name, bytes);
        assert!(message.contains(says), "{name}: expected a message about {says:?}, got: {message}");
    }
}

/// A PEFT adapter as llama.cpp's LoRA GGUF: the same tensors (names, shapes, every value, Llama's q/k rows of B
/// permuted as llama.cpp permutes the base) and the same `adapter.*` metadata as llama.cpp's own
/// `convert_lora_to_gguf.py` writes for it (tests/reference/llama_cpp_lora.py).
#[test]
fn lora_adapter_as_llama_cpp_converts_it() {
    use lora_playground::model::causal::files::{AdapterFiles, LmFiles, LmSource};
    use lora_playground::model::causal::llama_cpp::lora_gguf;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/decoder/llama");
    let read = |f: &str| std::fs::read(format!("{dir}/{f}")).unwrap();
    let base = LmFiles::new(
        "llama",
        LmSource::Folder {
            config_json: String::from_utf8(read("config.json")).unwrap(),
            tokenizer_json: read("tokenizer.json"),
            safetensors: read("model.safetensors"),
            tokenizer_config_json: None,
            chat_template_jinja: None,
        },
    );
    let adapter = AdapterFiles {
        config_json: String::from_utf8(read("peft/adapter_config.json")).unwrap(),
        safetensors: read("peft/adapter_model.safetensors"),
    };
    let ours = lora_gguf(&base, &adapter, "tiny").unwrap();
    let theirs = read("llama_cpp/adapter.gguf");
    let (a, b) = (Gguf::parse("ours.gguf", &ours).unwrap(), Gguf::parse("adapter.gguf", &theirs).unwrap());
    for key in ["general.architecture", "general.type", "adapter.type"] {
        assert_eq!(a.str(key).unwrap(), b.str(key).unwrap(), "{key}");
    }
    assert_eq!(a.f64("adapter.lora.alpha").unwrap(), b.f64("adapter.lora.alpha").unwrap());
    let mut names: Vec<_> = a.tensors.iter().map(|t| t.name.clone()).collect();
    let mut want: Vec<_> = b.tensors.iter().map(|t| t.name.clone()).collect();
    names.sort();
    want.sort();
    assert_eq!(names, want);
    assert_eq!(names.len(), 2 * 7 * 2, "A and B of 7 layers in 2 blocks");
    for t in &b.tensors {
        let mine = a.tensor(&t.name).unwrap();
        assert_eq!(mine.torch_shape(), t.torch_shape(), "{}", t.name);
        let (x, y) = (a.f32(mine), b.f32(t));
        assert!(x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()), "{}: values differ", t.name);
    }
}
