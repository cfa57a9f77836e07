//! The only file that knows about JavaScript: plain data in (a `Setup` object), plain data out (a `Report`
//! object or an `Error` object with `field`, `message`, `line`, `column`). The page never sees a panic.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::accounting::presets::PRESETS;
use crate::accounting::report::{self, Setup};

fn to_js<T: Serialize>(value: &T) -> JsValue {
    // json_compatible: u64 counts become JS numbers (all figures here are far below 2^53), maps become objects.
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

/// Reads a `Setup` through JSON text, so unknown keys (a typo in an embedding page's script) are refused
/// rather than silently ignored, as serde-wasm-bindgen would.
fn read_setup(setup: &JsValue) -> Result<Setup, JsValue> {
    let text = js_sys::JSON::stringify(setup)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| to_js(&Error::invalid("setup", "must be a plain object")))?;
    serde_json::from_str(&text).map_err(|e| {
        let message = e.to_string();
        to_js(&Error::invalid("setup", message.split(" at line ").next().unwrap_or(&message)))
    })
}

/// Every figure for a setup; throws an `{field, message}` object for bad input.
#[wasm_bindgen]
pub fn compute(setup: JsValue) -> Result<JsValue, JsValue> {
    let setup = read_setup(&setup)?;
    report::compute(&setup).map(|r| to_js(&r)).map_err(|e| to_js(&e))
}

/// The model and its targetable modules, for drawing the controls; throws for a bad model or config.
#[wasm_bindgen]
pub fn describe(setup: JsValue) -> Result<JsValue, JsValue> {
    let setup = read_setup(&setup)?;
    report::describe(&setup).map(|d| to_js(&d)).map_err(|e| to_js(&e))
}

/// The preset ids, in the order the picker lists them.
#[wasm_bindgen]
pub fn presets() -> JsValue {
    to_js(&PRESETS.iter().map(|(id, _)| *id).collect::<Vec<_>>())
}

/// A preset's `config.json` text (for "edit this config").
#[wasm_bindgen]
pub fn preset_config(id: &str) -> Option<String> {
    crate::accounting::presets::preset_config(id).map(str::to_string)
}

/// The defaults the page starts from (PEFT's `LoraConfig` defaults and the calculator's own).
#[wasm_bindgen]
pub fn default_setup() -> JsValue {
    to_js(&Setup::default())
}

// ---------------------------------------------------------------------------------------------------------------
// The trainer, for the page's Web Worker (built with `--features train`; the calculator's wasm leaves it out).
// Every method returns plain data or throws an `{field, message}` object; the worker calls one at a time.
// ---------------------------------------------------------------------------------------------------------------

#[cfg(feature = "train")]
pub use trainer::Trainer;

#[cfg(feature = "train")]
mod trainer {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::rc::Rc;

    use burn::tensor::Device;
    use burn::tensor::wgpu::WgpuBackend;
    use serde::{Deserialize, Serialize};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::future_to_promise;

    use super::to_js;
    use crate::data::{self, Dataset};
    use crate::error::Error;
    use crate::accounting::lora_config::{Bias, LoraConfig, TargetModules};
    use crate::model::methods::Method;
    use crate::model::tiny;
    use crate::train::adapters::AdapterSet;
    use crate::train::job::{Job, Snapshot, preview_tokens};
    use crate::train::session::{ModelFiles, Plan};
    use crate::train::trainer::TrainConfig;

