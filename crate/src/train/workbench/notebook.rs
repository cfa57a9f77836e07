//! The training page's run as a PEFT notebook and script (`notebook`), downloaded beside its adapter, or for the
//! settings on the page before any run: the plan, the classes of the data, the model's name, and the data file as
//! it was loaded.

use super::Workbench;
use crate::accounting::report::peft_line;
use crate::data::builtin::is_builtin;
use crate::error::Error;
use crate::notebook::{self, Run, RunExport, model_and_gguf};
use crate::train::folder::{expected_counts, peft_counts};
use crate::train::plan::Plan;

impl Workbench {
    /// `run.ipynb`, `run.py` and the data file, by name: for `plan` (the page's settings now), or, without one, for
    /// the job last trained, with its counts.
    pub fn export_notebook(&self, plan: Option<Plan>) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let (name, bytes) = self.data_file.as_ref().ok_or_else(|| Error::invalid("data", "load data first"))?;
        let files = self.files()?;
        let labels = self.dataset()?.labels.clone();
        let job = self.job.as_ref().filter(|j| plan.as_ref().is_none_or(|p| p == j.plan()));
        let (plan, figures) = match (job, plan) {
            (Some(job), _) => {
                let info = job.info();
                let live = (info.trainable, info.total);
                (job.plan().clone(), peft_counts(files, job.plan(), labels.len()).unwrap_or(live))
            }
            (None, Some(plan)) => {
                let figures = expected_counts(files, &plan, labels.len())
                    .ok_or_else(|| Error::invalid("plan", "these settings do not fit the loaded model"))?;
                (plan, figures)
            }
            (None, None) => return Err(Error::invalid("run", "train a run first")),
        };
        let (model, gguf_file) = model_and_gguf(&files.name, None);
        let export = RunExport {
            run: Run::Classifier { plan, labels },
            model,
            gguf_file,
            data_file: name.clone(),
            builtin_data: is_builtin(name, bytes),
            page_figure: peft_line(figures.0, figures.1),
            origin: "Settings from LoRA Playground's training page, as a Hugging Face PEFT script.".into(),
        };
        notebook::files(&export, bytes)
    }
}
