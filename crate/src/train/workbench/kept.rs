//! The adapters kept over the loaded base model (as saved folders, so a device change rebuilds them) and the merge
//! check on the current job's own validation texts.

use super::{Folder, Workbench};
use crate::data::split::stratified;
use crate::error::Error;
use crate::inspect::report::{Inside, inside};
use crate::model::checkpoint_keys::{checkpoint_key, checkpoint_prefix};
use crate::model::export::NamedTensors;
use crate::model::methods::Method;
use crate::safetensors::SafeTensors;
use crate::train::adapters::AdapterSet;
use crate::train::folder::{Saved, read_saved};
use crate::train::job::Prediction;
use crate::train::merge::MergeCheck;
use crate::train::plan::Plan;
use crate::train::replies::AdapterSummary;

impl Workbench {
    /// Keeps the model as it is now in the adapter list, through its saved files (so the list holds exactly what
    /// a download gives).
    pub async fn keep_job(&mut self, name: &str) -> Result<AdapterSummary, Error> {
        let folder: Folder = self.export_job().await?.into_iter().collect();
        self.add_adapter(name, folder)
    }

    /// The adapter set on the current device, built (from the kept folders) when first needed.
    fn adapter_set(&mut self) -> Result<&mut AdapterSet, Error> {
        if self.adapters.is_none() {
            let mut set = AdapterSet::new(self.files()?, self.device()?)?;
            for (name, folder) in &self.kept {
                set.add(name, folder)?;
            }
            self.adapters = Some(set);
        }
        Ok(self.adapters.as_mut().expect("just built"))
    }

    /// Keeps a saved folder (PEFT's adapter files, or ours) over the loaded base model. A folder that does not fit
    /// is refused and nothing is kept.
    pub fn add_adapter(&mut self, name: &str, folder: Folder) -> Result<AdapterSummary, Error> {
        self.adapter_set()?.add(name, &folder)?;
        self.kept.push((name.to_string(), folder));
        self.adapters()
    }

    pub fn remove_adapter(&mut self, index: usize) -> Result<AdapterSummary, Error> {
        self.adapter_set()?.remove(index)?;
        self.kept.remove(index);
        self.adapters()
    }

    /// The kept adapters and the memory of the base once plus each against one copy per adapter.
    pub fn adapters(&mut self) -> Result<AdapterSummary, Error> {
        let set = self.adapter_set()?;
        Ok(AdapterSummary { adapters: set.infos(), memory: set.memory() })
    }

    pub async fn predict_with_adapter(&mut self, index: usize, text: &str) -> Result<Prediction, Error> {
        self.adapter_set()?.predict(index, text).await
    }

    /// Up to `n` validation texts of the current job's split (of the default plan's split with no job), to check a
    /// merge on texts no adapter trained on.
    pub fn merge_texts(&self, n: usize) -> Result<Vec<String>, Error> {
        let d = self
            .data
            .as_ref()
            .ok_or_else(|| Error::invalid("data", "load a dataset first: a merge is checked on its texts"))?;
        let plan = self.job.as_ref().map_or_else(Plan::default, |j| j.plan().clone());
        let (_, val) = stratified(&d.examples, d.labels.len(), plan.val_fraction, plan.train.seed);
        Ok(val.into_iter().take(n).map(|e| e.text).collect())
    }

    /// Kept adapter `index` merged into the weights against as it is, on `texts`.
    pub async fn verify_merge(&mut self, index: usize, texts: &[String]) -> Result<MergeCheck, Error> {
        self.adapter_set()?.verify_merge(index, texts).await
    }

    /// Classifies `texts` with kept adapter `index`, merged or not (the caller times it).
    pub async fn run_adapter(&mut self, index: usize, merged: bool, texts: &[String]) -> Result<(), Error> {
        self.adapter_set()?.logits(index, merged, texts).await.map(|_| ())
    }

    /// Inside kept LoRA adapter `index` (`inspect` in the CLI): each update against its frozen weight; with
    /// `compare`, the subspace similarity of its `A` matrices with another kept LoRA adapter's, or, when `compare`
    /// is a kept full fine-tuning run, the spectrum of what that run changed in the same modules.
    pub fn inspect_adapter(&self, index: usize, compare: Option<usize>) -> Result<Inside, Error> {
        let files = self.files()?;
        let config = files.encoder_config()?;
        let kept = |i: usize, allowed: &[Method]| -> Result<(String, Saved), Error> {
            let (name, folder) =
                self.kept.get(i).ok_or_else(|| Error::invalid("adapter", format!("no kept adapter {i}")))?;
            let saved = read_saved(&config, folder)?;
            if !allowed.contains(&saved.method) {
                let what = if allowed.len() == 1 {
                    "only a LoRA adapter has B A to look inside"
                } else {
                    "compare with a LoRA adapter or a full fine-tuning run"
                };
                return Err(Error::invalid("adapter", format!("{name} is a {} run: {what}", saved.method.name())));
            }
            Ok((name.clone(), saved))
        };
        let lora = |i: usize| kept(i, &[Method::Lora]);
        let (name, adapter) = lora(index)?;
        // The frozen weights of the adapted modules, from the checkpoint under the names the loader read them by.
        let weights = SafeTensors::parse("model.safetensors", &files.safetensors)?;
        let prefix = checkpoint_prefix(&weights, config.flavor)?;
        let mut base = NamedTensors::new();
        for module in &adapter.lora_modules {
            let key = format!("{module}.weight");
            let (values, shape) = weights.f32(&checkpoint_key(&weights, config.flavor, &prefix, &key))?;
            base.insert(key, (values, shape, false));
        }
        let other = compare.map(|i| kept(i, &[Method::Lora, Method::Full])).transpose()?;
        inside(&name, &adapter, &base, other.as_ref().map(|(n, s)| (n.as_str(), s)))
    }
}