    /// The page's training settings (the controls of the training panel), with the CLI's defaults.
    #[derive(Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct PlanInput {
        method: String,
        r: u64,
        lora_alpha: f64,
        target_modules: Vec<String>,
        use_rslora: bool,
        /// Block numbers to adapt; `null` for every block.
        layers_to_transform: Option<Vec<usize>>,
        bias: String,
        lora_dropout: f64,
        epochs: usize,
        batch_size: usize,
        lr: f64,
        weight_decay: f64,
        warmup_ratio: f64,
        max_len: usize,
        seed: u64,
        val_fraction: f64,
    }

    impl Default for PlanInput {
        fn default() -> Self {
            let (p, t) = (Plan::default(), TrainConfig::default());
            Self {
                method: "lora".into(),
                r: p.lora.r,
                lora_alpha: p.lora.lora_alpha,
                target_modules: vec!["query".into(), "value".into()],
                use_rslora: false,
                layers_to_transform: None,
                bias: "none".into(),
                lora_dropout: p.lora_dropout,
                epochs: t.epochs,
                batch_size: t.batch_size,
                lr: t.lr,
                weight_decay: t.weight_decay,
                warmup_ratio: t.warmup_ratio,
                max_len: p.max_len,
                seed: t.seed,
                val_fraction: p.val_fraction,
            }
        }
    }

    impl PlanInput {
        fn plan(self) -> Result<Plan, Error> {
            let target_modules = if self.target_modules == ["all-linear"] {
                TargetModules::Shorthand("all-linear".into())
            } else {
                TargetModules::Names(self.target_modules)
            };
            let lora = LoraConfig {
                r: self.r,
                lora_alpha: self.lora_alpha,
                use_rslora: self.use_rslora,
                target_modules: Some(target_modules),
                layers_to_transform: self.layers_to_transform,
                bias: Bias::parse(&self.bias)?,
            };
            lora.validate()?;
            if !(0.0..1.0).contains(&self.lora_dropout) {
                return Err(Error::invalid("lora_dropout", "must be in [0, 1)"));
            }
            Ok(Plan {
                method: Method::parse(&self.method)?,
                lora,
                lora_dropout: self.lora_dropout,
                train: TrainConfig {
                    epochs: self.epochs,
                    batch_size: self.batch_size,
                    lr: self.lr,
                    weight_decay: self.weight_decay,
                    warmup_ratio: self.warmup_ratio,
                    max_grad_norm: 1.0,
                    seed: self.seed,
                },
                max_len: self.max_len,
                val_fraction: self.val_fraction,
            })
        }
    }

    #[derive(Serialize)]
    struct DeviceInfo {
        /// `webgpu` or `cpu`.
        backend: String,
        /// The GPU adapter's name (SwiftShader, a vendor's GPU), or the CPU backend's.
        adapter: String,
    }

    #[derive(Serialize)]
    struct DatasetSummary<'a> {
        examples: usize,
        labels: &'a [String],
        counts: Vec<usize>,
        problems: &'a [data::RowProblem],
        /// The first rows, for the preview table.
        sample: Vec<(&'a str, &'a str, usize)>,
    }

    /// Runs whose trainable part is at most this many parameters are snapshotted after every step (LoRA,
    /// head-only, BitFit: a few hundred KB read back); bigger ones (full fine-tuning) at each epoch's end.
    const SNAPSHOT_EVERY_STEP_UP_TO: u64 = 2_000_000;

    #[derive(Default)]
    struct State {
        /// The last snapshot of the job in progress, in host memory: what a lost GPU leaves to carry on from.
        snapshot: Option<Snapshot>,
        /// A test's stand-in for a lost GPU: the next step fails as a lost device does.
        fail_next_step: bool,
        device: Option<Device>,
        model: Option<ModelFiles>,
        data: Option<Dataset>,
        job: Option<Job>,
        /// Adapters kept over the loaded base model, as folders (name, files): the set below is rebuilt from them
        /// when the device changes, so switching device loses none.
        kept: Vec<(String, BTreeMap<String, Vec<u8>>)>,
        adapters: Option<AdapterSet>,
    }

    impl State {
        /// The adapter set on the current device, built (from the kept folders) when first needed.
        fn adapter_set(&mut self) -> Result<&mut AdapterSet, Error> {
            if self.adapters.is_none() {
                let device = self.device.clone().ok_or_else(|| Error::invalid("device", "choose WebGPU or CPU first"))?;
                let files = self.model.as_ref().ok_or_else(|| Error::invalid("model", "no model is loaded"))?;
                let mut set = AdapterSet::new(files, &device)?;
                for (name, folder) in &self.kept {
                    set.add(name, folder)?;
                }
                self.adapters = Some(set);
            }
            Ok(self.adapters.as_mut().expect("just built"))
        }

        fn adapters_summary(&mut self) -> Result<JsValue, Error> {
            let set = self.adapter_set()?;
            Ok(to_js(&serde_json::json!({"adapters": set.infos(), "memory": set.memory()})))
        }
    }

    thread_local! {
        /// The page's WebGPU device and its adapter's name, once started.
        static WEBGPU: RefCell<Option<(Device, String)>> = const { RefCell::new(None) };
    }

    /// The worker's handle on the trainer.
    #[wasm_bindgen]
    pub struct Trainer {
        state: Rc<RefCell<State>>,
    }

    fn err(e: Error) -> JsValue {
        to_js(&e)
    }

    fn missing(field: &str, what: &str) -> JsValue {
        err(Error::invalid(field, what))
    }

    #[wasm_bindgen]
    impl Trainer {
        #[wasm_bindgen(constructor)]
        pub fn new() -> Trainer {
            Trainer { state: Rc::new(RefCell::new(State::default())) }
        }

        /// Picks the device: `"webgpu"` (resolves with the adapter's name, or rejects if the browser has none)
        /// or `"cpu"` (burn's CPU backend compiled to wasm). Resolves with `{backend, adapter}`.
        pub fn use_device(&self, kind: String) -> js_sys::Promise {
            let state = self.state.clone();
            future_to_promise(async move {
                let info = match kind.as_str() {
                    "webgpu" => {
                        // burn's wgpu runtime starts once per page (a second start fails), so every trainer in the
                        // page shares it; switching back reuses it.
                        let known = WEBGPU.with(|w| w.borrow().clone());
                        let (device, name) = match known {
                            Some(d) => d,
                            None => {
                                let (device, setup) = Device::wgpu_options()
                                    .graphics_api(WgpuBackend::WebGpu)
                                    .init_with_setup_async()
                                    .await
                                    .map_err(|e| missing("device", &format!("WebGPU is not available: {e}")))?;
                                let name = setup.adapter.get_info().name;
                                let name = if name.is_empty() { "a WebGPU adapter".to_string() } else { name };
                                WEBGPU.with(|w| *w.borrow_mut() = Some((device.clone(), name.clone())));
                                (device, name)
                            }
                        };
                        state.borrow_mut().device = Some(device);
                        DeviceInfo { backend: "webgpu".into(), adapter: name }
                    }
                    "cpu" => {
                        state.borrow_mut().device = Some(Device::flex());
                        DeviceInfo { backend: "cpu".into(), adapter: "burn CPU backend (wasm)".into() }
                    }
                    other => return Err(missing("device", &format!("'{other}' is not webgpu or cpu"))),
                };
                let mut s = state.borrow_mut();
                s.job = None;
                s.adapters = None;
                Ok(to_js(&info))
            })
        }

        /// A model folder's three files; returns its config summary. Drops any job in progress.
        pub fn load_model(&self, name: String, config_json: String, safetensors: Vec<u8>, tokenizer_json: Vec<u8>) -> Result<JsValue, JsValue> {
            let files = ModelFiles { name, config_json, safetensors, tokenizer_json };
            let config = crate::train::session::encoder_config(&files.config_json).map_err(err)?;
            crate::safetensors::SafeTensors::parse("model.safetensors", &files.safetensors).map_err(err)?;
            let summary = serde_json::json!({
                "name": files.name, "hidden_size": config.hidden_size, "num_hidden_layers": config.num_hidden_layers,
                "num_attention_heads": config.num_attention_heads, "vocab_size": config.vocab_size,
                "max_position_embeddings": config.max_position_embeddings, "config_json": files.config_json,
            });
            let mut s = self.state.borrow_mut();
            s.model = Some(files);
            s.job = None;
            // Adapters belong to the base model they were trained on.
            s.kept.clear();
            s.adapters = None;
            Ok(to_js(&summary))
        }

        /// The tiny random model (seeded), for slow devices and tests.
        pub fn load_tiny(&self, seed: u64) -> Result<JsValue, JsValue> {
            let f = tiny::files(seed);
            self.load_model(f.name, f.config_json, f.safetensors, f.tokenizer_json)
        }

        /// A built-in dataset's JSON Lines text (`complaints`, `sentiment`, `topics`).
        pub fn builtin_dataset(name: &str) -> Option<String> {
            data::builtin::builtin(name).map(str::to_string)
        }

        /// Parses CSV/TSV/JSONL bytes with the CLI's rules; keeps the good rows; returns counts and every problem
        /// by line. Throws only when nothing usable is left.
        pub fn load_dataset(&self, name: &str, bytes: &[u8]) -> Result<JsValue, JsValue> {
            let d = data::parse(name, bytes).map_err(err)?;
            let summary = DatasetSummary {
                examples: d.examples.len(),
                labels: &d.labels,
                counts: d.counts(),
                problems: &d.problems,
                sample: d.examples.iter().take(8).map(|e| (e.text.as_str(), d.labels[e.label].as_str(), e.line)).collect(),
            };
            let out = to_js(&summary);
            let mut s = self.state.borrow_mut();
            s.data = Some(d);
            s.job = None;
            Ok(out)
        }

        /// Word pieces, ids and the cut at `max_len` for `text`, with the loaded model's tokenizer.
        pub fn preview_tokens(&self, text: &str, max_len: usize) -> Result<JsValue, JsValue> {
            let s = self.state.borrow();
            let files = s.model.as_ref().ok_or_else(|| missing("model", "no model is loaded"))?;
            preview_tokens(files, text, max_len).map(|p| to_js(&p)).map_err(err)
        }

        /// Builds the model for the plan (`PlanInput`'s fields) on the chosen device; returns the job's figures.
        pub fn prepare(&self, plan: JsValue) -> Result<JsValue, JsValue> {
            let text = js_sys::JSON::stringify(&plan).ok().and_then(|s| s.as_string()).unwrap_or_default();
            let input: PlanInput = serde_json::from_str(&text).map_err(|e| missing("plan", &e.to_string()))?;
            let plan = input.plan().map_err(err)?;
            let mut s = self.state.borrow_mut();
            let device = s.device.clone().ok_or_else(|| missing("device", "choose WebGPU or CPU first"))?;
            let files = s.model.as_ref().ok_or_else(|| missing("model", "no model is loaded"))?;
            let data = s.data.as_ref().ok_or_else(|| missing("data", "no dataset is loaded"))?;
            let job = Job::new(files, &plan, data, &device).map_err(err)?;
            let info = to_js(job.info());
            s.job = Some(job);
            s.snapshot = None;
            Ok(info)
        }

        /// After a lost GPU: the job rebuilt on the CPU backend from its last snapshot (from the start if none was
        /// taken yet). Resolves with `{backend, adapter, resumed_at}`.
        pub fn fallback_to_cpu(&self) -> Result<JsValue, JsValue> {
            let mut s = self.state.borrow_mut();
            let plan = s.job.as_ref().map(|j| j.plan().clone()).ok_or_else(|| missing("job", "nothing to carry on: prepare first"))?;
            let device = Device::flex();
            let files = s.model.as_ref().ok_or_else(|| missing("model", "no model is loaded"))?;
            let data = s.data.as_ref().ok_or_else(|| missing("data", "no dataset is loaded"))?;
            let job = match &s.snapshot {
                Some(snap) => Job::resume(files, &plan, data, &device, snap),
                None => Job::new(files, &plan, data, &device),
            }
            .map_err(err)?;
            let resumed_at = job.global_step();
            s.job = Some(job);
            s.device = Some(device);
            s.fail_next_step = false;
            Ok(to_js(&serde_json::json!({"backend": "cpu", "adapter": "burn CPU backend (wasm)", "resumed_at": resumed_at})))
        }

        /// For tests: make the next step fail as a lost GPU does (the real thing cannot be provoked on demand).
        pub fn simulate_device_loss(&self) {
            self.state.borrow_mut().fail_next_step = true;
        }

        /// One optimizer step; resolves with the step's report (`loss`, `epoch`, `step`, `epoch_done`, ...).
        pub fn step(&self) -> js_sys::Promise {
            let state = self.state.clone();
            future_to_promise(async move {
                if std::mem::take(&mut state.borrow_mut().fail_next_step) {
                    return Err(missing("device", "the GPU device was lost (simulated)"));
                }
                let mut job = state.borrow_mut().job.take().ok_or_else(|| missing("job", "nothing to train: prepare first"))?;
                let result = job.step().await;
                // Keep what was learned in host memory, so a GPU lost later does not take it along.
                let snapshot = match &result {
                    Ok(r) if r.epoch_done || job.info().trainable <= SNAPSHOT_EVERY_STEP_UP_TO => Some(job.snapshot().await),
                    _ => None,
                };
                let mut s = state.borrow_mut();
                s.job = Some(job);
                match snapshot {
                    Some(Ok(snap)) => s.snapshot = Some(snap),
                    Some(Err(e)) => return Err(err(e)),
                    None => {}
                }
                result.map(|r| to_js(&r)).map_err(err)
            })
        }

        /// Validation loss and metrics now.
        pub fn evaluate(&self) -> js_sys::Promise {
            let state = self.state.clone();
            future_to_promise(async move {
                let job = state.borrow_mut().job.take().ok_or_else(|| missing("job", "nothing to evaluate: prepare first"))?;
                let result = job.evaluate().await;
                state.borrow_mut().job = Some(job);
                result.map(|r| to_js(&r)).map_err(err)
            })
        }

        /// The files `train` saves for the current model (PEFT's adapter folder for LoRA), read back from the
        /// device: resolves with `[[name, Uint8Array], ...]`.
        pub fn export_job(&self) -> js_sys::Promise {
            let state = self.state.clone();
            future_to_promise(async move {
                // Both are taken out while the read is awaited (the worker makes one call at a time) and put back.
                let (job, files) = {
                    let mut s = state.borrow_mut();
                    (s.job.take(), s.model.take())
                };
                let result = match (&job, &files) {
                    (Some(j), Some(f)) => j.saved_files(f).await,
                    (None, _) => Err(Error::invalid("job", "nothing to save: train a model first")),
                    (_, None) => Err(Error::invalid("model", "no model is loaded")),
                };
                {
                    let mut s = state.borrow_mut();
                    s.job = job;
                    s.model = files;
                }
                let out = js_sys::Array::new();
                for (name, bytes) in result.map_err(err)? {
                    out.push(&js_sys::Array::of2(&JsValue::from_str(&name), &js_sys::Uint8Array::from(&bytes[..])));
                }
                Ok(out.into())
            })
        }

        /// Keeps a saved folder (PEFT's adapter files, or what `export_job` gave) over the loaded base model;
        /// resolves with `{adapters, memory}`. A folder that does not fit is refused and nothing is kept.
        pub fn add_adapter(&self, name: String, file_names: Vec<String>, file_bytes: Vec<js_sys::Uint8Array>) -> Result<JsValue, JsValue> {
            if file_names.len() != file_bytes.len() {
                return Err(missing("adapter", "file names and contents do not pair up"));
            }
            let folder: BTreeMap<String, Vec<u8>> = file_names
                .into_iter()
                // A folder picked from disk gives paths (`my-adapter/adapter_config.json`): the file name counts.
                .map(|n| n.rsplit('/').next().unwrap_or(&n).to_string())
                .zip(file_bytes.iter().map(|b| b.to_vec()))
                .collect();
            let mut s = self.state.borrow_mut();
            s.adapter_set().map_err(err)?.add(&name, &folder).map_err(err)?;
            s.kept.push((name, folder));
            s.adapters_summary().map_err(err)
        }

        /// Forgets kept adapter `index`; resolves with `{adapters, memory}`.
        pub fn remove_adapter(&self, index: usize) -> Result<JsValue, JsValue> {
            let mut s = self.state.borrow_mut();
            s.adapter_set().map_err(err)?.remove(index).map_err(err)?;
            s.kept.remove(index);
            s.adapters_summary().map_err(err)
        }

        /// `{adapters, memory}` for the kept adapters.
        pub fn adapters(&self) -> Result<JsValue, JsValue> {
            self.state.borrow_mut().adapters_summary().map_err(err)
        }

        /// Class probabilities for a typed text with kept adapter `index`.
        pub fn predict_with_adapter(&self, index: usize, text: String) -> js_sys::Promise {
            self.with_adapters(move |set| async move {
                let r = set.predict(index, &text).await.map(|p| to_js(&p));
                (set, r)
            })
        }

        /// Up to `n` texts of the loaded dataset to check a merge on: its validation split (seed 0), as many as
        /// there are.
        pub fn sample_texts(&self, n: usize) -> Result<Vec<String>, JsValue> {
            let s = self.state.borrow();
            let d = s.data.as_ref().ok_or_else(|| missing("data", "load a dataset first: a merge is checked on its texts"))?;
            let (_, val) = crate::data::split::stratified(&d.examples, d.labels.len(), Plan::default().val_fraction, 0);
            Ok(val.into_iter().take(n).map(|e| e.text).collect())
        }

        /// Kept adapter `index` merged into the weights against as it is, on `texts`: resolves with
        /// `{texts, max_abs_logit_diff, same_prediction}`.
        pub fn verify_merge(&self, index: usize, texts: Vec<String>) -> js_sys::Promise {
            self.with_adapters(move |mut set| async move {
                let r = set.verify_merge(index, &texts).await.map(|c| to_js(&c));
                (set, r)
            })
        }

        /// Classifies `texts` with kept adapter `index`, merged or not, and resolves with nothing: the worker
        /// times it (wasm has no clock of its own).
        pub fn run_adapter(&self, index: usize, merged: bool, texts: Vec<String>) -> js_sys::Promise {
            self.with_adapters(move |mut set| async move {
                let r = set.logits(index, merged, &texts).await.map(|_| JsValue::UNDEFINED);
                (set, r)
            })
        }

        /// Class probabilities for a typed text.
        pub fn predict(&self, text: String) -> js_sys::Promise {
            let state = self.state.clone();
            future_to_promise(async move {
                let job = state.borrow_mut().job.take().ok_or_else(|| missing("job", "train a model first"))?;
                let result = job.predict(&text).await;
                state.borrow_mut().job = Some(job);
                result.map(|r| to_js(&r)).map_err(err)
            })
        }
    }

    impl Trainer {
        /// Runs `f` on the adapter set, taken out of the state while it is awaited and put back after.
        fn with_adapters<F, Fut>(&self, f: F) -> js_sys::Promise
        where
            F: FnOnce(AdapterSet) -> Fut + 'static,
            Fut: std::future::Future<Output = (AdapterSet, Result<JsValue, Error>)> + 'static,
        {
            let state = self.state.clone();
            future_to_promise(async move {
                let set = {
                    let mut s = state.borrow_mut();
                    s.adapter_set().map_err(err)?;
                    s.adapters.take().expect("built above")
                };
                let (set, result) = f(set).await;
                state.borrow_mut().adapters = Some(set);
                result.map_err(err)
            })
        }
    }

    impl Default for Trainer {
        fn default() -> Self {
            Self::new()
        }
    }
}
