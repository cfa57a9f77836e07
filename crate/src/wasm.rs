//! The only file that knows about JavaScript: plain data in (a `Setup` object), plain data out (a `Report`
//! object or an `Error` object with `field`, `message`, `line`, `column`). The page never sees a panic.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::accounting::presets::PRESETS;
use crate::accounting::report::{self, Setup};
use crate::error::Error;

fn to_js<T: Serialize>(value: &T) -> JsValue {
    // json_compatible: u64 counts become JS numbers (all figures here are far below 2^53), maps become objects.
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

/// A JS object as JSON, read through its text so that serde's own rules apply (unknown keys refused rather than
/// silently ignored, as serde-wasm-bindgen would).
fn read_json(value: &JsValue, field: &str) -> Result<serde_json::Value, JsValue> {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .and_then(|text| serde_json::from_str(&text).ok())
        .ok_or_else(|| to_js(&Error::invalid(field, "must be a plain object")))
}

fn read_setup(setup: &JsValue) -> Result<Setup, JsValue> {
    serde_json::from_value(read_json(setup, "setup")?).map_err(|e| {
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

/// A lesson's figure: its attributes (bindings already replaced) in, `{value, text}` out (`lesson::show`).
#[wasm_bindgen]
pub fn lesson_figure(spec: JsValue) -> Result<JsValue, JsValue> {
    let spec = read_spec(&spec)?;
    crate::lesson::show(&spec).map(|s| to_js(&s)).map_err(|e| to_js(&e))
}

/// A lesson's chart data (`lesson::series::series`).
#[wasm_bindgen]
pub fn lesson_series(spec: JsValue) -> Result<JsValue, JsValue> {
    let spec = read_spec(&spec)?;
    crate::lesson::series::series(&spec).map(|s| to_js(&s)).map_err(|e| to_js(&e))
}

/// A student's answer to a lesson's question, checked against the figure the question names.
#[wasm_bindgen]
pub fn lesson_check(spec: JsValue, answer: &str) -> Result<JsValue, JsValue> {
    let spec = read_spec(&spec)?;
    let checked = crate::lesson::show(&spec).and_then(|shown| {
        let tolerance = crate::lesson::answer::tolerance(&spec)?;
        crate::lesson::answer::check(answer, shown.value, tolerance)
    });
    checked.map(|c| to_js(&c)).map_err(|e| to_js(&e))
}

fn read_spec(spec: &JsValue) -> Result<crate::lesson::spec::Spec, JsValue> {
    serde_json::from_value(read_json(spec, "spec")?).map_err(|e| to_js(&Error::invalid("spec", e.to_string())))
}

/// The defaults the page starts from (PEFT's `LoraConfig` defaults and the calculator's own).
#[wasm_bindgen]
pub fn default_setup() -> JsValue {
    to_js(&Setup::default())
}

// ---------------------------------------------------------------------------------------------------------------
// The trainer, for the page's Web Worker (built with `--features train`; the calculator's wasm leaves it out):
// thin wrappers over `train::workbench::Workbench`, which holds the state and the whole run policy.
// ---------------------------------------------------------------------------------------------------------------

/// Files for the page to offer as downloads: `[[name, Uint8Array], ...]`.
#[cfg(feature = "train")]
fn files_to_js(files: Vec<(String, Vec<u8>)>) -> JsValue {
    let out = js_sys::Array::new();
    for (name, bytes) in files {
        out.push(&js_sys::Array::of2(&JsValue::from_str(&name), &js_sys::Uint8Array::from(&bytes[..])));
    }
    out.into()
}

#[cfg(feature = "train")]
pub use lm::LmLab;
#[cfg(feature = "train")]
pub use trainer::Trainer;

#[cfg(feature = "train")]
mod trainer {
    use std::cell::{RefCell, RefMut};
    use std::rc::Rc;

    use burn::tensor::Device;
    use burn::tensor::wgpu::WgpuBackend;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::future_to_promise;

    use super::{files_to_js, read_json, to_js};
    use crate::data;
    use crate::error::Error;
    use crate::model::files::ModelFiles;
    use crate::model::tiny;
    use crate::train::budget::Budget;
    use crate::train::experiment;
    use crate::train::plan::Plan;
    use crate::train::replies::DeviceInfo;
    use crate::train::shares::{HostTensors, ShareGradients};
    use crate::train::workbench::{Folder, Workbench};

    thread_local! {
        /// The page's WebGPU device and its adapter's name, once started: burn's wgpu runtime starts once per
        /// page (a second start fails), so every trainer in the page shares it.
        static WEBGPU: RefCell<Option<(Device, String, u64)>> = const { RefCell::new(None) };
    }

    fn err(e: Error) -> JsValue {
        to_js(&e)
    }

    /// A bench call's outcome as the page gets it: plain data, or an `Error` object.
    fn reply<T: serde::Serialize>(result: Result<T, Error>) -> Result<JsValue, JsValue> {
        result.map(|v| to_js(&v)).map_err(err)
    }

    /// The bench, borrowed for one call. The worker makes one call at a time; a second call arriving while an
    /// async one is awaited gets an error instead of a panic.
    fn workbench(state: &Rc<RefCell<Workbench>>) -> Result<RefMut<'_, Workbench>, JsValue> {
        state.try_borrow_mut().map_err(|_| err(Error::busy("trainer", "is busy with another call")))
    }

    /// An async call on the workbench as a Promise: resolves with its result as plain data, rejects with an `Error`.
    macro_rules! promise {
        ($self:ident, |$wb:ident| $body:expr) => {{
            let state = $self.state.clone();
            future_to_promise(async move {
                #[allow(unused_mut)]
                let mut $wb = workbench(&state)?;
                reply($body.await)
            })
        }};
    }

    fn set(object: &js_sys::Object, key: &str, value: &JsValue) {
        js_sys::Reflect::set(object, &JsValue::from_str(key), value).expect("setting a key of a plain object");
    }

    /// Tensors by name as `{name: Float32Array}`: serde would make each value a JS number, one call each, and
    /// a LoRA model's 75k values then take seconds each way; a typed array is one copy.
    fn tensors_to_js(tensors: &HostTensors) -> JsValue {
        let out = js_sys::Object::new();
        for (name, values) in tensors {
            set(&out, name, &js_sys::Float32Array::from(&values[..]));
        }
        out.into()
    }

    /// `tensors_to_js` read back; anything else is an error naming `field`.
    fn tensors_from_js(value: &JsValue, field: &str) -> Result<HostTensors, JsValue> {
        let bad = |m: &str| err(Error::invalid(field, m));
        let object = value.dyn_ref::<js_sys::Object>().ok_or_else(|| bad("must be an object of Float32Arrays"))?;
        let mut out = HostTensors::new();
        for entry in js_sys::Object::entries(object).iter() {
            let pair = js_sys::Array::from(&entry);
            let name = pair.get(0).as_string().unwrap_or_default();
            let values = pair
                .get(1)
                .dyn_into::<js_sys::Float32Array>()
                .map_err(|_| bad(&format!("{name} is not a Float32Array")))?;
            out.insert(name, values.to_vec());
        }
        Ok(out)
    }

    /// A helper's `{loss, gradients}`.
    fn gradients_from_js(value: &JsValue) -> Result<ShareGradients, JsValue> {
        let get = |key: &str| js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
        let loss = get("loss").as_f64().ok_or_else(|| err(Error::invalid("gradients", "an answer without a loss")))?;
        Ok(ShareGradients { loss, gradients: tensors_from_js(&get("gradients"), "gradients")? })
    }

    fn plan(value: &JsValue) -> Result<Plan, JsValue> {
        Plan::from_json(&read_json(value, "plan")?).map_err(err)
    }

    /// The worker's handle on the trainer.
    #[wasm_bindgen]
    pub struct Trainer {
        state: Rc<RefCell<Workbench>>,
    }

    #[wasm_bindgen]
    impl Trainer {
        #[wasm_bindgen(constructor)]
        pub fn new() -> Trainer {
            Trainer { state: Rc::new(RefCell::new(Workbench::new())) }
        }

        /// The training settings' defaults (the CLI's too), flat, with PEFT's names. `lr` is null: left blank,
        /// it is the chosen method's usual rate (`Method::usual_lr`), which `check_plan` fills in.
        pub fn default_plan() -> JsValue {
            let mut plan = Plan::default().to_json();
            plan["lr"] = serde_json::Value::Null;
            to_js(&plan)
        }

        /// `plan` (any subset of the settings) over the defaults, checked; throws `{field, message}`.
        pub fn check_plan(plan_fields: JsValue) -> Result<JsValue, JsValue> {
            plan(&plan_fields).map(|p| to_js(&p.to_json()))
        }

        /// The Experiment panel's runs, `[{name, plan}]`: `grid` says what varies over the base `plan_fields`
        /// (`train::experiment`, the CLI's `sweep` too); throws `{field, message}`.
        pub fn experiment_runs(plan_fields: JsValue, grid: JsValue) -> Result<JsValue, JsValue> {
            let fields = read_json(&plan_fields, "plan")?;
            let base = Plan::from_json(&fields).map_err(err)?;
            let grid = experiment::Grid::from_json(&read_json(&grid, "experiment")?, &base).map_err(err)?;
            experiment::runs(&fields, &grid).map(|runs| to_js(&experiment::to_json(&runs))).map_err(err)
        }

        /// A built-in dataset's JSON Lines text (`complaints`, `sentiment`, `topics`).
        pub fn builtin_dataset(name: &str) -> Option<String> {
            data::builtin::builtin(name).map(str::to_string)
        }

        /// `"webgpu"` (rejects if the browser has none) or `"cpu"` (burn's CPU backend in wasm); resolves with
        /// `{backend, adapter}`.
        pub fn set_device(&self, kind: String) -> js_sys::Promise {
            let state = self.state.clone();
            future_to_promise(async move {
                let (device, info, budget) = match kind.as_str() {
                    "webgpu" => {
                        let (device, adapter, buffer) = webgpu().await?;
                        (device, DeviceInfo { backend: "webgpu".into(), adapter }, Budget::wasm_webgpu(buffer))
                    }
                    "cpu" => (Device::flex(), DeviceInfo::cpu(), Budget::wasm_cpu()),
                    other => return Err(err(Error::invalid("device", format!("'{other}' is not webgpu or cpu")))),
                };
                let mut wb = workbench(&state)?;
                wb.set_device(device, info.clone());
                wb.set_budget(Some(budget));
                Ok(to_js(&info))
            })
        }

        pub fn load_model(
            &self,
            name: String,
            config_json: String,
            safetensors: Vec<u8>,
            tokenizer_json: Vec<u8>,
        ) -> Result<JsValue, JsValue> {
            let files = ModelFiles { name, config_json, safetensors, tokenizer_json };
            reply(workbench(&self.state)?.load_model(files))
        }

        /// Whether a model of this `config.json` and weights size can train in this tab at all, before its download:
        /// `{memory, file_bytes, host_bytes, ...}`, or throws `{field: "model", message}` naming what rules it out.
        pub fn check_model(&self, config_json: &str, file_bytes: f64) -> Result<JsValue, JsValue> {
            reply(workbench(&self.state)?.check_model(config_json, file_bytes as u64))
        }

        /// The tiny random model (seeded), for slow devices and tests.
        pub fn load_tiny(&self, seed: u64) -> Result<JsValue, JsValue> {
            reply(workbench(&self.state)?.load_model(tiny::files(seed)))
        }

        pub fn load_dataset(&self, name: &str, bytes: &[u8]) -> Result<JsValue, JsValue> {
            reply(workbench(&self.state)?.load_dataset(name, bytes))
        }

        pub fn split_counts(&self, val_fraction: f64, seed: u64) -> Result<JsValue, JsValue> {
            reply(workbench(&self.state)?.split_counts(val_fraction, seed))
        }

        pub fn preview_tokens(&self, text: &str, max_len: usize) -> Result<JsValue, JsValue> {
            reply(workbench(&self.state)?.preview_tokens(text, max_len))
        }

        pub fn prepare(&self, plan_fields: JsValue) -> Result<JsValue, JsValue> {
            let plan = plan(&plan_fields)?;
            reply(workbench(&self.state)?.prepare(plan))
        }

        /// Builds a model for `plan` only to time a step before a run: the run's figures (`total_steps`, ...).
        pub fn start_trial(&self, plan_fields: JsValue) -> Result<JsValue, JsValue> {
            let plan = plan(&plan_fields)?;
            reply(workbench(&self.state)?.start_trial(plan))
        }

        /// One step of the trial (the worker times it).
        pub fn trial_step(&self) -> js_sys::Promise {
            promise!(self, |wb| wb.trial_step())
        }

        pub fn end_trial(&self) -> Result<(), JsValue> {
            workbench(&self.state)?.end_trial();
            Ok(())
        }

        /// One step and what follows it: `{step, evaluation, fallback, done}`.
        pub fn advance(&self) -> js_sys::Promise {
            promise!(self, |wb| wb.advance())
        }

        /// `{workers, limited_by}`: how many workers the job's steps can use out of `offered` on a machine with
        /// `machine_bytes` of memory where the browser says (`Workbench::share_workers`).
        pub fn share_workers(&self, offered: usize, machine_bytes: Option<f64>) -> Result<JsValue, JsValue> {
            reply(workbench(&self.state)?.share_workers(offered, machine_bytes.map(|b| b as u64)))
        }

        /// Begins a step cut in `workers` shares: `{shares, weights}` for the helper workers.
        pub fn begin_shared_step(&self, workers: usize) -> js_sys::Promise {
            let state = self.state.clone();
            future_to_promise(async move {
                let request = workbench(&state)?.begin_shared_step(workers).await.map_err(err)?;
                let out = js_sys::Object::new();
                // Each share as JSON text, which the helper reads back as it is (serde-wasm-bindgen took 250 ms for
                // a batch's token ids as JS numbers; the text is one string).
                let shares = js_sys::Array::new();
                for share in &request.shares {
                    shares.push(&JsValue::from_str(&serde_json::to_string(share).expect("plain data")));
                }
                set(&out, "shares", &shares);
                set(&out, "weights", &tensors_to_js(&request.weights));
                Ok(out.into())
            })
        }

        /// The job's own share of the begun step (blocks while the helpers compute theirs).
        pub fn compute_own_share(&self) -> Result<(), JsValue> {
            workbench(&self.state)?.compute_own_share().map_err(err)
        }

        /// The helpers' `[{loss, gradients}]` in: the step taken, `{step, evaluation, fallback, done}` as `advance`.
        pub fn finish_shared_step(&self, others: JsValue) -> js_sys::Promise {
            let state = self.state.clone();
            future_to_promise(async move {
                let others = js_sys::Array::from(&others)
                    .iter()
                    .map(|g| gradients_from_js(&g))
                    .collect::<Result<Vec<_>, _>>()?;
                reply(workbench(&state)?.finish_shared_step(others).await)
            })
        }

        /// Makes this trainer a helper worker for runs of `plan` with `num_labels` labels over the loaded model.
        pub fn start_replica(&self, plan_fields: JsValue, num_labels: usize) -> Result<(), JsValue> {
            let plan = plan(&plan_fields)?;
            workbench(&self.state)?.start_replica(&plan, num_labels).map_err(err)
        }

        /// A helper's answer for one `share` (JSON text, from `begin_shared_step`) at `weights`: `{loss, gradients}`.
        pub fn replica_gradients(&self, weights: JsValue, share: String) -> js_sys::Promise {
            let state = self.state.clone();
            future_to_promise(async move {
                let weights = tensors_from_js(&weights, "weights")?;
                let share = serde_json::from_str(&share).map_err(|e| err(Error::invalid("share", e.to_string())))?;
                let answer = workbench(&state)?.replica_gradients(&weights, &share).await.map_err(err)?;
                let out = js_sys::Object::new();
                set(&out, "loss", &JsValue::from_f64(answer.loss));
                set(&out, "gradients", &tensors_to_js(&answer.gradients));
                Ok(out.into())
            })
        }

        /// For tests: the next `advance` fails as a lost GPU does. Not in the shipped wasm (`test-hooks`).
        #[cfg(feature = "test-hooks")]
        pub fn simulate_device_loss(&self) -> Result<(), JsValue> {
            workbench(&self.state)?.simulate_device_loss();
            Ok(())
        }

        /// The last snapshot as a `.safetensors` file (tensors, AdamW's moments, place), `undefined` before the first.
        pub fn snapshot_file(&self) -> Result<Option<js_sys::Uint8Array>, JsValue> {
            Ok(workbench(&self.state)?.snapshot_file().map_err(err)?.map(|b| js_sys::Uint8Array::from(&b[..])))
        }

        /// Carries on the run a snapshot file was taken from, over the loaded model and data: `{job, plan, step}`.
        pub fn resume_run(&self, file: &[u8]) -> Result<JsValue, JsValue> {
            let mut wb = workbench(&self.state)?;
            let resumed = wb.resume_run(file).and_then(|(job, plan)| {
                Ok(serde_json::json!({ "job": job, "plan": plan.to_json(), "step": wb.global_step()? }))
            });
            reply(resumed)
        }

        /// For tests of the page's recovery: the step that would bring the run to `step` steps traps (in a helper
        /// worker, its `step`-th share). Not in the shipped wasm (`test-hooks`).
        #[cfg(feature = "test-hooks")]
        pub fn panic_at_step(&self, step: usize) -> Result<(), JsValue> {
            workbench(&self.state)?.panic_at_step(step);
            Ok(())
        }

        pub fn predict(&self, text: String) -> js_sys::Promise {
            promise!(self, |wb| wb.predict(&text))
        }

        /// The files `train` saves, read back from the device: resolves with `[[name, Uint8Array], ...]`.
        pub fn export_job(&self) -> js_sys::Promise {
            let state = self.state.clone();
            future_to_promise(async move { Ok(files_to_js(workbench(&state)?.export_job().await.map_err(err)?)) })
        }

        /// The page's settings as a PEFT notebook and script with the data (`run.ipynb`, `run.py`, the data file),
        /// before or after a run: `[[name, Uint8Array], ...]`.
        pub fn export_notebook(&self, plan_fields: JsValue) -> Result<JsValue, JsValue> {
            let plan = plan(&plan_fields)?;
            Ok(files_to_js(workbench(&self.state)?.export_notebook(Some(plan)).map_err(err)?))
        }

        pub fn keep_job(&self, name: String) -> js_sys::Promise {
            promise!(self, |wb| wb.keep_job(&name))
        }

        /// Keeps a saved folder (file names and contents) over the loaded base model: `{adapters, memory}`.
        pub fn add_adapter(
            &self,
            name: String,
            file_names: Vec<String>,
            file_bytes: Vec<js_sys::Uint8Array>,
        ) -> Result<JsValue, JsValue> {
            if file_names.len() != file_bytes.len() {
                return Err(err(Error::invalid("adapter", "file names and contents do not pair up")));
            }
            let folder: Folder = file_names
                .into_iter()
                // A folder picked from disk gives paths (`my-adapter/adapter_config.json`): the file name counts.
                .map(|n| n.rsplit('/').next().unwrap_or(&n).to_string())
                .zip(file_bytes.iter().map(|b| b.to_vec()))
                .collect();
            reply(workbench(&self.state)?.add_adapter(&name, folder))
        }

        pub fn remove_adapter(&self, index: usize) -> Result<JsValue, JsValue> {
            reply(workbench(&self.state)?.remove_adapter(index))
        }

        pub fn adapters(&self) -> Result<JsValue, JsValue> {
            reply(workbench(&self.state)?.adapters())
        }

        /// Inside kept LoRA adapter `index` (and its similarity with kept adapter `compare`).
        pub fn inspect_adapter(&self, index: usize, compare: Option<usize>) -> Result<JsValue, JsValue> {
            reply(workbench(&self.state)?.inspect_adapter(index, compare))
        }

        pub fn predict_with_adapter(&self, index: usize, text: String) -> js_sys::Promise {
            promise!(self, |wb| wb.predict_with_adapter(index, &text))
        }

        pub fn merge_texts(&self, n: usize) -> Result<Vec<String>, JsValue> {
            workbench(&self.state)?.merge_texts(n).map_err(err)
        }

        pub fn verify_merge(&self, index: usize, texts: Vec<String>) -> js_sys::Promise {
            promise!(self, |wb| wb.verify_merge(index, &texts))
        }

        /// Classifies `texts` with kept adapter `index`, merged or not; the worker times it (wasm has no clock).
        pub fn run_adapter(&self, index: usize, merged: bool, texts: Vec<String>) -> js_sys::Promise {
            promise!(self, |wb| wb.run_adapter(index, merged, &texts))
        }
    }

    impl Default for Trainer {
        fn default() -> Self {
            Self::new()
        }
    }

    /// The page's WebGPU device, its adapter's name and its largest storage buffer, started on first use.
    pub(super) async fn webgpu() -> Result<(Device, String, u64), JsValue> {
        if let Some(known) = WEBGPU.with(|w| w.borrow().clone()) {
            return Ok(known);
        }
        let (device, setup) = Device::wgpu_options()
            .graphics_api(WgpuBackend::WebGpu)
            .init_with_setup_async()
            .await
            .map_err(|e| err(Error::invalid("device", format!("WebGPU is not available: {e}"))))?;
        let name = setup.adapter.get_info().name;
        let name = if name.is_empty() { "a WebGPU adapter".to_string() } else { name };
        let buffer = u64::from(setup.device.limits().max_storage_buffer_binding_size);
        WEBGPU.with(|w| *w.borrow_mut() = Some((device.clone(), name.clone(), buffer)));
        Ok((device, name, buffer))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The language-model page's worker (`lm.html`): thin wrappers over `train::causal::lab::Lab`.
// ---------------------------------------------------------------------------------------------------------------

#[cfg(feature = "train")]
mod lm {
    use std::cell::{RefCell, RefMut};
    use std::rc::Rc;

    use burn::tensor::Device;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::future_to_promise;

    use super::{files_to_js, read_json, to_js};
    use crate::data;
    use crate::error::Error;
    use crate::model::causal::files::{LmFiles, LmSource};
    use crate::model::causal::generate::Sampling;
    use crate::train::causal::lab::Lab;
    use crate::train::causal::plan::plan_from_json;

    fn err(e: Error) -> JsValue {
        to_js(&e)
    }

    fn reply<T: serde::Serialize>(result: Result<T, Error>) -> Result<JsValue, JsValue> {
        result.map(|v| to_js(&v)).map_err(err)
    }

    fn lab(state: &Rc<RefCell<Lab>>) -> Result<RefMut<'_, Lab>, JsValue> {
        state.try_borrow_mut().map_err(|_| err(Error::busy("model", "is busy with another call")))
    }

    macro_rules! promise {
        ($self:ident, |$lab:ident| $body:expr) => {{
            let state = $self.state.clone();
            future_to_promise(async move {
                #[allow(unused_mut)]
                let mut $lab = lab(&state)?;
                reply($body.await)
            })
        }};
    }

    #[wasm_bindgen]
    pub struct LmLab {
        state: Rc<RefCell<Lab>>,
    }

    #[wasm_bindgen]
    impl LmLab {
        #[wasm_bindgen(constructor)]
        pub fn new() -> LmLab {
            let mut lab = Lab::new(Device::flex());
            lab.set_host_bytes(crate::train::causal::budget::tab());
            LmLab { state: Rc::new(RefCell::new(lab)) }
        }

        /// The language-model lesson's built-in data (`lora-lesson`).
        pub fn builtin_dataset(name: &str) -> Option<String> {
            data::builtin::builtin(name).map(str::to_string)
        }

        /// `"webgpu"` or `"cpu"`; resolves with the device's name.
        pub fn set_device(&self, kind: String) -> js_sys::Promise {
            let state = self.state.clone();
            future_to_promise(async move {
                let (device, name) = match kind.as_str() {
                    "webgpu" => {
                        let (device, adapter, _) = super::trainer::webgpu().await?;
                        (device, adapter)
                    }
                    _ => (Device::flex(), "CPU".to_string()),
                };
                lab(&state)?.set_device(device);
                Ok(JsValue::from_str(&name))
            })
        }

        /// `"float32"`, `"float16"`, `"nf4"` or `"as-stored"`: how the next model loads (the page's *Base weights*).
        pub fn set_base(&self, base: String) -> Result<(), JsValue> {
            let base = crate::model::packed::Base::parse(&base).map_err(|m| err(Error::invalid("base", m)))?;
            lab(&self.state)?.set_base(base);
            Ok(())
        }

        /// A GGUF file's bytes.
        pub fn load_gguf(&self, name: String, bytes: Vec<u8>) -> Result<JsValue, JsValue> {
            reply(lab(&self.state)?.load_model(LmFiles::new(name, LmSource::Gguf(bytes.into()))))
        }

        /// A model folder's files (`tokenizer_config_json`, `chat_template` optional).
        pub fn load_folder(
            &self,
            name: String,
            config_json: String,
            tokenizer_json: Vec<u8>,
            safetensors: Vec<u8>,
            tokenizer_config_json: Option<String>,
            chat_template: Option<String>,
        ) -> Result<JsValue, JsValue> {
            let source = LmSource::Folder {
                config_json,
                tokenizer_json,
                safetensors,
                tokenizer_config_json,
                chat_template_jinja: chat_template,
            };
            reply(lab(&self.state)?.load_model(LmFiles::new(name, source)))
        }

        pub fn load_data(
            &self,
            name: &str,
            bytes: &[u8],
            val_fraction: f64,
            seed: u64,
            max_len: usize,
        ) -> Result<JsValue, JsValue> {
            reply(lab(&self.state)?.load_data(name, bytes, val_fraction, seed, max_len))
        }

        pub fn preview(&self) -> Result<JsValue, JsValue> {
            reply(lab(&self.state)?.preview())
        }

        pub fn held_out_prompts(&self) -> Result<JsValue, JsValue> {
            Ok(to_js(&lab(&self.state)?.held_out_prompts()))
        }

        pub fn start(&self, plan: JsValue) -> js_sys::Promise {
            let plan = read_json(&plan, "plan").and_then(|v| plan_from_json(&v).map_err(err));
            let state = self.state.clone();
            future_to_promise(async move { reply(lab(&state)?.start(plan?).await) })
        }

        pub fn step(&self) -> js_sys::Promise {
            promise!(self, |l| l.step())
        }

        /// Begins an answer (`adapter`: the trained one, else the base model); `next_token` writes it.
        pub fn begin_answer(
            &self,
            prompt: &str,
            adapter: bool,
            chat: bool,
            max_new_tokens: usize,
            temperature: f64,
            seed: u64,
        ) -> Result<JsValue, JsValue> {
            let sampling = Sampling { temperature, seed, ..Sampling::greedy(max_new_tokens) };
            reply(lab(&self.state)?.begin_answer(prompt, adapter, chat, sampling))
        }

        pub fn next_token(&self) -> js_sys::Promise {
            promise!(self, |l| l.next_token())
        }

        /// `[[name, Uint8Array], ...]`: the adapter's files.
        pub fn export_adapter(&self) -> js_sys::Promise {
            let state = self.state.clone();
            future_to_promise(async move { Ok(files_to_js(lab(&state)?.export_adapter().await.map_err(err)?)) })
        }

        /// The page's settings as a PEFT notebook and script with the data, before or after a run.
        pub fn export_notebook(&self, plan: JsValue) -> Result<JsValue, JsValue> {
            let plan = read_json(&plan, "plan").and_then(|v| plan_from_json(&v).map_err(err))?;
            Ok(files_to_js(lab(&self.state)?.export_notebook(Some(plan)).map_err(err)?))
        }
    }

    impl Default for LmLab {
        fn default() -> Self {
            Self::new()
        }
    }
}
