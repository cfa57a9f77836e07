//! What the language-model page downloads after a run: PEFT's adapter, the same adapter as llama.cpp's LoRA GGUF,
//! and the run as a PEFT notebook and script with its data (`notebook`).

use super::adapter::peft_causal_adapter;
use super::lab::Lab;
use super::trainer::LmPlan;
use crate::accounting::report::peft_line;
use crate::data::builtin::is_builtin;
use crate::error::Error;
use crate::model::causal::files::AdapterFiles;
use crate::model::causal::llama_cpp::lora_gguf;
use crate::notebook::{self, Run, RunExport, model_and_gguf};

impl Lab {
    /// The trained adapter's files, `[(name, bytes)]`: PEFT's two, and the same adapter as llama.cpp's LoRA GGUF
    /// (`adapter.gguf`, for llama.cpp, Ollama or LM Studio on top of the base GGUF).
    pub async fn export_adapter(&self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let (b, plan) = (self.base()?, self.plan.as_ref().ok_or_else(|| Error::invalid("run", "train a run first"))?);
        let tuned = self.tuned.as_ref().ok_or_else(|| Error::invalid("run", "train at least one epoch first"))?;
        let files = self.files.as_ref().ok_or_else(|| Error::invalid("model", "load a model first"))?;
        let mut out = peft_causal_adapter(tuned, b.config.flavor, &plan.lora, plan.lora_dropout, &files.name).await?;
        let get = |n: &str| out.iter().find(|(f, _)| f == n).map(|(_, d)| d.clone()).unwrap_or_default();
        let adapter = AdapterFiles {
            config_json: String::from_utf8(get("adapter_config.json")).unwrap_or_default(),
            safetensors: get("adapter_model.safetensors"),
        };
        out.push(("adapter.gguf".into(), lora_gguf(files, &adapter, "adapter")?));
        out.extend(self.export_notebook(None)?);
        Ok(out)
    }

    /// A run as a PEFT notebook and script with its data file (`notebook`): `run.ipynb`, `run.py`, the data. For
    /// `plan` (the page's settings now), or, without one, for the run last started; the counts are the run's when
    /// it is that run's plan (a plan not yet run is counted when it starts).
    pub fn export_notebook(&self, plan: Option<LmPlan>) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let plan = match plan.or_else(|| self.plan.clone()) {
            Some(p) => p,
            None => return Err(Error::invalid("run", "start a run first")),
        };
        let counted = self.trainer.as_ref().filter(|_| self.plan.as_ref() == Some(&plan));
        let figure = counted.map_or_else(
            || "(counted when the run starts: press Start in the page)".to_string(),
            |t| peft_line(t.trainable, t.total),
        );
        let (name, bytes, val_fraction) =
            self.data_file.as_ref().ok_or_else(|| Error::invalid("data", "load data first"))?;
        let files = self.files.as_ref().ok_or_else(|| Error::invalid("model", "load a model first"))?;
        let (model, gguf_file) = model_and_gguf(&files.name, None);
        let export = RunExport {
            run: Run::CausalLm { plan, max_len: self.max_len, val_fraction: *val_fraction },
            model,
            gguf_file,
            data_file: name.clone(),
            builtin_data: is_builtin(name, bytes),
            page_figure: figure,
            origin: "Settings from LoRA Playground's language-model page, as a Hugging Face PEFT script.".into(),
        };
        notebook::files(&export, bytes)
    }
}
