//! What a language model's files may hold that this reader refuses or bounds: a chat template that never ends,
//! writes without limit, does not parse or raises; a tokenizer with tokens past the model's vocabulary (special
//! tokens beyond it are fine: Gemma 3's `<image_soft_token>`); weights of another size. Each gets a message naming
//! the file or field, never a panic or a hang.

use burn::tensor::Device;
use lora_playground::model::causal::chat::{Message, SpecialTokens, render};
use lora_playground::model::causal::files::{LmFiles, LmSource};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/decoder");
const CHATML: &str = "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'].strip() + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

fn user(text: &str) -> Vec<Message> {
    vec![Message { role: "user".into(), content: text.into() }]
}

#[test]
fn chat_templates_render_as_transformers_and_hostile_ones_are_bounded() {
    let special = SpecialTokens { bos_token: Some("<s>".into()), eos_token: Some("</s>".into()) };
    let text = render(CHATML, "chat_template.jinja", &user("  Hi  "), true, &special).unwrap();
    assert_eq!(
        text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
        "trim_blocks, .strip(), no trailing newline"
    );
    let cases = [
        ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "fuel"),
        ("{% for i in range(10000000) %}xxxxxxxxxxxxxxxx{% endfor %}", ""),
        ("{% if %}", "line 1"),
        ("{{ raise_exception('only user and assistant roles') }}", "only user and assistant roles"),
        ("{{ messages[0]['content'].nosuchmethod() }}", ""),
    ];
    for (template, says) in cases {
        let started = std::time::Instant::now();
        let e = render(template, "tokenizer_config.json", &user("x"), true, &special).unwrap_err();
        assert_eq!(e.field, "tokenizer_config.json");
        assert!(e.message.contains("chat template"), "{template}: {}", e.message);
        assert!(e.message.to_lowercase().contains(says), "{template}: expected {says:?} in {}", e.message);
        assert!(started.elapsed().as_secs() < 20, "{template}: bounded in time");
    }
    let long = "x".repeat(300 << 10);
    assert!(render(&long, "model.gguf", &user("x"), true, &special).unwrap_err().message.contains("bytes"));
}

fn folder(edit_config: impl Fn(&mut serde_json::Value)) -> LmFiles {
    let read = |f: &str| std::fs::read(format!("{FIXTURES}/llama/{f}")).unwrap();
    let mut config: serde_json::Value = serde_json::from_slice(&read("config.json")).unwrap();
    edit_config(&mut config);
    LmFiles::new(
        "llama",
        LmSource::Folder {
            config_json: config.to_string(),
            tokenizer_json: read("tokenizer.json"),
            safetensors: read("model.safetensors"),
            tokenizer_config_json: Some("{\"chat_template\": \"{{ messages }}\"}".into()),
            chat_template_jinja: None,
        },
    )
}

#[test]
fn files_that_do_not_belong_together_are_refused_by_name() {
    let device = Device::flex();
    let e = folder(|c| c["vocab_size"] = 100.into()).load(None, &device).err().unwrap();
    assert!(e.field == "tokenizer.json" && e.message.contains("vocab_size is 100"), "{}: {}", e.field, e.message);
    let e = folder(|c| c["hidden_size"] = 64.into()).load(None, &device).err().unwrap();
    assert!(e.field == "model.safetensors" && e.message.contains("another model"), "{}: {}", e.field, e.message);
    let e = folder(|c| c["rope_scaling"] = serde_json::json!({"rope_type": "yarn", "factor": 4.0}))
        .load(None, &device)
        .err()
        .unwrap();
    assert!(e.field == "rope_scaling" && e.message.contains("yarn"), "{}: {}", e.field, e.message);
    let e = folder(|c| c["final_logit_softcapping"] = 30.0.into()).load(None, &device).err().unwrap();
    assert_eq!(e.field, "final_logit_softcapping");
    let e = folder(|c| c["num_key_value_heads"] = 3.into()).load(None, &device).err().unwrap();
    assert_eq!(e.field, "num_key_value_heads");
    let e = folder(|c| c["model_type"] = "mistral".into()).load(None, &device).err().unwrap();
    assert!(e.message.contains("'mistral'"), "{}", e.message);
    // The folder's template comes from tokenizer_config.json when there is no chat_template.jinja.
    let lm = folder(|_| {}).load(None, &device).unwrap();
    assert_eq!(lm.chat_template.map(|(_, source)| source).as_deref(), Some("tokenizer_config.json"));
}
